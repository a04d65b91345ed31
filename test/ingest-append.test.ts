/**
 * `ingest --append` (issue 11 item 2) on real CSV files, real Parquet and real processes:
 * new bars and new symbols land in new part files, refused bars are counted by reason under
 * every policy, old files stay byte-identical, and scan/backtest/screen over an appended
 * dataset equal the same over one ingest of all the rows. A kill -9 during an append leaves
 * the previous dataset readable with the previous results; a rerun completes it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256File } from '../datasets/layout.js';
import { Engine, ingest, IngestMetadata, query as barsQuery } from '../engine/index.js';
import { cli, cliBuilt, startCli } from './util/cli.js';
import { Cell, writeCsv } from './util/csv.js';
import { lit, query } from './util/duck.js';
import { Rng } from './util/rng.js';
import { withTempDir } from './util/tmp.js';
import { ingestError } from './util/ingest.js';

const HEADER = ['symbol', 'ts', 'open', 'high', 'low', 'close', 'volume'];
const DAY_MS = 86_400_000;
const T0 = Date.UTC(2020, 0, 1);
const BUCKETS = 3;
const FORMULA = 'fast = sma(close, 5)\nslow = sma(close, 20)\nfast > slow';

/** `n` daily bars of `symbol` from day `from`, a seeded random walk with valid OHLC. */
function bars(symbol: string, from: number, n: number, seed: number): Cell[][] {
  const rng = new Rng(seed);
  let c = 100;
  const all: Cell[][] = [];
  for (let i = 0; i < from + n; i++) {
    c *= 1 + (rng.next() - 0.5) * 0.04;
    const o = c * (1 + (rng.next() - 0.5) * 0.01);
    const hi = Math.max(o, c) * 1.01;
    const lo = Math.min(o, c) * 0.99;
    all.push([symbol, new Date(T0 + i * DAY_MS).toISOString(), o, hi, lo, c, Math.round(rng.next() * 1e6)]);
  }
  return all.slice(from);
}

const SYMBOLS = ['AAA', 'BBB', 'CCC', 'DDD', 'EEE'];
const symbolRows = (s: string, from: number, n: number) => bars(s, from, n, SYMBOLS.indexOf(s) + 1 + (s === 'NEW' ? 99 : 0));

/** Writes the base CSV (days 0..249 of five symbols) and the append CSV (days 250..299, a new symbol, and refused bars). */
async function writeInputs(dir: string) {
  const base = join(dir, 'base.csv');
  const more = join(dir, 'more.csv');
  const all = join(dir, 'all.csv');
  const baseRows = SYMBOLS.flatMap((s) => symbolRows(s, 0, 250));
  const newRows = [...SYMBOLS.flatMap((s) => symbolRows(s, 250, 50)), ...symbolRows('NEW', 0, 300)];
  const hourAfter = (row: Cell[]) => [row[0], new Date(Date.parse(String(row[1])) + 3_600_000).toISOString(), ...row.slice(2)];
  const refused: Cell[][] = [
    symbolRows('AAA', 100, 1)[0], // the dataset holds this (symbol, ts): duplicate
    symbolRows('BBB', 249, 1)[0], // BBB's last bar again: duplicate
    hourAfter(symbolRows('CCC', 100, 1)[0]), // before CCC's last bar, a timestamp the dataset lacks: not_after_last
  ];
  await writeCsv(base, HEADER, baseRows);
  // The refused rows come first so `error` names one of them.
  await writeCsv(more, HEADER, [...refused, ...newRows]);
  await writeCsv(all, HEADER, [...baseRows, ...newRows]);
  return { base, more, all, newRows: newRows.length, refused: refused.length, baseRows: baseRows.length };
}

const meta = (dir: string): IngestMetadata => JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8'));

/** sha256 of every file under the dataset (metadata.json included), by relative path. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? join(rel, e.name) : e.name;
      if (e.isDirectory()) await walk(p);
      else out[p] = await sha256File(join(dir, p));
    }
  };
  await walk('');
  return out;
}

/** The dataset's bars as listed in its metadata.json, read with DuckDB, in (symbol, ts) order. */
async function listedBars(dir: string): Promise<Record<string, unknown>[]> {
  const files = meta(dir).files.map((f) => lit(join(dir, f.path)));
  return query(`SELECT symbol, epoch_us(ts) AS ts, open, high, low, close, volume FROM read_parquet([${files.join(', ')}]) ORDER BY symbol, ts`);
}

async function scanOf(dir: string) {
  const engine = await Engine.open({ dataset: dir, threads: 2 });
  try {
    const r = await engine.scan({ minSignal: 0 });
    return { symbols: r.symbols, long: r.long, short: r.short, processed: r.processed, failed: r.failed, skipped: r.skipped };
  } finally {
    engine.close();
  }
}

/** Bars `barstream query --data` sees in the dataset. */
async function barsCount(dir: string): Promise<number> {
  const t = await barsQuery('SELECT count(*)::INTEGER AS n FROM bars', { data: dir });
  return Number(t.getChild('n')!.get(0));
}

describe('ingest --append', () => {
  it('adds new bars and new symbols as new part files, refuses bars at or before the last, keeps old files byte-identical', async () => {
    await withTempDir(async (tmp) => {
      const inp = await writeInputs(tmp);
      const ds = join(tmp, 'ds');
      await ingest({ input: inp.base, out: ds, buckets: BUCKETS });
      const m0 = meta(ds);
      expect(m0.generation).toBe(0);
      expect(m0.files.every((f) => f.generation === 0 && /^bucket=\d+\/part-0\.parquet$/.test(f.path))).toBe(true);
      const before = await snapshot(ds);

      const r = await ingest({ input: inp.more, out: ds, append: true, onBadRows: 'quarantine' });
      expect(r.read).toBe(inp.newRows + inp.refused);
      expect(r.written).toBe(inp.newRows);
      expect(r.rejected).toBe(inp.refused);
      expect(r.byReason).toEqual({ duplicate: 2, not_after_last: 1 });
      expect(r.read).toBe(r.written + r.rejected);
      expect(r.generation).toBe(1);
      expect(r.symbolsAdded).toBe(1);

      // Old files untouched; the new ones are part-1 of their buckets, listed with checksums.
      const after = await snapshot(ds);
      for (const [p, h] of Object.entries(before)) if (p !== 'metadata.json') expect(after[p], p).toBe(h);
      const m1 = meta(ds);
      expect(m1.generation).toBe(1);
      expect(m1.rows).toBe(inp.baseRows + inp.newRows);
      expect(m1.symbols).toBe(6);
      expect(m1.buckets).toBe(BUCKETS);
      expect(m1.counts).toMatchObject({ read: inp.baseRows + r.read, written: inp.baseRows + r.written, rejected: r.rejected });
      const added = m1.files.filter((f) => f.generation === 1);
      expect(added.length).toBeGreaterThan(0);
      // part-1 in a bucket that had part-0; part-0 in a bucket the dataset did not use yet (a new symbol's).
      const oldBuckets = new Set(m0.files.map((f) => f.path.split('/')[0]));
      for (const f of added) expect(f.path).toBe(`${f.path.split('/')[0]}/part-${oldBuckets.has(f.path.split('/')[0]) ? 1 : 0}.parquet`);
      expect(added.filter((f) => f.path.endsWith('part-1.parquet')).length).toBeGreaterThan(0);
      expect(added.reduce((s, f) => s + f.rows, 0)).toBe(inp.newRows);
      for (const f of m1.files) expect(await sha256File(join(ds, f.path))).toBe(f.sha256);
      expect(m1.files.slice(0, m0.files.length)).toEqual(m0.files);

      // Every symbol's new rows are in the bucket that already held it.
      const where = await query(
        `SELECT symbol, count(DISTINCT regexp_extract(filename, 'bucket=(\\d+)', 1)) AS buckets FROM read_parquet(${lit(join(ds, 'bucket=*', '*.parquet'))}, filename = true) GROUP BY symbol`,
      );
      expect(where.length).toBe(6);
      expect(where.every((w) => w.buckets === 1)).toBe(true);

      // The refused rows are quarantined with their reasons.
      const q = await query(`SELECT reason, symbol FROM read_parquet(${lit(r.rejectedPath!)}) ORDER BY row`);
      expect(q).toEqual([
        { reason: 'duplicate', symbol: 'AAA' },
        { reason: 'duplicate', symbol: 'BBB' },
        { reason: 'not_after_last', symbol: 'CCC' },
      ]);

      // The same bars as one ingest of every row.
      const full = join(tmp, 'full');
      await ingest({ input: inp.all, out: full, buckets: BUCKETS });
      expect(await listedBars(ds)).toEqual(await listedBars(full));

      // A second append: part-2 files, generation 2; a rerun of the first append now refuses it all.
      const again = await ingest({ input: inp.more, out: ds, append: true, onBadRows: 'skip' });
      expect(again).toMatchObject({ written: 0, rejected: again.read, generation: 2 });
      expect(again.byReason.duplicate).toBe(again.read - 1);
      expect(again.byReason.not_after_last).toBe(1);
      const day300 = join(tmp, 'day300.csv');
      await writeCsv(day300, HEADER, bars('AAA', 300, 1, 1));
      const third = await ingest({ input: day300, out: ds, append: true });
      expect(third).toMatchObject({ written: 1, generation: 3 });
      expect(meta(ds).files.filter((f) => f.generation === 3)).toHaveLength(1);
      const aaa = meta(ds).files.filter((f) => f.generation === 3)[0].path;
      expect(meta(ds).files.filter((f) => f.path.startsWith(aaa.split('/')[0])).map((f) => f.path.split('/')[1])).toEqual(['part-0.parquet', 'part-1.parquet', 'part-2.parquet']);
    });
  });

  it('counts refused bars the same under skip, and under error stops naming the first one and changes nothing', async () => {
    await withTempDir(async (tmp) => {
      const inp = await writeInputs(tmp);
      const ds = join(tmp, 'ds');
      await ingest({ input: inp.base, out: ds, buckets: BUCKETS });
      const before = await snapshot(ds);
      const e = await ingestError({ input: inp.more, out: ds, append: true, onBadRows: 'error' });
      expect(e.code).toBe('BARSTREAM_BAD_INPUT');
      expect(e.message).toMatch(/more\.csv row 1: duplicate/);
      expect(await snapshot(ds)).toEqual(before);

      const r = await ingest({ input: inp.more, out: ds, append: true, onBadRows: 'skip' });
      expect(r).toMatchObject({ read: inp.newRows + inp.refused, written: inp.newRows, rejected: inp.refused, rejectedPath: null });
      expect(r.byReason).toEqual({ duplicate: 2, not_after_last: 1 });
      expect(existsSync(join(ds, '_rejected'))).toBe(false);

      expect((await ingestError({ input: inp.more, out: join(tmp, 'nothing'), append: true })).message).toMatch(/cannot append to .*nothing: it is not a barstream dataset/);
      expect((await ingestError({ input: inp.more, out: ds, append: true, buckets: 7 })).message).toMatch(/buckets must be the dataset's 3/);
      expect((await ingestError({ input: inp.more, out: ds, append: true, overwrite: true })).code).toBe('BARSTREAM_INVALID_PARAM');
    });
  });

  it.skipIf(!cliBuilt)('the CLI appends with --append and says which generation it wrote', async () => {
    await withTempDir(async (tmp) => {
      const inp = await writeInputs(tmp);
      const ds = join(tmp, 'ds');
      await ingest({ input: inp.base, out: ds, buckets: BUCKETS });
      const r = cli(['ingest', '--in', inp.more, '--out', ds, '--append', '--on-bad-rows', 'skip']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`read ${(inp.newRows + inp.refused).toLocaleString('en-US')} rows`);
      expect(r.stdout).toContain('appended as generation 1: 1 new symbol(s)');
      expect(r.stdout).toMatch(/not_after_last\s+1/);
      expect(meta(ds).generation).toBe(1);
    });
  });

  it('scan, backtest and screen over an appended dataset equal the same over one ingest of all rows', async () => {
    await withTempDir(async (tmp) => {
      const inp = await writeInputs(tmp);
      const ds = join(tmp, 'ds');
      const full = join(tmp, 'full');
      await ingest({ input: inp.base, out: ds, buckets: BUCKETS });
      await ingest({ input: inp.more, out: ds, append: true });
      await ingest({ input: inp.all, out: full, buckets: BUCKETS });

      const scanA = await scanOf(ds);
      expect(scanA.processed).toBe(6);
      expect(scanA).toEqual(await scanOf(full));

      const outputs: Record<string, { bt: string; sc: string; screen: unknown }> = {};
      for (const [name, dir] of [['appended', ds], ['full', full]]) {
        const engine = await Engine.open({ dataset: dir, threads: 2 });
        try {
          const bt = join(tmp, `bt-${name}`);
          await engine.backtest({ out: bt, strategy: { robustness: 'Medium' } });
          const screen = await engine.screen({ formula: FORMULA, all: true });
          outputs[name] = { bt, sc: '', screen: { matches: screen.matches, processed: screen.processed, matched: screen.matched } };
        } finally {
          engine.close();
        }
      }
      for (const table of ['signals/bucket=*/*.parquet', 'summary/*.parquet', 'trades/*.parquet']) {
        const read = (bt: string) => query(`SELECT * FROM read_parquet(${lit(join(bt, table))}, hive_partitioning = false) ORDER BY ALL`);
        const [a, b] = [await read(outputs.appended.bt), await read(outputs.full.bt)];
        expect(a.length, table).toBeGreaterThan(0);
        expect(a, table).toEqual(b);
      }
      expect((outputs.appended.screen as { matched: number }).matched).toBeGreaterThan(0);
      expect(outputs.appended.screen).toEqual(outputs.full.screen);
    });
  });

  it.skipIf(!cliBuilt)('kill -9 during an append leaves the previous dataset and results; a rerun completes it', async () => {
    await withTempDir(async (tmp) => {
      const inp = await writeInputs(tmp);
      const full = join(tmp, 'full');
      await ingest({ input: inp.all, out: full, buckets: BUCKETS });
      const fullScan = await scanOf(full);
      const baseOnly = join(tmp, 'base-only');
      await ingest({ input: inp.base, out: baseOnly, buckets: BUCKETS });
      const previousScan = await scanOf(baseOnly);

      // Two kills at named points, then four after random delays (seed in the failure message)
      // spanning start-up, the run and its end.
      const seed = Number(process.env.BARSTREAM_TEST_SEED ?? Date.now() % 1e9);
      const rng = new Rng(seed);
      const kills: (string | number)[] = ['append-staged', 'append-moved', ...Array.from({ length: 4 }, () => rng.int(200, 1500))];
      for (const [i, at] of kills.entries()) {
        const ds = join(tmp, `ds${i}`);
        await ingest({ input: inp.base, out: ds, buckets: BUCKETS });
        const before = await snapshot(ds);
        const args = ['ingest', '--in', inp.more, '--out', ds, '--append'];
        if (typeof at === 'string') {
          const proc = startCli(args, { BARSTREAM_TEST_PAUSE_AT: at });
          let exited = false;
          void proc.done.then(() => (exited = true));
          for (const deadline = Date.now() + 60_000; !exited && Date.now() < deadline && !proc.stderr().includes(`test pause at ${at}`); ) {
            await new Promise((r) => setTimeout(r, 20));
          }
          proc.kill();
          expect((await proc.done).signal, `killed at ${at}`).toBe('SIGKILL');
          expect(proc.stderr()).toContain(`test pause at ${at}`);
          // The previous dataset, unchanged where readers look: same metadata, same old files, same results.
          const now = await snapshot(ds);
          for (const [p, h] of Object.entries(before)) expect(now[p], p).toBe(h);
          if (at === 'append-moved') expect(Object.keys(now).length).toBeGreaterThan(Object.keys(before).length);
          expect(await scanOf(ds)).toEqual(previousScan);
          expect(await barsCount(ds)).toBe(inp.baseRows);
        } else {
          // A kill at a chosen moment: the dataset is the previous one or the complete one, never between.
          const proc = startCli(args);
          await new Promise((r) => setTimeout(r, at));
          proc.kill();
          await proc.done;
          const g = meta(ds).generation;
          expect([0, 1], `seed ${seed}, killed after ${at} ms`).toContain(g);
          expect(await scanOf(ds), `seed ${seed}, killed after ${at} ms`).toEqual(g === 0 ? previousScan : fullScan);
        }
        if (meta(ds).generation === 0) {
          const rerun = cli(['ingest', '--in', inp.more, '--out', ds, '--append', '--json']);
          expect(rerun.status, rerun.stderr).toBe(0);
          expect(JSON.parse(rerun.stdout)).toMatchObject({ written: inp.newRows, rejected: inp.refused, generation: 1 });
        }
        expect(await scanOf(ds)).toEqual(fullScan);
        expect(await listedBars(ds)).toEqual(await listedBars(full));
        expect(await barsCount(ds)).toBe(inp.baseRows + inp.newRows);
        // Every part file on disk is listed: the rerun removed what the killed run left.
        const m = meta(ds);
        const onDisk = Object.keys(await snapshot(ds)).filter((p) => /^bucket=/.test(p)).sort();
        expect(onDisk).toEqual(m.files.map((f) => f.path).sort());
      }
    });
  }, 240_000);
});
