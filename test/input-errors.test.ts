/**
 * One symbol's bad input (a duplicate bar, a NULL close) fails that symbol alone, at stage
 * `input`, naming the symbol and the timestamp; every other symbol completes with exactly
 * what a run over the dataset without the bad symbols gives. Real datasets written by
 * DuckDB into the canonical layout, the real addon, the built CLI.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine, generate } from '../engine/index.js';
import { packageRoot } from '../engine/native.js';
import { lit, query } from './util/duck.js';
import { withTempDir } from './util/tmp.js';

const cli = join(packageRoot(), 'dist', 'engine', 'cli', 'main.js');
const BUCKETS = 2;
const SYMBOLS = 8;
const BARS = 300;

const part = (ds: string, k: number) => join(ds, `bucket=${k}`, 'part-0.parquet');
const parquet = (path: string) => `read_parquet(${lit(path)}, hive_partitioning = false)`;
const glob = (out: string, table: string) => `read_parquet(${lit(join(out, table, '**', '*.parquet'))}, hive_partitioning = false)`;

/** Writes one bucket file of a canonical dataset from `sql`. */
async function writeBucket(ds: string, k: number, sql: string): Promise<void> {
  await mkdir(join(ds, `bucket=${k}`), { recursive: true });
  await query(`COPY (${sql}) TO ${lit(part(ds, k))} (FORMAT parquet)`);
}

/** The `n`-th bar (from 0) of `symbol` in `file`: its ISO text as DuckDB prints it. */
async function nthBar(file: string, symbol: string, n: number): Promise<string> {
  const [r] = await query(`SELECT strftime(ts, '%Y-%m-%d %H:%M:%S') AS iso FROM ${parquet(file)} WHERE symbol = ${lit(symbol)} ORDER BY ts LIMIT 1 OFFSET ${n}`);
  return r.iso as string;
}

interface Fixture {
  /** A duplicate bar in `dup` (bucket 0) and a NULL close in `nul` (bucket 1). */
  bad: string;
  /** `bad` with every symbol's rows in decreasing time order (read again sorted). */
  reversed: string;
  /** The same bars without the two bad symbols: the reference. */
  good: string;
  /** NULL-symbol rows after the last symbol of bucket 0. */
  nullSymbol: string;
  dup: string;
  nul: string;
  dupIso: string;
  nulIso: string;
  lastOfBucket0: string;
}

async function fixture(tmp: string): Promise<Fixture> {
  const src = join(tmp, 'src');
  await generate({ out: src, symbols: SYMBOLS, bars: BARS, seed: 17, buckets: BUCKETS });
  const names = async (k: number) => (await query(`SELECT DISTINCT symbol FROM ${parquet(part(src, k))} ORDER BY symbol`)).map((r) => r.symbol as string);
  const [b0, b1] = [await names(0), await names(1)];
  expect(b0.length).toBeGreaterThanOrEqual(3);
  expect(b1.length).toBeGreaterThanOrEqual(2);
  const dup = b0[1];
  const nul = b1[0];
  const dupIso = await nthBar(part(src, 0), dup, 100);
  const nulIso = await nthBar(part(src, 1), nul, 150);
  const f: Fixture = {
    bad: join(tmp, 'bad'),
    reversed: join(tmp, 'reversed'),
    good: join(tmp, 'good'),
    nullSymbol: join(tmp, 'null-symbol'),
    dup,
    nul,
    dupIso,
    nulIso,
    lastOfBucket0: b0.at(-1)!,
  };
  for (let k = 0; k < BUCKETS; k++) {
    const from = parquet(part(src, k));
    const badRows =
      `SELECT symbol, ts, open, high, low, ` +
      `CASE WHEN symbol = ${lit(nul)} AND ts = TIMESTAMP ${lit(nulIso)} THEN NULL ELSE close END AS close, volume FROM ${from} ` +
      `UNION ALL SELECT * FROM ${from} WHERE symbol = ${lit(dup)} AND ts = TIMESTAMP ${lit(dupIso)}`;
    await writeBucket(f.bad, k, `SELECT * FROM (${badRows}) ORDER BY symbol, ts`);
    await writeBucket(f.reversed, k, `SELECT * FROM (${badRows}) ORDER BY symbol, ts DESC`);
    await writeBucket(f.good, k, `SELECT * FROM ${from} WHERE symbol NOT IN (${lit(dup)}, ${lit(nul)}) ORDER BY symbol, ts`);
    const nulls = k === 0 ? ` UNION ALL (SELECT NULL, ts, open, high, low, close, volume FROM ${from} WHERE symbol = ${lit(b0[0])} ORDER BY ts LIMIT 5)` : '';
    await writeBucket(f.nullSymbol, k, `SELECT * FROM (SELECT * FROM ${from}${nulls}) ORDER BY symbol NULLS LAST, ts`);
  }
  return f;
}

/** The failed entries a run must report for the fixture, in dataset order. */
function expectedFailures(f: Fixture) {
  return [
    { symbol: f.dup, stage: 'input', message: expect.stringContaining(`'${f.dup}'`) },
    { symbol: f.nul, stage: 'input', message: expect.stringContaining(`'${f.nul}'`) },
  ];
}

function expectMessages(failed: { symbol: string; message: string }[], f: Fixture) {
  const by = new Map(failed.map((x) => [x.symbol, x.message]));
  expect(by.get(f.dup)).toContain(f.dupIso);
  expect(by.get(f.dup)).toMatch(/duplicate/);
  expect(by.get(f.nul)).toContain(f.nulIso);
  expect(by.get(f.nul)).toMatch(/NULL close/);
}

describe('bad input in one symbol fails that symbol only (stage input)', () => {
  it('scan and trend scan: the bad symbols fail, the others equal a run without them, in file order or sorted', async () => {
    await withTempDir(async (tmp) => {
      const f = await fixture(tmp);
      const [bad, good, reversed] = await Promise.all([f.bad, f.good, f.reversed].map((d) => Engine.open({ dataset: d, threads: 2 })));
      const ref = await good.scan({ minSignal: 0 });
      expect(ref.processed).toBe(SYMBOLS - 2);
      for (const [engine, sorted] of [[bad, false], [reversed, true]] as const) {
        const r = await engine.scan({ minSignal: 0 });
        expect(r.sorted).toBe(sorted);
        expect(r.failed).toEqual(expectedFailures(f));
        expectMessages(r.failed, f);
        expect(r.processed + r.skipped.length + r.failed.length).toBe(SYMBOLS);
        expect(r.symbols).toEqual(ref.symbols);
        expect(r.long).toEqual(ref.long);
        expect(r.short).toEqual(ref.short);
      }
      const trendRef = await good.trendScan({ ma: 'EMA', length: 20 });
      for (const engine of [bad, reversed]) {
        const t = await engine.trendScan({ ma: 'EMA', length: 20 });
        expect(t.failed).toEqual(expectedFailures(f));
        expectMessages(t.failed, f);
        expect(t.processed + t.skipped.length + t.failed.length).toBe(SYMBOLS);
        expect(t.symbols).toEqual(trendRef.symbols);
      }
      for (const e of [bad, good, reversed]) e.close();
    });
  });

  it('backtest: _errors rows at stage input, no signals of the bad symbols, the rest as without them', async () => {
    await withTempDir(async (tmp) => {
      const f = await fixture(tmp);
      const outs = { bad: join(tmp, 'bt-bad'), good: join(tmp, 'bt-good'), reversed: join(tmp, 'bt-reversed') };
      for (const k of ['bad', 'good', 'reversed'] as const) {
        const engine = await Engine.open({ dataset: f[k], threads: 2 });
        const r = await engine.backtest({ out: outs[k] });
        const c = r.manifest.counts;
        expect(c.symbols).toBe(k === 'good' ? SYMBOLS - 2 : SYMBOLS);
        expect(c.processed + c.skipped + c.failed).toBe(c.symbols);
        expect(c.failed).toBe(k === 'good' ? 0 : 2);
        expect(r.manifest.source.sorted).toBe(k === 'reversed');
        engine.close();
      }
      for (const out of [outs.bad, outs.reversed]) {
        const errors = await query(`SELECT symbol, stage, message FROM ${glob(out, '_errors')} ORDER BY symbol`);
        expect(errors).toEqual(expectedFailures(f).sort((a, b) => a.symbol.localeCompare(b.symbol)));
        expectMessages(errors as { symbol: string; message: string }[], f);
        const [left] = await query(`SELECT count(*) AS n FROM ${glob(out, 'signals')} WHERE symbol IN (${lit(f.dup)}, ${lit(f.nul)})`);
        expect(left.n).toBe(0);
        for (const table of ['signals', 'summary']) {
          const diff = async (a: string, b: string) =>
            (await query(`SELECT count(*) AS n FROM (SELECT * FROM ${glob(a, table)} EXCEPT ALL SELECT * FROM ${glob(b, table)})`))[0].n;
          const [n] = await query(`SELECT count(*) AS n FROM ${glob(out, table)}`);
          expect(n.n).toBe(table === 'signals' ? (SYMBOLS - 2) * BARS : SYMBOLS - 2);
          expect(await diff(out, outs.good)).toBe(0);
          expect(await diff(outs.good, out)).toBe(0);
        }
      }
      expect(await query(`SELECT * FROM ${glob(outs.good, '_errors')}`)).toEqual([]);
    });
  });

  it('a NULL symbol fails the run with one BAD_INPUT message saying how many rows and after which symbol', async () => {
    await withTempDir(async (tmp) => {
      const f = await fixture(tmp);
      const engine = await Engine.open({ dataset: f.nullSymbol, threads: 1 });
      const msg = new RegExp(`column 'symbol' is NULL in 5 of the \\d+ rows .*after the rows of symbol '${f.lastOfBucket0}'`);
      await expect(engine.scan()).rejects.toMatchObject({ code: 'BARSTREAM_BAD_INPUT', message: expect.stringMatching(msg) });
      await expect(engine.trendScan()).rejects.toMatchObject({ code: 'BARSTREAM_BAD_INPUT', message: expect.stringMatching(msg) });
      await expect(engine.backtest({ out: join(tmp, 'bt') })).rejects.toMatchObject({ code: 'BARSTREAM_BAD_INPUT' });
      engine.close();
    });
  });

  it.skipIf(!existsSync(cli))('the CLI exits 0 and lists the bad symbols as failed (input)', async () => {
    await withTempDir(async (tmp) => {
      const f = await fixture(tmp);
      const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
      const json = run('scan', '--data', f.bad, '--json', '--min-signal', '0');
      expect(json.stderr).toBe('');
      expect(json.status).toBe(0);
      const out = JSON.parse(json.stdout);
      expect(out.failed).toEqual(expectedFailures(f));
      expect(out.processed).toBe(SYMBOLS - 2);
      const text = run('trend', '--data', f.bad);
      expect(text.status).toBe(0);
      const lines = text.stdout.split('\n');
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^  failed ${f.dup} \\(input\\): .*${f.dupIso}`)));
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^  failed ${f.nul} \\(input\\): .*${f.nulIso}`)));
      expect(text.stdout).toMatch(/2 failed/);
    });
  });
});
