/**
 * Sharded backtests, scans and screens merged by `merge(out)`: the merged output equals a
 * single run row for row (through the same files and query views), and merge refuses a
 * missing shard, other parameters, a changed input, overlapping buckets, a corrupted file and
 * mixed shard counts, writing no manifest. A retried shard replaces only its own files.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { copyFile, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256File } from '../datasets/layout.js';
import { Engine, generate, merge, query } from '../engine/index.js';
import type { BacktestOptions } from '../engine/backtest.js';
import { cli, cliBuilt, failureCode } from './util/cli.js';
import { rowDiff } from './util/shards.js';

const PARAMS = { length: 14 };
let tmp: string;
let engine: Engine;
const ds = () => join(tmp, 'ds');
const single = () => join(tmp, 'single');

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'barstream-merge-'));
  await generate({ out: ds(), symbols: 30, bars: 300, seed: 5, buckets: 6 });
  engine = await Engine.open({ dataset: ds(), threads: 1 });
  await engine.backtest({ out: single(), strategy: PARAMS, feeBps: 5 });
});

afterAll(async () => {
  engine?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Runs the backtest shards `indices` of `count` into `out`. */
async function shards(out: string, count: number, indices: number[], opts: Partial<BacktestOptions> = {}, on = engine) {
  const results = [];
  for (const index of indices) results.push(await on.backtest({ out, strategy: PARAMS, feeBps: 5, shard: { index, count }, ...opts }));
  return results;
}

async function expectSameAsSingle(out: string) {
  for (const view of ['signals', 'summary', 'trades', 'errors'] as const) {
    const d = await rowDiff(out, single(), view);
    expect(d, view).toMatchObject({ onlyA: 0, onlyB: 0 });
    expect(d.rowsA, view).toBe(d.rowsB);
  }
}

const refusal = async (out: string) => {
  const e = await merge(out).then(
    () => undefined,
    (err: unknown) => err as { code: string; message: string },
  );
  expect(e, 'merge should refuse').toBeDefined();
  expect(e!.code).toBe('BARSTREAM_BAD_INPUT');
  expect(e!.message).not.toContain('\n');
  expect(existsSync(join(out, '_manifest.json'))).toBe(false);
  return e!.message;
};

describe('a sharded backtest', () => {
  it('writes no manifest per shard, reads as incomplete naming the shards present, and merged equals a single run', async () => {
    const out = join(tmp, 'bt3');
    const [r0] = await shards(out, 3, [0, 2]);
    expect(r0.shard).toMatchObject({ index: 0, count: 3, buckets: [0, 3], allBuckets: [0, 1, 2, 3, 4, 5], kind: 'backtest' });
    expect(r0.shard!.inputs.map((f) => f.path)).toEqual(engine.files);
    expect(existsSync(join(out, '_manifest.json'))).toBe(false);
    await expect(query('SELECT count(*) FROM signals', { results: out })).rejects.toThrow(/incomplete: it has no _manifest.json \(a sharded job not merged yet.*shards present: 0, 2 \(2 of 3\)/);
    await shards(out, 3, [1]);
    const m = await merge(out);
    expect(m).toMatchObject({ kind: 'backtest', shards: 3 });
    const want = JSON.parse(await readFile(join(single(), '_manifest.json'), 'utf8'));
    expect(m.manifest).toMatchObject({ format: want.format, strategy: want.strategy, counts: want.counts });
    expect((m.manifest.files as { path: string }[]).map((f) => f.path).sort()).toEqual(want.files.map((f: { path: string }) => f.path).sort());
    expect((m.manifest.shards as { count: number }).count).toBe(3);
    await expectSameAsSingle(out);
    // The views read the merged output like a single run's.
    const t = await query('SELECT count(*) AS n FROM signals', { results: out });
    expect(Number(t.getChild('n')!.get(0))).toBe(want.counts.signalRows);
  });

  it('more shards than buckets: the empty shards are recorded and the merge is whole', async () => {
    const out = join(tmp, 'bt8');
    await shards(out, 8, [0, 1, 2, 3, 4, 5, 6, 7]);
    expect((await merge(out)).manifest.counts).toMatchObject({ buckets: 6, symbols: 30 });
    await expectSameAsSingle(out);
  });

  it('a shard of a merged output is refused unless --overwrite, which unseals it', async () => {
    const out = join(tmp, 'bt-merged');
    await shards(out, 2, [0, 1]);
    await merge(out);
    await expect(shards(out, 2, [1])).rejects.toThrow(/is already merged \(it has _manifest.json\); pass --overwrite to run shard 1\/2 again/);
    await shards(out, 2, [1], { overwrite: true });
    expect(existsSync(join(out, '_manifest.json'))).toBe(false);
    await merge(out);
    await expectSameAsSingle(out);
  });
});

describe('merge refuses', () => {
  it('a missing shard, naming its index', async () => {
    const out = join(tmp, 'missing');
    await shards(out, 4, [0, 2]);
    expect(await refusal(out)).toMatch(/shards 1, 3 of 4 are missing \(found 2: 0, 2\)/);
  });

  it.skipIf(!cliBuilt)('barstream merge: one line with a code and exit 1; a folder that is no sharded output', async () => {
    const out = join(tmp, 'missing-cli');
    await shards(out, 3, [1]);
    const r = cli(['merge', out]);
    expect(r.status).toBe(1);
    expect(failureCode(r.stderr), r.stderr).toBe('BARSTREAM_BAD_INPUT');
    expect(r.stderr).toContain('shards 0, 2 of 3 are missing (found 1: 1)');
    expect(existsSync(join(out, '_manifest.json'))).toBe(false);
    const single1 = cli(['merge', single()]);
    expect(failureCode(single1.stderr), single1.stderr).toBe('BARSTREAM_BAD_INPUT');
    expect(single1.stderr).toContain('is the output of a single run');
    const none = cli(['merge', join(tmp, 'nowhere')]);
    expect(failureCode(none.stderr), none.stderr).toBe('BARSTREAM_IO');
    await shards(out, 3, [0, 2]);
    const ok = cli(['merge', out, '--json']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ kind: 'backtest', shards: 3, counts: { symbols: 30, processed: 30 } });
  });

  it('shards run with different parameters, naming the field', async () => {
    const out = join(tmp, 'params');
    await shards(out, 2, [0]);
    await engine.backtest({ out, strategy: { length: 20 }, feeBps: 5, shard: { index: 1, count: 2 } });
    expect(await refusal(out)).toMatch(/shard 1 and shard 0 were run with different parameters: strategy\.params\.length \(20 vs 14\)/);
  });

  it('an input changed between shards, naming the file', async () => {
    const data = join(tmp, 'ds-changed');
    await generate({ out: data, symbols: 30, bars: 300, seed: 5, buckets: 6 });
    const other = join(tmp, 'ds-other');
    await generate({ out: other, symbols: 30, bars: 300, seed: 6, buckets: 6 });
    const e = await Engine.open({ dataset: data, threads: 1 });
    const out = join(tmp, 'changed');
    try {
      await shards(out, 2, [0], {}, e);
      // A file of the dataset rewritten with other bars after shard 0 ran.
      const file = e.files.find((f) => f.includes('bucket=1'))!;
      await copyFile(file.replace(data, other), file);
      await shards(out, 2, [1], {}, e);
    } finally {
      e.close();
    }
    expect(await refusal(out)).toMatch(/shard 1 and shard 0 read different inputs: input file .*ds-changed\/bucket=1\/part-0\.parquet has other contents/);
  });

  it('overlapping buckets and mixed shard counts', async () => {
    const out = join(tmp, 'overlap');
    await shards(out, 2, [0, 1]);
    const path = join(out, '_shards', 'shard-1-of-2.json');
    const record = JSON.parse(await readFile(path, 'utf8'));
    await writeFile(path, JSON.stringify({ ...record, buckets: [0, ...record.buckets] }));
    expect(await refusal(out)).toMatch(/bucket 0 is in both shard 0 and shard 1; shard sets must be disjoint/);
    await writeFile(path, JSON.stringify(record));
    await shards(out, 3, [2]);
    expect(await refusal(out)).toMatch(/different shard counts: 2 \(shard-0-of-2\.json, shard-1-of-2\.json\) and 3 \(shard-2-of-3\.json\)/);
  });

  it('a corrupted file, naming it; the shard run again replaces it and merge passes', async () => {
    const out = join(tmp, 'corrupt');
    await shards(out, 2, [0, 1]);
    const file = join(out, 'signals', 'bucket=1', 'part-0.parquet');
    const size = statSync(file).size;
    const fd = await open(file, 'r+');
    const [byte] = (await fd.read(Buffer.alloc(1), 0, 1, Math.floor(size / 2))).buffer;
    await fd.write(Buffer.from([byte ^ 0xff]), 0, 1, Math.floor(size / 2));
    await fd.close();
    expect(statSync(file).size).toBe(size);
    expect(await refusal(out)).toMatch(/signals\/bucket=1\/part-0\.parquet \(shard 1\) does not match its sha256.*; run shard 1 again/);
    await shards(out, 2, [1]);
    await merge(out);
    await expectSameAsSingle(out);
  });

  it('a result file no shard lists', async () => {
    const out = join(tmp, 'stray');
    await shards(out, 2, [0, 1]);
    await copyFile(join(out, 'summary', 'part-0.parquet'), join(out, 'summary', 'part-99.parquet'));
    expect(await refusal(out)).toMatch(/summary\/part-99\.parquet is listed by no shard/);
  });
});

describe('a retried shard', () => {
  it('after a partial attempt, replaces only its own files; --resume finishes only its unfinished buckets', async () => {
    const out = join(tmp, 'retry');
    await shards(out, 3, [0, 1, 2]);
    const others = new Map<string, { sha: string; mtimeMs: number }>();
    for (const rel of readdirSync(out, { recursive: true }) as string[]) {
      if (!/(bucket=|part-)[0235]\b|bucket-[0235]\.json|shard-[02]-of-3/.test(rel) || statSync(join(out, rel)).isDirectory()) continue;
      if (/bucket=[14]|part-[14]\./.test(rel)) continue;
      others.set(rel, { sha: await sha256File(join(out, rel)), mtimeMs: statSync(join(out, rel)).mtimeMs });
    }
    expect(others.size).toBeGreaterThan(10);
    // A killed attempt of shard 1: its record gone, one bucket unfinished, a writer's temporary left.
    await rm(join(out, '_shards', 'shard-1-of-3.json'));
    await rm(join(out, '_state', 'bucket-4.json'));
    await writeFile(join(out, 'summary', '.part-4.parquet.tmp-99999'), 'half a file');
    const [resumed] = await shards(out, 3, [1], { resume: true });
    expect(resumed.bucketsRun).toBe(1);
    expect(existsSync(join(out, 'summary', '.part-4.parquet.tmp-99999'))).toBe(false);
    const [again] = await shards(out, 3, [1]);
    expect(again.bucketsRun).toBe(2);
    for (const [rel, was] of others) {
      expect(await sha256File(join(out, rel)), rel).toBe(was.sha);
      expect(statSync(join(out, rel)).mtimeMs, rel).toBe(was.mtimeMs);
    }
    await merge(out);
    await expectSameAsSingle(out);
  });
});

describe('sharded scans and screens', () => {
  it('a scan in 4 shards, merged, gives the same lists as a single run through the scan view', async () => {
    const out = join(tmp, 'scan4');
    for (let index = 0; index < 4; index++) await engine.scan({ out, strategy: PARAMS, shard: { index, count: 4 } });
    expect(readdirSync(out).filter((f) => f.endsWith('.parquet')).sort()).toEqual([0, 1, 2, 3].map((i) => `scan-${i}-of-4.parquet`));
    const m = await merge(out);
    expect(m.manifest).toMatchObject({ format: 'barstream-scan/1', counts: { symbols: 30, processed: 30 } });
    const whole = await engine.scan({ out: join(tmp, 'scan1'), strategy: PARAMS });
    expect(await rowDiff(out, join(tmp, 'scan1'), 'scan')).toMatchObject({ onlyA: 0, onlyB: 0, rowsA: 30 });
    for (const side of ['long', 'short'] as const) {
      const t = await query(`SELECT symbol FROM scan WHERE side = '${side}' AND abs(signal) >= 0.1 ORDER BY abs(signal) DESC, symbol`, { results: out });
      expect(t.toArray().map((r) => r.symbol), side).toEqual(whole[side].map((e) => e.symbol));
    }
  });

  it('a screen in 2 shards (every matching bar), merged, equals a single run', async () => {
    const out = join(tmp, 'screen2');
    const formula = 'f = sma(close, 5)\nclose > f';
    for (let index = 0; index < 2; index++) await engine.screen({ formula, all: true, out, shard: { index, count: 2 } });
    const m = await merge(out);
    const whole = await engine.screen({ formula, all: true, out: join(tmp, 'screen1') });
    expect(m.manifest).toMatchObject({ format: 'barstream-screen/1', counts: whole.manifest!.counts, names: ['f'] });
    expect(await rowDiff(out, join(tmp, 'screen1'), 'matches')).toMatchObject({ onlyA: 0, onlyB: 0, rowsA: whole.matchRows });
    const t = await query('SELECT count(*) AS n FROM matches', { results: out });
    expect(Number(t.getChild('n')!.get(0))).toBe(whole.matchRows);
  });

  it('scan and screen shards need an output folder', async () => {
    await expect(engine.scan({ shard: { index: 0, count: 2 } })).rejects.toThrow(/give out \(--out\) with shard/);
    await expect(engine.screen({ formula: 'close > 1', shard: { index: 0, count: 2 } })).rejects.toThrow(/give out \(--out\) with shard/);
  });
});
