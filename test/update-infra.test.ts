/**
 * The shared `--update` infrastructure (engine/update.ts) on real datasets, real appends and
 * real backtest outputs: the manifest's input record, the new files and their partitions,
 * the refusals, the options taken from the previous run, and the commit protocol's roll
 * forward (idempotent) and discard.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256File } from '../datasets/layout.js';
import { Engine, ingest } from '../engine/index.js';
import { BarstreamError } from '../engine/errors.js';
import {
  checkUpdateFlags, commitUpdate, discardStaging, newInput, readPreviousRun, resolveOptions, rollForward, stagingFolder, updatePartitions,
} from '../engine/update.js';
import { Cell, writeCsv } from './util/csv.js';
import { withTempDir } from './util/tmp.js';

const HEADER = ['symbol', 'ts', 'open', 'high', 'low', 'close', 'volume'];
const DAY_MS = 86_400_000;
const T0 = Date.UTC(2021, 0, 1);

/** Bars `from..from+n` of `symbol`: a deterministic zig-zag, valid OHLC. */
function bars(symbol: string, from: number, n: number, scale = 1): Cell[][] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    const c = scale * (100 + 10 * Math.sin(i / 7) + i * 0.05);
    return [symbol, new Date(T0 + i * DAY_MS).toISOString(), c, c * 1.01, c * 0.99, c, 1000 + i];
  });
}

const SYMBOLS = ['AAA', 'BBB', 'CCC', 'DDD'];

async function withEngine<T>(ds: string, body: (e: Engine) => Promise<T>): Promise<T> {
  const e = await Engine.open({ dataset: ds, threads: 1 });
  try {
    return await body(e);
  } finally {
    e.close();
  }
}

async function refusal(p: Promise<unknown> | (() => unknown)): Promise<BarstreamError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (e instanceof BarstreamError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('update infrastructure', () => {
  it('records the input, finds the new files after an append, plans partitions over only them, and refuses what changed', async () => {
    await withTempDir(async (tmp) => {
      const base = join(tmp, 'base.csv');
      const more = join(tmp, 'more.csv');
      await writeCsv(base, HEADER, SYMBOLS.flatMap((s) => bars(s, 0, 60)));
      await writeCsv(more, HEADER, [...bars('AAA', 60, 5), ...bars('NEW', 0, 3)]);
      const ds = join(tmp, 'ds');
      await ingest({ input: base, out: ds, buckets: 2 });
      const out = join(tmp, 'bt');
      await withEngine(ds, (e) => e.backtest({ out }));

      // The manifest's input: the dataset's files with metadata.json's checksums (which are the files').
      const manifest = JSON.parse(readFileSync(join(out, '_manifest.json'), 'utf8'));
      expect(manifest.generation).toBe(0);
      const meta0 = JSON.parse(readFileSync(join(ds, 'metadata.json'), 'utf8'));
      expect(manifest.input.dataset).toBe(ds);
      expect(manifest.input.generation).toBe(0);
      expect(manifest.input.files.map((f: { path: string }) => f.path)).toEqual(meta0.files.map((f: { path: string }) => f.path));
      for (const f of manifest.input.files) expect(f.sha256).toBe(await sha256File(join(ds, f.path)));
      expect(manifest.input.files.reduce((s: number, f: { rows: number }) => s + f.rows, 0)).toBe(SYMBOLS.length * 60);

      const prev = await readPreviousRun(out, 'backtest');
      expect(prev.generation).toBe(0);
      await withEngine(ds, async (e) => expect(newInput(e, prev)).toMatchObject({ paths: [], rows: 0, files: [] }));

      await ingest({ input: more, out: ds, append: true });
      const meta1 = JSON.parse(readFileSync(join(ds, 'metadata.json'), 'utf8'));
      const added = meta1.files.filter((f: { generation: number }) => f.generation === 1).map((f: { path: string }) => f.path);
      await withEngine(ds, async (e) => {
        const n = newInput(e, prev);
        expect(n.paths).toEqual(added);
        expect(n.rows).toBe(8);
        expect(n.input.generation).toBe(1);
        expect(n.files.map((f) => f.path)).toEqual(added.map((p: string) => join(ds, p)));
        const parts = updatePartitions(n.files, { columns: ['close'], sorted: false });
        expect(parts.map((p) => p.bucket).sort()).toEqual([...new Set(added.map((p: string) => Number(/bucket=(\d+)/.exec(p)![1])))].sort());
        for (const p of parts) {
          for (const f of meta1.files) expect(p.sql.includes(join(ds, f.path))).toBe(added.includes(f.path) && f.path.startsWith(`bucket=${p.bucket}/`));
        }
        expect((await refusal(() => updatePartitions(n.files, { sql: 'SELECT 1', columns: ['close'], sorted: false }))).message).toMatch(/does not read bars/);
      });

      // Another dataset: refused naming both.
      const other = join(tmp, 'other');
      await ingest({ input: base, out: other, buckets: 2 });
      await withEngine(other, async (e) => {
        const err = await refusal(() => newInput(e, prev));
        expect(err.code).toBe('BARSTREAM_INVALID_PARAM');
        expect(err.message).toContain(ds);
        expect(err.message).toContain(other);
      });

      // Re-ingested with other data: a file the run read changed, named.
      await writeCsv(base, HEADER, SYMBOLS.flatMap((s) => bars(s, 0, 60, 2)));
      await ingest({ input: base, out: ds, buckets: 2, overwrite: true });
      await withEngine(ds, async (e) => {
        const err = await refusal(() => newInput(e, prev));
        expect(err.message).toMatch(new RegExp(`dataset file ${ds}/bucket=\\d+/part-0\\.parquet, read by the previous run, has changed`));
      });
      // The same data again (the same files), then a file it read gone from the dataset.
      await writeCsv(base, HEADER, SYMBOLS.flatMap((s) => bars(s, 0, 60)));
      await ingest({ input: base, out: ds, buckets: 2, overwrite: true });
      await withEngine(ds, async (e) => expect(newInput(e, prev).rows).toBe(0));
      const meta = JSON.parse(readFileSync(join(ds, 'metadata.json'), 'utf8'));
      meta.files = meta.files.filter((f: { path: string }) => f.path !== 'bucket=1/part-0.parquet');
      await writeFile(join(ds, 'metadata.json'), JSON.stringify(meta));
      await rm(join(ds, 'bucket=1', 'part-0.parquet'));
      await withEngine(ds, async (e) => expect((await refusal(() => newInput(e, prev))).message).toMatch(/bucket=1\/part-0\.parquet, read by the previous run, has vanished/));
    });
  });

  it('refuses an incomplete or foreign output and update with resume, overwrite or shard; takes left-out options from the previous run', async () => {
    await withTempDir(async (tmp) => {
      const base = join(tmp, 'base.csv');
      await writeCsv(base, HEADER, SYMBOLS.flatMap((s) => bars(s, 0, 40)));
      const ds = join(tmp, 'ds');
      await ingest({ input: base, out: ds, buckets: 2 });
      expect((await refusal(readPreviousRun(ds, 'backtest'))).message).toMatch(/holds a barstream dataset, not a finished backtest/);
      expect((await refusal(readPreviousRun(join(tmp, 'none'), 'backtest'))).message).toMatch(/holds nothing/);
      const out = join(tmp, 'bt');
      await withEngine(ds, (e) => e.backtest({ out }));
      await rm(join(out, '_manifest.json'));
      expect((await refusal(readPreviousRun(out, 'backtest'))).message).toMatch(/previous backtest is incomplete/);
      for (const o of [{ resume: true }, { overwrite: true }, { shard: { index: 0, count: 2 } }]) {
        expect((await refusal(() => checkUpdateFlags({ update: true, ...o }))).message).toContain(`combined with ${Object.keys(o)[0]}`);
      }
      checkUpdateFlags({ update: false, overwrite: true });

      const prev = { feeBps: 0, longOnly: false, strategy: { name: 'atc', params: { robustness: 'Medium' } } };
      expect(resolveOptions(out, {}, prev)).toEqual(prev);
      expect(resolveOptions(out, { feeBps: 0, strategy: { params: { robustness: 'Medium' }, name: 'atc' } }, prev)).toEqual(prev);
      const err = await refusal(() => resolveOptions(out, { feeBps: 5 }, prev, { feeBps: 'feeBps (--fee-bps)' }));
      expect(err.code).toBe('BARSTREAM_INVALID_PARAM');
      expect(err.message).toMatch(/feeBps \(--fee-bps\) 5 differs from the previous run's 0/);
    });
  });

  it('rolls a decided update forward (idempotent, also half done) and discards an undecided one', async () => {
    await withTempDir(async (out) => {
      await mkdir(join(out, 'summary'), { recursive: true });
      await writeFile(join(out, 'summary', 'part-0.parquet'), 'old');
      await writeFile(join(out, '_manifest.json'), '{"format":"barstream-backtest/1","generation":0}\n');
      const g1 = stagingFolder(out, 1);
      await mkdir(join(g1, 'signals', 'bucket=0'), { recursive: true });
      await mkdir(join(g1, 'summary'), { recursive: true });
      await writeFile(join(g1, 'signals', 'bucket=0', 'part-1.parquet'), 'new signals');
      await writeFile(join(g1, 'summary', 'part-0.parquet'), 'new summary');
      // Undecided: discarded, the live files untouched.
      await discardStaging(out);
      expect(existsSync(join(out, '_staging'))).toBe(false);
      expect(await readFile(join(out, 'summary', 'part-0.parquet'), 'utf8')).toBe('old');

      await mkdir(join(g1, 'signals', 'bucket=0'), { recursive: true });
      await mkdir(join(g1, 'summary'), { recursive: true });
      await writeFile(join(g1, 'signals', 'bucket=0', 'part-1.parquet'), 'new signals');
      await writeFile(join(g1, 'summary', 'part-0.parquet'), 'new summary');
      const manifest = { format: 'barstream-backtest/1', generation: 1 };
      const moves = ['signals/bucket=0/part-1.parquet', 'summary/part-0.parquet'];
      // Decided, then killed after the first move: the next reader completes it.
      await writeFile(join(g1, '_commit.json'), JSON.stringify({ generation: 1, moves, manifest }));
      await mkdir(join(out, 'signals', 'bucket=0'), { recursive: true });
      await writeFile(join(out, 'signals', 'bucket=0', 'part-1.parquet'), 'new signals');
      await rm(join(g1, 'signals', 'bucket=0', 'part-1.parquet'));
      await discardStaging(out); // a decided update is not discarded
      expect(existsSync(join(g1, '_commit.json'))).toBe(true);
      expect(await rollForward(out)).toEqual([1]);
      expect(await rollForward(out)).toEqual([]);
      expect(await readFile(join(out, 'summary', 'part-0.parquet'), 'utf8')).toBe('new summary');
      expect(await readFile(join(out, 'signals', 'bucket=0', 'part-1.parquet'), 'utf8')).toBe('new signals');
      expect(JSON.parse(await readFile(join(out, '_manifest.json'), 'utf8'))).toEqual(manifest);
      expect(existsSync(join(out, '_staging'))).toBe(false);

      // commitUpdate does all three steps.
      const g2 = stagingFolder(out, 2);
      await mkdir(join(g2, 'summary'), { recursive: true });
      await writeFile(join(g2, 'summary', 'part-0.parquet'), 'newer');
      await commitUpdate(out, { generation: 2, moves: ['summary/part-0.parquet'], manifest: { format: 'barstream-backtest/1', generation: 2 } });
      expect(await readFile(join(out, 'summary', 'part-0.parquet'), 'utf8')).toBe('newer');
      expect(JSON.parse(await readFile(join(out, '_manifest.json'), 'utf8'))).toEqual({ format: 'barstream-backtest/1', generation: 2 });
      expect(existsSync(join(out, '_staging'))).toBe(false);

      // A folder barstream did not write keeps its own `_staging/`, decided-looking or not.
      const foreign = join(out, 'foreign');
      await mkdir(join(foreign, '_staging', 'g1', 'summary'), { recursive: true });
      await writeFile(join(foreign, 'mine.txt'), 'not barstream');
      await writeFile(join(foreign, '_staging', 'g1', 'summary', 'part-0.parquet'), 'theirs');
      await writeFile(join(foreign, '_staging', 'g1', '_commit.json'), JSON.stringify({ generation: 1, moves: ['summary/part-0.parquet'], manifest: {} }));
      expect(await rollForward(foreign)).toEqual([]);
      await discardStaging(foreign);
      expect(await readFile(join(foreign, '_staging', 'g1', 'summary', 'part-0.parquet'), 'utf8')).toBe('theirs');
      expect(existsSync(join(foreign, '_manifest.json'))).toBe(false);
    });
  });
});
