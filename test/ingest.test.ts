/**
 * `barstream ingest` against real files and a real DuckDB. Expected outputs are computed
 * here from the rows the tests write, never read back from the code under test.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingest, parseMapping, REJECT_REASONS } from '../datasets/ingest.js';
import { ingestCommand, STRICT_EXIT_CODE } from '../engine/cli/ingest.js';
import { Engine } from '../engine/engine.js';
import { Cell, writeCsv } from './util/csv.js';
import { lit, query } from './util/duck.js';
import { withTempDir } from './util/tmp.js';
import { ingestError } from './util/ingest.js';

/**
 * The reasons a plain ingest of well-formed lines gives: `not_after_last` needs a dataset to
 * append to (test/ingest-append.test.ts), `superseded` arises only under --prefer and
 * `malformed_line` from a line that is not a row (both in test/ingest-formats.test.ts).
 */
const BAD_ROW_REASONS = Object.keys(REJECT_REASONS).filter((r) => !['not_after_last', 'superseded', 'malformed_line'].includes(r));

const COLS = ['symbol', 'ts', 'open', 'high', 'low', 'close', 'volume'] as const;
type Bar = { symbol: string; ts: string; open: number; high: number; low: number; close: number; volume: number };

const day = (i: number) => new Date(Date.UTC(2020, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);

/** A valid bar with values that are not round numbers (exercises text -> double exactly). */
function bar(symbol: string, i: number, k = 0): Bar {
  const low = 10 + i * 0.37 + k * 1.13;
  return { symbol, ts: day(i), open: low + 0.11, high: low + 2.5, low, close: low + 1.7, volume: 1000 + i * 3.25 };
}

const cells = (b: Bar): Cell[] => COLS.map((c) => b[c]);
const key = (b: { symbol: unknown; ts: unknown; close: unknown }) => `${b.symbol}|${b.ts}|${b.close}`;

/** Every output bar, ts as `YYYY-MM-DD`, sorted by (symbol, ts, close). */
async function outputBars(out: string): Promise<Bar[]> {
  const rows = await query(
    `SELECT symbol, strftime(ts, '%Y-%m-%d') AS ts, open, high, low, close, volume FROM read_parquet(${lit(`${out}/bucket=*/*.parquet`)})`,
  );
  return (rows as unknown as Bar[]).sort((a, b) => key(a).localeCompare(key(b)));
}

async function rejectedRows(out: string): Promise<Record<string, unknown>[]> {
  return query(`SELECT * FROM read_parquet(${lit(join(out, '_rejected', 'part-0.parquet'))}) ORDER BY source_file, row`);
}

/** Asserts that a failed run left neither the output nor a staging folder next to it. */
async function expectNothingWritten(dir: string, out: string, inputs: string[]): Promise<void> {
  expect(existsSync(out)).toBe(false);
  expect((await readdir(dir)).sort()).toEqual([...inputs].sort());
}

describe('ingest: CSV with renamed columns', () => {
  it('writes the canonical layout, sorted, bucketed, with the source values', async () => {
    await withTempDir(async (dir) => {
      const symbols = ['AAPL', 'MSFT', '0700', 'BRK.B', 'ZZ', 'A', 'b'];
      const bars = symbols.flatMap((s, k) => Array.from({ length: 40 }, (_, i) => bar(s, i, k)));
      // Shuffle deterministically so the output order has to come from sorting.
      const shuffled = bars.map((b, i) => ({ b, o: (i * 7919) % bars.length })).sort((x, y) => x.o - y.o).map((x) => x.b);
      const header = ['Date', 'Ticker', 'Open', 'HIGH', 'low', 'Close', 'Adj_Close', 'Vol', 'Exchange'];
      const rows = shuffled.map((b) => [b.ts, b.symbol, b.open, b.high, b.low, b.close - 0.5, b.close, b.volume, 'XNAS']);
      const csv = join(dir, 'eod.csv');
      await writeCsv(csv, header, rows);
      const out = join(dir, 'ds');

      const r = await ingest({ input: csv, out, map: 'symbol=Ticker,ts=Date,close=Adj_Close,volume=Vol', buckets: 3 });
      expect([r.read, r.written, r.rejected, r.byReason, r.symbols, r.buckets]).toEqual([bars.length, bars.length, 0, {}, 7, 3]);
      expect(r.rejectedPath).toBeNull();

      const hashes = await query(`SELECT s, (hash(s) % 3)::INTEGER AS b FROM unnest([${symbols.map(lit).join(', ')}]) AS t(s)`);
      const bucketOf = new Map(hashes.map((h) => [h.s as string, h.b as number]));
      const buckets = [...new Set(bucketOf.values())].sort();
      expect((await readdir(out)).sort()).toEqual([...buckets.map((b) => `bucket=${b}`), 'metadata.json'].sort());

      for (const b of buckets) {
        const file = join(out, `bucket=${b}`, 'part-0.parquet');
        expect(await readdir(join(out, `bucket=${b}`))).toEqual(['part-0.parquet']);
        const schema = await query(`DESCRIBE SELECT * FROM read_parquet(${lit(file)}, hive_partitioning = false)`);
        expect(schema.map((c) => [c.column_name, c.column_type])).toEqual([
          ['symbol', 'VARCHAR'],
          ['ts', 'TIMESTAMP'],
          ...['open', 'high', 'low', 'close', 'volume'].map((c) => [c, 'DOUBLE']),
        ]);
        const inFile = await query(
          `SELECT symbol, strftime(ts, '%Y-%m-%d') AS ts FROM read_parquet(${lit(file)}, file_row_number = true) ORDER BY file_row_number`,
        );
        const sorted = [...inFile].sort((x, y) => (x.symbol === y.symbol ? (x.ts as string).localeCompare(y.ts as string) : x.symbol! < y.symbol! ? -1 : 1));
        expect(inFile).toEqual(sorted);
        expect(inFile.every((row) => bucketOf.get(row.symbol as string) === b)).toBe(true);
        const codecs = await query(`SELECT DISTINCT compression FROM parquet_metadata(${lit(file)})`);
        expect(codecs.map((c) => c.compression)).toEqual(['ZSTD']);
      }

      const expected = [...bars].sort((a, b) => key(a).localeCompare(key(b)));
      expect(await outputBars(out)).toEqual(expected);

      const meta = JSON.parse(await readFile(join(out, 'metadata.json'), 'utf8'));
      expect(meta.counts).toEqual({ read: bars.length, written: bars.length, rejected: 0, byReason: {}, superseded: 0 });
      expect(meta.source).toMatchObject({
        format: 'csv',
        onBadRows: 'quarantine',
        mapping: { symbol: 'Ticker', ts: 'Date', close: 'Adj_Close', volume: 'Vol' },
      });
      expect(meta.files.reduce((s: number, f: { rows: number }) => s + f.rows, 0)).toBe(bars.length);
      for (const f of meta.files) {
        expect(createHash('sha256').update(await readFile(join(out, f.path))).digest('hex')).toBe(f.sha256);
      }
    });
  });
});

/** One source row per case: a valid base bar (unique symbol/ts) with some cells replaced. */
interface Case {
  reason: keyof typeof REJECT_REASONS | null;
  cells: Cell[];
}

function badCases(): { good: Bar[]; cases: Case[] } {
  const good = Array.from({ length: 6 }, (_, i) => bar('GOOD', i));
  const b = (i: number, patch: Partial<Record<(typeof COLS)[number], Cell>>): Cell[] => {
    const base = bar('BAD', 100 + i);
    return COLS.map((c) => (c in patch ? patch[c]! : base[c]));
  };
  const first = good[2];
  const cases: Case[] = [
    { reason: 'missing_symbol', cells: b(0, { symbol: null }) },
    { reason: 'missing_symbol', cells: b(1, { symbol: '   ' }) },
    { reason: 'missing_ts', cells: b(2, { ts: null }) },
    { reason: 'bad_ts', cells: b(3, { ts: '2020-13-45' }) },
    { reason: 'bad_ts', cells: b(4, { ts: 'yesterday' }) },
    { reason: 'missing_price', cells: b(5, { open: null }) },
    { reason: 'bad_price', cells: b(6, { high: 'abc' }) },
    { reason: 'nonfinite_price', cells: b(7, { close: 'NaN' }) },
    { reason: 'nonfinite_price', cells: b(8, { high: 'inf' }) },
    { reason: 'nonpositive_price', cells: b(9, { low: 0 }) },
    { reason: 'nonpositive_price', cells: b(10, { open: -1, low: -2 }) },
    { reason: 'high_below_low', cells: b(11, { open: 5.5, high: 5, low: 6, close: 5.5 }) },
    { reason: 'open_outside_range', cells: b(12, { open: 99 }) },
    { reason: 'close_outside_range', cells: b(13, { close: 1 }) },
    { reason: 'missing_volume', cells: b(14, { volume: null }) },
    { reason: 'bad_volume', cells: b(15, { volume: 'many' }) },
    { reason: 'nonfinite_volume', cells: b(16, { volume: 'Infinity' }) },
    { reason: 'negative_volume', cells: b(17, { volume: -3 }) },
    // Same (symbol, ts) as an earlier good row, other close: rejected, the first is kept.
    { reason: 'duplicate', cells: cells({ ...first, close: first.low + 0.2 }) },
    { reason: 'duplicate', cells: cells({ ...first, close: first.low + 0.3, ts: `${first.ts} 00:00:00` }) },
    // A bad row does not shadow a later good one with the same (symbol, ts).
    { reason: 'high_below_low', cells: cells({ ...bar('LATE', 0), high: 1, low: 2, open: 1.5, close: 1.5 }) },
    { reason: null, cells: cells(bar('LATE', 0)) },
  ];
  return { good, cases };
}

/** The CSV rows: good rows first, then the cases; `expect[row - 1]` is the expected reason. */
function badCsv(): { rows: Cell[][]; reasons: (string | null)[]; kept: Bar[] } {
  const { good, cases } = badCases();
  const rows = [...good.map(cells), ...cases.map((c) => c.cells)];
  const reasons = [...good.map(() => null), ...cases.map((c) => c.reason)];
  return { rows, reasons, kept: [...good, bar('LATE', 0)] };
}

function tally(reasons: (string | null)[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const r of reasons) if (r) t[r] = (t[r] ?? 0) + 1;
  return t;
}

describe('ingest: bad rows', () => {
  const header = ['Symbol', 'TS', 'Open', 'High', 'Low', 'Close', 'Volume'];

  for (const policy of ['quarantine', 'skip'] as const) {
    it(`${policy}: every kind is counted, nothing is lost, the first duplicate is kept`, async () => {
      await withTempDir(async (dir) => {
        const { rows, reasons, kept } = badCsv();
        const csv = join(dir, 'bars.csv');
        await writeCsv(csv, header, rows);
        const out = join(dir, 'out');
        const r = await ingest({ input: csv, out, onBadRows: policy });
        const expectedReasons = tally(reasons);
        const rejected = reasons.filter((x) => x !== null).length;
        expect(Object.keys(expectedReasons).sort()).toEqual([...BAD_ROW_REASONS].sort());
        expect({ read: r.read, written: r.written, rejected: r.rejected, byReason: r.byReason }).toEqual({
          read: rows.length,
          written: rows.length - rejected,
          rejected,
          byReason: expectedReasons,
        });
        expect(await outputBars(out)).toEqual([...kept].sort((a, b) => key(a).localeCompare(key(b))));

        if (policy === 'skip') {
          expect(existsSync(join(out, '_rejected'))).toBe(false);
          return;
        }
        expect(r.rejectedPath).toBe(join(out, '_rejected', 'part-0.parquet'));
        const rej = await rejectedRows(out);
        const expectedRej = reasons.flatMap((reason, i) => (reason ? [{ reason, source_file: csv, row: i + 1 }] : []));
        expect(rej.map((x) => ({ reason: x.reason, source_file: x.source_file, row: x.row }))).toEqual(expectedRej);
        for (const x of rej) {
          const src = rows[(x.row as number) - 1];
          expect(COLS.map((c) => x[c])).toEqual(src.map((v) => (v === null ? null : String(v))));
          const map = Object.fromEntries((x.source as { key: string; value: string | null }[]).map((e) => [e.key, e.value]));
          expect(map).toEqual(Object.fromEntries(header.map((h, i) => [h, src[i] === null ? null : String(src[i])])));
        }
      });
    });
  }

  const { cases } = badCases();
  for (const reason of BAD_ROW_REASONS) {
    it(`error: stops at the first bad row (${reason}), naming file, row and reason, writing nothing`, async () => {
      await withTempDir(async (dir) => {
        const bad = cases.find((c) => c.reason === reason)!;
        const good = [bar('GOOD', 2), bar('GOOD', 3)];
        const later = cases.find((c) => c.reason === 'bad_volume' && reason !== 'bad_volume') ?? cases[0];
        const csv = join(dir, 'bars.csv');
        await writeCsv(csv, header, [...good.map(cells), bad.cells, later.cells]);
        const out = join(dir, 'out');
        const e = await ingestError({ input: csv, out, onBadRows: 'error' });
        expect(e.code).toBe('BARSTREAM_BAD_INPUT');
        expect(e.message).toContain(`bad row in ${csv} row 3: ${reason} `);
        await expectNothingWritten(dir, out, ['bars.csv']);
      });
    });
  }

  it('quarantines typed Parquet rows with their file row numbers', async () => {
    await withTempDir(async (dir) => {
      const src = join(dir, 'typed.parquet');
      // id is the 1-based row; expected reason by id.
      const values = [
        `(1, 'X', TIMESTAMP '2021-01-04', 10, 12, 9, 11, 100, NULL)`,
        `(2, 'X', NULL, 10, 12, 9, 11, 100, 'missing_ts')`,
        `(3, 'X', TIMESTAMP '2021-01-05', 'NaN'::DOUBLE, 12, 9, 11, 100, 'nonfinite_price')`,
        `(4, 'X', TIMESTAMP '2021-01-06', 10, 12, 9, 11, '-Infinity'::DOUBLE, 'nonfinite_volume')`,
        `(5, NULL, TIMESTAMP '2021-01-07', 10, 12, 9, 11, 100, 'missing_symbol')`,
        `(6, 'X', TIMESTAMP '2021-01-04', 10, 12, 9, 11.5, 100, 'duplicate')`,
        `(7, 'Y', TIMESTAMP '2021-01-04', 10, 12, 9, 11, 0, NULL)`,
      ];
      await query(
        `COPY (SELECT id, sym AS symbol, ts, o::DOUBLE AS open, h::DOUBLE AS high, l::DOUBLE AS low, c::DOUBLE AS close, v::DOUBLE AS volume ` +
          `FROM (VALUES ${values.join(', ')}) AS t(id, sym, ts, o, h, l, c, v, why) ORDER BY id) TO ${lit(src)} (FORMAT parquet)`,
      );
      const out = join(dir, 'out');
      const r = await ingest({ input: src, out });
      expect(r.format).toBe('parquet');
      expect([r.read, r.written, r.rejected]).toEqual([7, 2, 5]);
      const rej = await rejectedRows(out);
      expect(rej.map((x) => [x.row, x.reason, x.source_file])).toEqual([
        [2, 'missing_ts', src],
        [3, 'nonfinite_price', src],
        [4, 'nonfinite_volume', src],
        [5, 'missing_symbol', src],
        [6, 'duplicate', src],
      ]);
      expect(rej.map((x) => (x.source as { key: string; value: string }[]).find((e) => e.key === 'id')?.value)).toEqual(['2', '3', '4', '5', '6']);
    });
  });

  it('keeps the first of duplicates across files, in file order, and numbers rows exactly in a large CSV', async () => {
    await withTempDir(async (dir) => {
      const header = ['symbol', 'ts', 'open', 'high', 'low', 'close', 'volume'];
      const n = 120_000;
      const badAt = new Set([7, 4096, 50_001, 99_999, n]);
      // a.csv: n rows over 60 symbols; some rows broken (high < low) at known positions.
      const a = Array.from({ length: n }, (_, i) => {
        const b = bar(`S${i % 60}`, Math.floor(i / 60));
        return badAt.has(i + 1) ? cells({ ...b, high: b.low - 1 }) : cells(b);
      });
      const dupOf = bar('S5', 10);
      // b.csv repeats a good row of a.csv with another close: the one in a.csv is kept.
      const b = [cells(bar('ONLY_B', 0)), cells({ ...dupOf, close: dupOf.low + 0.01 })];
      await writeCsv(join(dir, 'a.csv'), header, a);
      await writeCsv(join(dir, 'b.csv'), header, b);
      const out = join(dir, 'out');
      const r = await ingest({ input: join(dir, '*.csv'), out, threads: 4 });
      expect([r.read, r.written, r.rejected, r.byReason]).toEqual([n + 2, n + 2 - 6, 6, { duplicate: 1, high_below_low: 5 }]);
      const rej = await rejectedRows(out);
      expect(rej.map((x) => [x.source_file, x.row, x.reason])).toEqual([
        ...[...badAt].sort((x, y) => x - y).map((row) => [join(dir, 'a.csv'), row, 'high_below_low']),
        [join(dir, 'b.csv'), 2, 'duplicate'],
      ]);
      const kept = await query(
        `SELECT close FROM read_parquet(${lit(`${out}/bucket=*/*.parquet`)}) WHERE symbol = 'S5' AND ts = ${lit(dupOf.ts)}::TIMESTAMP`,
      );
      expect(kept).toEqual([{ close: dupOf.close }]);
    });
  });
});

describe('ingest: inputs that stop the run', () => {
  const header = ['symbol', 'ts', 'open', 'high', 'low', 'close', 'volume'];

  it('a missing column names the column and the file and writes nothing', async () => {
    await withTempDir(async (dir) => {
      const csv = join(dir, 'eod.csv');
      await writeCsv(csv, header, [cells(bar('A', 0))]);
      const out = join(dir, 'out');
      let e = await ingestError({ input: csv, out, map: 'close=Adj_Close' });
      expect(e.code).toBe('BARSTREAM_BAD_INPUT');
      expect(e.message).toContain(csv);
      expect(e.message).toContain(`column 'Adj_Close' (for close, from --map) is missing`);
      await expectNothingWritten(dir, out, ['eod.csv']);

      // Volume is optional (issue 11); a missing close is not.
      const noClose = join(dir, 'noclose.csv');
      await writeCsv(noClose, header.filter((h) => h !== 'close'), [cells(bar('A', 0)).filter((_, i) => header[i] !== 'close')]);
      e = await ingestError({ input: [csv, noClose], out });
      expect(e.message).toContain(`${noClose}: column 'close' (for close) is missing`);
      await expectNothingWritten(dir, out, ['eod.csv', 'noclose.csv']);
    });
  });

  it('a corrupt Parquet file is named, even after good files, and nothing is written (a malformed CSV line is a bad row: test/ingest-formats.test.ts)', async () => {
    await withTempDir(async (dir) => {
      await query(
        `COPY (SELECT 'A' AS symbol, TIMESTAMP '2020-01-01' AS ts, 1.0 AS open, 2.0 AS high, 0.5 AS low, 1.5 AS close, 10.0 AS volume) ` +
          `TO ${lit(join(dir, 'a.parquet'))} (FORMAT parquet)`,
      );
      await writeFile(join(dir, 'b.parquet'), 'PAR1 this is not parquet');
      // beside the input folder: an output inside it is refused (item 17 of issue 8)
      const out = `${dir}-out`;
      expect(await ingestError({ input: dir, out: join(dir, 'out') })).toMatchObject({ code: 'BARSTREAM_INVALID_PARAM', message: expect.stringMatching(/lies inside input/) });
      let e = await ingestError({ input: dir, out });
      expect(e.code).toBe('BARSTREAM_BAD_INPUT');
      expect(e.message).toContain(`cannot read ${join(dir, 'b.parquet')} as parquet`);
      await expectNothingWritten(dir, out, ['a.parquet', 'b.parquet']);

      e = await ingestError({ input: join(dir, 'nothing-*.csv'), out });
      expect(e.message).toContain(`--in ${join(dir, 'nothing-*.csv')} matches no files`);
      await expectNothingWritten(dir, out, ['a.parquet', 'b.parquet']);
    });
  });

  it('refuses a non-empty output folder unless overwrite, then replaces it', async () => {
    await withTempDir(async (dir) => {
      const csv = join(dir, 'x.csv');
      await writeCsv(csv, header, [cells(bar('A', 0)), cells(bar('A', 1))]);
      const out = join(dir, 'out');
      await ingest({ input: csv, out });
      const e = await ingestError({ input: csv, out });
      expect(e.message).toContain('already exists');
      await writeCsv(csv, header, [cells(bar('B', 0))]);
      const r = await ingest({ input: csv, out, overwrite: true });
      expect(r.written).toBe(1);
      expect((await outputBars(out)).map((b) => b.symbol)).toEqual(['B']);
      expect((await readdir(dir)).sort()).toEqual(['out', 'x.csv']);
    });
  });
});

describe('ingest: values and options', () => {
  it('converts timestamps with a UTC offset and TIMESTAMPTZ columns to UTC', async () => {
    await withTempDir(async (dir) => {
      const csv = join(dir, 'tz.csv');
      await writeCsv(csv, [...COLS], [
        ['A', '2020-01-02T10:00:00+02:00', 1, 2, 0.5, 1.5, 10],
        ['A', '2020-01-02 09:30:00', 1, 2, 0.5, 1.5, 10],
        ['A', '2020-01-03', 1, 2, 0.5, 1.5, 10],
      ]);
      await ingest({ input: csv, out: join(dir, 'a') });
      const a = await query(`SELECT strftime(ts, '%Y-%m-%d %H:%M') AS t FROM read_parquet(${lit(`${dir}/a/bucket=*/*.parquet`)}) ORDER BY ts`);
      expect(a.map((r) => r.t)).toEqual(['2020-01-02 08:00', '2020-01-02 09:30', '2020-01-03 00:00']);

      const pq = join(dir, 'tz.parquet');
      await query(
        `COPY (SELECT 'B' AS symbol, TIMESTAMPTZ '2021-06-01 12:00:00+05:00' AS ts, 1.0 AS open, 2.0 AS high, 0.5 AS low, ` +
          `1.5 AS close, 7 AS volume) TO ${lit(pq)} (FORMAT parquet)`,
      );
      await ingest({ input: pq, out: join(dir, 'b') });
      const b = await query(`SELECT strftime(ts, '%Y-%m-%d %H:%M') AS t, volume FROM read_parquet(${lit(`${dir}/b/bucket=*/*.parquet`)})`);
      expect(b).toEqual([{ t: '2021-06-01 07:00', volume: 7 }]);
    });
  });

  it('rejects a malformed --map and unknown canonical names', () => {
    expect(parseMapping('symbol=Ticker, ts = Date')).toEqual({ symbol: 'Ticker', ts: 'Date' });
    expect(() => parseMapping('sym=Ticker')).toThrow(/'sym' is not one of symbol, ts/);
    expect(() => parseMapping('symbol')).toThrow(/not canonical=Source/);
    expect(() => parseMapping('close=A,close=B')).toThrow(/close twice/);
  });
});

describe('ingest: hive sources and reading the result', () => {
  it('keeps numeric-looking hive symbols as text', async () => {
    await withTempDir(async (dir) => {
      const symbols = ['0700', '0005', '1234', '9988.HK'];
      const src = join(dir, 'hive');
      const rows = symbols.flatMap((s, k) => [0, 1, 2].map((i) => bar(s, i, k)));
      const values = rows.map((b) => `(${lit(b.symbol)}, ${lit(b.ts)}::TIMESTAMP, ${b.open}, ${b.high}, ${b.low}, ${b.close}, ${b.volume})`);
      await query(
        `COPY (SELECT * FROM (VALUES ${values.join(', ')}) AS t(symbol, ts, open, high, low, close, volume)) ` +
          `TO ${lit(src)} (FORMAT parquet, PARTITION_BY (symbol))`,
      );
      expect((await readdir(src)).sort()).toEqual(symbols.map((s) => `symbol=${s}`).sort());
      const out = join(dir, 'out');
      const r = await ingest({ input: src, out });
      expect([r.read, r.written, r.symbols]).toEqual([rows.length, rows.length, symbols.length]);
      expect(await outputBars(out)).toEqual([...rows].sort((a, b) => key(a).localeCompare(key(b))));
    });
  });

  it('an ingested dataset opens with Engine.open and streams the right per-symbol counts', async () => {
    await withTempDir(async (dir) => {
      const perSymbol: Record<string, number> = { AAA: 120, BBB: 45, '0700': 300, ZED: 1 };
      const bars = Object.entries(perSymbol).flatMap(([s, n], k) => Array.from({ length: n }, (_, i) => bar(s, i, k)));
      const csv = join(dir, 'x.csv');
      // Reverse order, plus one bad row that must not be counted.
      await writeCsv(csv, [...COLS], [...bars.reverse().map(cells), cells({ ...bar('AAA', 999), close: -1 })]);
      const out = join(dir, 'out');
      const r = await ingest({ input: csv, out, buckets: 2 });
      expect(r.rejected).toBe(1);
      const engine = await Engine.open({ dataset: out, threads: 2 });
      const s = await engine.stream();
      expect(s.rows).toBe(bars.length);
      expect(Object.fromEntries(s.symbols.map((x) => [x.symbol, x.rows]))).toEqual(perSymbol);
      for (const x of s.symbols) {
        const last = bar(x.symbol, perSymbol[x.symbol] - 1, Object.keys(perSymbol).indexOf(x.symbol));
        expect([x.lastTs.toISOString().slice(0, 10), x.lastClose]).toEqual([last.ts, last.close]);
      }
    });
  });
});

describe('barstream ingest (CLI)', () => {
  async function runCli(args: string[]): Promise<{ code: number; stdout: string }> {
    let stdout = '';
    const before = process.exitCode;
    try {
      await ingestCommand({ write: (s: string) => (stdout += s) }).parseAsync(args, { from: 'user' });
      return { code: Number(process.exitCode ?? 0), stdout };
    } finally {
      process.exitCode = before;
    }
  }

  it('--strict exits non-zero after writing when rows are rejected; --json prints the counts', async () => {
    await withTempDir(async (dir) => {
      const csv = join(dir, 'x.csv');
      await writeCsv(csv, ['Ticker', 'Date', 'open', 'high', 'low', 'close', 'volume'], [
        cells(bar('A', 0)),
        cells({ ...bar('A', 1), high: 1 }),
        cells(bar('A', 2)),
      ]);
      const base = ['--in', csv, '--map', 'symbol=Ticker,ts=Date', '--json'];
      const strict = await runCli([...base, '--out', join(dir, 'strict'), '--strict']);
      expect(strict.code).toBe(STRICT_EXIT_CODE);
      expect(JSON.parse(strict.stdout)).toMatchObject({ read: 3, written: 2, rejected: 1, byReason: { high_below_low: 1 } });
      expect(existsSync(join(dir, 'strict', '_rejected', 'part-0.parquet'))).toBe(true);

      const lenient = await runCli([...base, '--out', join(dir, 'lenient'), '--on-bad-rows', 'skip']);
      expect(lenient.code).toBe(0);
      expect(JSON.parse(lenient.stdout)).toMatchObject({ read: 3, written: 2, rejected: 1, rejectedPath: null });

      const failed = await runCli([...base, '--out', join(dir, 'failed'), '--on-bad-rows', 'error']);
      expect(failed.code).toBe(1);
      expect(existsSync(join(dir, 'failed'))).toBe(false);
    });
  });

  // Only when dist is built from the current sources (a stale build would test old code).
  const built = ['datasets/ingest.ts', 'engine/cli/ingest.ts', 'engine/cli/main.ts'].every((src) => {
    const js = `dist/${src.replace(/\.ts$/, '.js')}`;
    return existsSync(js) && statSync(js).mtimeMs >= statSync(src).mtimeMs;
  });
  it.runIf(built)('runs as a process from the built dist', async () => {
    await withTempDir(async (dir) => {
      const csv = join(dir, 'x.csv');
      await writeCsv(csv, [...COLS], [cells(bar('A', 0)), cells({ ...bar('A', 1), volume: -1 })]);
      const run = (extra: string[]) => {
        try {
          return { code: 0, out: execFileSync('node', ['dist/engine/cli/main.js', 'ingest', '--in', csv, ...extra], { encoding: 'utf8' }) };
        } catch (e) {
          const err = e as { status: number; stdout: string };
          return { code: err.status, out: err.stdout };
        }
      };
      const ok = run(['--out', join(dir, 'a')]);
      expect(ok.code).toBe(0);
      expect(ok.out).toMatch(/read 2 rows .* wrote 1 rows .* rejected 1/);
      expect(ok.out).toMatch(/negative_volume\s+1/);
      expect(run(['--out', join(dir, 'b'), '--strict']).code).toBe(STRICT_EXIT_CODE);
    });
  });
});
