/**
 * `barstream ingest` on the files vendors ship (issue 11 item 1): the symbol from the file
 * name, timestamp forms, sources without volume or with only a close, CSV dialects. Real
 * files on disk, the built CLI and the API, a real DuckDB; expected values are computed
 * here from what the test writes. Every run's counts must add up.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingest, IngestResult } from '../datasets/ingest.js';
import { Engine } from '../engine/engine.js';
import { cli, cliBuilt } from './util/cli.js';
import { lit, query } from './util/duck.js';
import { withTempDir } from './util/tmp.js';
import { ingestError } from './util/ingest.js';

type Row = { symbol: string; ts: string; open: number; high: number; low: number; close: number; volume: number | null };

/** Every bar written, ts as ISO UTC text, sorted by (symbol, ts). */
async function bars(out: string): Promise<Row[]> {
  return (await query(
    `SELECT symbol, strftime(ts, '%Y-%m-%dT%H:%M:%S') AS ts, open, high, low, close, volume ` +
      `FROM read_parquet(${lit(`${out}/bucket=*/*.parquet`)}) ORDER BY symbol, ts`,
  )) as unknown as Row[];
}

const metadata = async (out: string) => JSON.parse(await readFile(join(out, 'metadata.json'), 'utf8'));

function expectCountsAddUp(r: { read: number; written: number; rejected: number; superseded: number; byReason: Record<string, number | undefined> }): void {
  expect(r.read).toBe(r.written + r.rejected + r.superseded);
  expect(Object.values(r.byReason).reduce((s: number, n) => s + (n ?? 0), 0)).toBe(r.rejected + r.superseded);
}

/** Runs the built CLI with --json; returns its counts. */
function cliIngest(args: string[]): IngestResult {
  const r = cli(['ingest', ...args, '--json']);
  expect(r.stderr.replace(/barstream: warning: .*\n/g, '')).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as IngestResult;
}

/** An OHLCV line for day i (prices not round, so text -> double is exercised). */
function ohlcv(i: number, k: number): [number, number, number, number, number] {
  const low = 20 + i * 0.37 + k;
  return [low + 0.11, low + 2.5, low, low + 1.7, 1000 + i * 3.25];
}

const day = (i: number) => new Date(Date.UTC(2024, 0, 2) + i * 86_400_000).toISOString().slice(0, 10);

describe.skipIf(!cliBuilt)('ingest: the symbol from the file name', () => {
  it('one file per ticker, no symbol column: base name, then a regex group; CLI and API agree', async () => {
    await withTempDir(async (dir) => {
      const names = { 'AAPL.csv': 'AAPL', 'MSFT.csv': 'MSFT', 'BRK.B.csv': 'BRK.B' } as Record<string, string>;
      const expected: Row[] = [];
      for (const [k, [file, symbol]] of Object.entries(names).entries()) {
        const lines = ['Date,Open,High,Low,Close,Volume'];
        for (let i = 0; i < 5; i++) {
          const [o, h, l, c, v] = ohlcv(i, k);
          lines.push([day(i), o, h, l, c, v].join(','));
          expected.push({ symbol, ts: `${day(i)}T00:00:00`, open: o, high: h, low: l, close: c, volume: v });
        }
        await writeFile(join(dir, file), lines.join('\n') + '\n');
      }
      expected.sort((a, b) => (a.symbol === b.symbol ? a.ts.localeCompare(b.ts) : a.symbol < b.symbol ? -1 : 1));
      const files = Object.keys(names).map((f) => join(dir, f));
      const byCli = cliIngest(['--in', ...files, '--out', join(dir, 'cli'), '--map', 'ts=Date', '--symbol-from-filename']);
      expect([byCli.read, byCli.written, byCli.rejected, byCli.symbols]).toEqual([15, 15, 0, 3]);
      expect(await bars(join(dir, 'cli'))).toEqual(expected);
      const api = await ingest({ input: files, out: join(dir, 'api'), map: 'ts=Date', symbolFromFilename: true });
      expectCountsAddUp(api);
      expect(await bars(join(dir, 'api'))).toEqual(expected);

      // A regex: `AAPL_1d.csv` -> AAPL; a name that does not match is refused, naming it.
      await writeFile(join(dir, 'AAPL_1d.csv'), await readFile(files[0], 'utf8'));
      const re = await ingest({ input: join(dir, 'AAPL_1d.csv'), out: join(dir, 're'), map: 'ts=Date', symbolFromFilename: '(?<symbol>[A-Z.]+)_1d\\.csv' });
      expectCountsAddUp(re);
      expect(await bars(join(dir, 're'))).toEqual(expected.filter((b) => b.symbol === 'AAPL'));
      const e = await ingestError({ input: files[1], out: join(dir, 'no'), map: 'ts=Date', symbolFromFilename: '(?<symbol>[A-Z.]+)_1d\\.csv' });
      expect(e.message).toContain('MSFT.csv');
      expect((await ingestError({ input: files[1], out: join(dir, 'no'), symbolFromFilename: '([A-Z]+)' })).message).toContain('(?<symbol>');
    });
  });
});

describe.skipIf(!cliBuilt)('ingest: timestamps', () => {
  it('ISO dates and date-times with and without offsets become UTC; a bad one is bad_ts naming the format', async () => {
    await withTempDir(async (dir) => {
      const rows: [string, string][] = [
        ['2024-01-02', '2024-01-02T00:00:00'],
        ['2024-01-03 15:30:00', '2024-01-03T15:30:00'],
        ['2024-01-04T15:30:00+02:00', '2024-01-04T13:30:00'],
        ['2024-01-05T23:30:00-05:00', '2024-01-06T04:30:00'],
        ['2024-01-07T10:00:00Z', '2024-01-07T10:00:00'],
        ['2024-13-45', ''],
      ];
      const lines = ['symbol,ts,open,high,low,close,volume', ...rows.map(([t], i) => ['X', t, ...ohlcv(i, 0)].join(','))];
      const csv = join(dir, 'iso.csv');
      await writeFile(csv, lines.join('\n') + '\n');
      const r = cliIngest(['--in', csv, '--out', join(dir, 'o')]);
      expectCountsAddUp(r);
      expect([r.read, r.written, r.rejected, r.byReason]).toEqual([6, 5, 1, { bad_ts: 1 }]);
      expect((await bars(join(dir, 'o'))).map((b) => b.ts)).toEqual(rows.slice(0, 5).map(([, u]) => u));
      const rej = await query(`SELECT row, reason, ts FROM read_parquet(${lit(join(dir, 'o', '_rejected', 'part-0.parquet'))})`);
      expect(rej).toEqual([{ row: 6, reason: 'bad_ts', ts: '2024-13-45' }]);
      const bad = cli(['ingest', '--in', csv, '--out', join(dir, 'e'), '--on-bad-rows', 'error']);
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toMatch(/iso\.csv row 6: bad_ts .*as ISO 8601 date or date-time/);
    });
  });

  it('--ts-format, --ts-unit and --tz, through the CLI', async () => {
    await withTempDir(async (dir) => {
      const write = async (name: string, ts: string[]) => {
        const path = join(dir, name);
        await writeFile(path, ['symbol,ts,open,high,low,close,volume', ...ts.map((t, i) => ['X', t, ...ohlcv(i, 0)].join(','))].join('\n') + '\n');
        return path;
      };
      const us = await write('us.csv', ['01/02/2024', '12/31/2024', '2024-01-03']);
      const a = cliIngest(['--in', us, '--out', join(dir, 'a'), '--ts-format', '%m/%d/%Y']);
      expectCountsAddUp(a);
      expect([a.written, a.byReason]).toEqual([2, { bad_ts: 1 }]);
      expect((await bars(join(dir, 'a'))).map((b) => b.ts)).toEqual(['2024-01-02T00:00:00', '2024-12-31T00:00:00']);
      const bad = cli(['ingest', '--in', us, '--out', join(dir, 'a2'), '--ts-format', '%m/%d/%Y', '--on-bad-rows', 'error']);
      expect(bad.stderr).toMatch(/us\.csv row 3: bad_ts .*as --ts-format %m\/%d\/%Y/);

      // Epoch numbers: the same instants in each unit, computed here with Date.UTC.
      const instants = [Date.UTC(2024, 0, 2, 14, 30), Date.UTC(2024, 6, 1, 0, 0, 1)];
      const iso = instants.map((ms) => new Date(ms).toISOString().slice(0, 19));
      for (const [unit, f] of [['s', (ms: number) => String(ms / 1000)], ['ms', String], ['us', (ms: number) => `${ms}000`], ['ns', (ms: number) => `${ms}000000`]] as const) {
        const p = await write(`epoch-${unit}.csv`, instants.map(f));
        const r = cliIngest(['--in', p, '--out', join(dir, unit), '--ts-unit', unit]);
        expectCountsAddUp(r);
        expect((await bars(join(dir, unit))).map((b) => b.ts)).toEqual(iso);
      }

      // New York local times: EST (UTC-5) in January, EDT (UTC-4) in July; an explicit offset wins.
      const ny = await write('ny.csv', ['2024-01-02 09:30:00', '2024-07-01 09:30:00', '2024-07-02T09:30:00+00:00']);
      const t = cliIngest(['--in', ny, '--out', join(dir, 'ny'), '--tz', 'America/New_York']);
      expectCountsAddUp(t);
      expect((await bars(join(dir, 'ny'))).map((b) => b.ts)).toEqual(['2024-01-02T14:30:00', '2024-07-01T13:30:00', '2024-07-02T09:30:00']);
      const nope = cli(['ingest', '--in', ny, '--out', join(dir, 'bad-tz'), '--tz', 'Mars/Olympus']);
      expect(nope.status).not.toBe(0);
      expect(nope.stderr).toContain('Mars/Olympus');
    });
  });

  it('DATE and TIMESTAMP WITH TIME ZONE Parquet columns', async () => {
    await withTempDir(async (dir) => {
      const pq = join(dir, 'tz.parquet');
      await query(
        `COPY (SELECT * FROM (VALUES ('A', DATE '2024-01-02', TIMESTAMPTZ '2024-01-02 09:30:00-05:00', 10.5, 11.0, 10.0, 10.7, 5.0), ` +
          `('A', DATE '2024-01-03', TIMESTAMPTZ '2024-01-03 16:00:00+01:00', 10.6, 11.1, 10.1, 10.8, 6.0)) ` +
          `t(symbol, d, tstz, open, high, low, close, volume)) TO ${lit(pq)} (FORMAT parquet)`,
      );
      const d = await ingest({ input: pq, out: join(dir, 'd'), map: 'ts=d' });
      expectCountsAddUp(d);
      expect((await bars(join(dir, 'd'))).map((b) => b.ts)).toEqual(['2024-01-02T00:00:00', '2024-01-03T00:00:00']);
      const z = await ingest({ input: pq, out: join(dir, 'z'), map: 'ts=tstz' });
      expectCountsAddUp(z);
      expect((await bars(join(dir, 'z'))).map((b) => b.ts)).toEqual(['2024-01-02T14:30:00', '2024-01-03T15:00:00']);
    });
  });
});

describe.skipIf(!cliBuilt)('ingest: sources without volume, and with only a close', () => {
  it('no volume column: volume NULL, metadata volume false, the run says so', async () => {
    await withTempDir(async (dir) => {
      const csv = join(dir, 'fx.csv');
      const data = [0, 1, 2].map((i) => ohlcv(i, 0));
      await writeFile(csv, ['symbol,ts,open,high,low,close', ...data.map(([o, h, l, c], i) => ['EURUSD', day(i), o, h, l, c].join(','))].join('\n') + '\n');
      const r = cli(['ingest', '--in', csv, '--out', join(dir, 'o'), '--json']);
      expect(r.status).toBe(0);
      expect(r.stderr).toContain('volume is NULL');
      expectCountsAddUp(JSON.parse(r.stdout));
      const got = await bars(join(dir, 'o'));
      expect(got.map((b) => [b.open, b.close, b.volume])).toEqual(data.map(([o, , , c]) => [o, c, null]));
      expect((await metadata(join(dir, 'o'))).volume).toBe(false);

      // A formula that reads volume is refused, naming the dataset; one on close runs.
      const engine = await Engine.open({ dataset: join(dir, 'o'), threads: 1 });
      try {
        await expect(engine.screen({ formula: 'volume > 0', out: join(dir, 's1') })).rejects.toMatchObject({
          code: 'BARSTREAM_BAD_INPUT',
          message: expect.stringContaining(`reads volume, which dataset ${join(dir, 'o')} lacks`),
        });
        const ok = await engine.screen({ formula: 'close > 0', out: join(dir, 's2') });
        expect(ok.matches.map((m) => m.symbol)).toEqual(['EURUSD']); // a screen matches each symbol's last bar
      } finally {
        engine.close();
      }
      const bt = cli(['backtest', '--data', join(dir, 'o'), '--formula', 'entry = volume > 0\nexit = close < 0', '--out', join(dir, 'bt')]);
      expect(bt.status).not.toBe(0);
      expect(bt.stderr).toContain('reads volume');
    });
  });

  it('--close-only: open = high = low = close, recorded and printed', async () => {
    await withTempDir(async (dir) => {
      const csv = join(dir, 'idx.csv');
      const closes = [101.25, 102.5, -3, 99.75];
      await writeFile(csv, ['symbol,date,close', ...closes.map((c, i) => ['SPX', day(i), c].join(','))].join('\n') + '\n');
      const r = cli(['ingest', '--in', csv, '--out', join(dir, 'o'), '--map', 'ts=date', '--close-only', '--json']);
      expect(r.status).toBe(0);
      expect(r.stderr).toContain('--close-only');
      const counts = JSON.parse(r.stdout);
      expectCountsAddUp(counts);
      expect(counts.byReason).toEqual({ nonpositive_price: 1 });
      const got = await bars(join(dir, 'o'));
      const good = closes.filter((c) => c > 0);
      expect(got.map((b) => [b.open, b.high, b.low, b.close])).toEqual(good.map((c) => [c, c, c, c]));
      const meta = await metadata(join(dir, 'o'));
      expect([meta.closeOnly, meta.volume]).toEqual([true, false]);
      // Without --close-only the missing open is named.
      expect((await ingestError({ input: csv, out: join(dir, 'x'), map: 'ts=date' })).message).toMatch(/idx\.csv: column 'open'/);
    });
  });
});

describe.skipIf(!cliBuilt)('ingest: CSV dialects', () => {
  const data = [0, 1, 2].map((i) => ohlcv(i, 0));
  const text = (sep: string, comma: boolean) =>
    ['symbol', 'ts', 'open', 'high', 'low', 'close', 'volume'].join(sep) +
    '\n' +
    data.map(([o, h, l, c, v], i) => ['X', day(i), ...[o, h, l, c, v].map((n) => (comma ? String(n).replace('.', ',') : String(n)))].join(sep)).join('\n') +
    '\n';
  const expected = data.map(([o, h, l, c, v]) => [o, h, l, c, v]);
  const values = async (out: string) => (await bars(out)).map((b) => [b.open, b.high, b.low, b.close, b.volume]);

  it('; with decimal commas and | are sniffed; --delimiter tab and --decimal-comma are taken as given', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'eu.csv'), text(';', true));
      const eu = cliIngest(['--in', join(dir, 'eu.csv'), '--out', join(dir, 'eu')]);
      expectCountsAddUp(eu);
      expect(eu.written).toBe(3);
      expect(await values(join(dir, 'eu'))).toEqual(expected);

      await writeFile(join(dir, 'pipe.csv'), text('|', false));
      expectCountsAddUp(cliIngest(['--in', join(dir, 'pipe.csv'), '--out', join(dir, 'pipe')]));
      expect(await values(join(dir, 'pipe'))).toEqual(expected);

      await writeFile(join(dir, 'tab.txt.csv'), text('\t', true));
      const tab = cliIngest(['--in', join(dir, 'tab.txt.csv'), '--out', join(dir, 'tab'), '--delimiter', 'tab', '--decimal-comma']);
      expectCountsAddUp(tab);
      expect(await values(join(dir, 'tab'))).toEqual(expected);
      const api = await ingest({ input: join(dir, 'tab.txt.csv'), out: join(dir, 'tab-api'), delimiter: '\t', decimalComma: true });
      expectCountsAddUp(api);
      expect(await values(join(dir, 'tab-api'))).toEqual(expected);
    });
  });
});

describe.skipIf(!cliBuilt)('ingest: --prefer between sources', () => {
  it('a (symbol, ts) in several inputs comes from the first; the rest are superseded, quarantined with their source', async () => {
    await withTempDir(async (dir) => {
      // Vendor A has days 0-3 of X; vendor B has days 2-5 of X (closes differ) and days 0-1 of Y.
      const write = async (name: string, rows: [string, number, number][]) => {
        const path = join(dir, name);
        const lines = rows.map(([sym, i, k]) => [sym, day(i), ...ohlcv(i, k)].join(','));
        await writeFile(path, ['symbol,ts,open,high,low,close,volume', ...lines].join('\n') + '\n');
        return path;
      };
      const a = await write('a.csv', [0, 1, 2, 3].map((i) => ['X', i, 0] as [string, number, number]));
      const b = await write('b.csv', [
        ...[2, 3, 4, 5].map((i) => ['X', i, 5] as [string, number, number]),
        ['Y', 0, 0], ['Y', 1, 0], ['Y', 1, 0],
      ]);
      // Expected: X days 0-3 from A (k = 0), days 4-5 from B (k = 5); Y days 0-1; B's X days 2-3 superseded, B's second Y day 1 a duplicate.
      const want = [
        ...[0, 1, 2, 3].map((i) => ['X', `${day(i)}T00:00:00`, ohlcv(i, 0)[3]]),
        ...[4, 5].map((i) => ['X', `${day(i)}T00:00:00`, ohlcv(i, 5)[3]]),
        ...[0, 1].map((i) => ['Y', `${day(i)}T00:00:00`, ohlcv(i, 0)[3]]),
      ];
      const r = cliIngest(['--in', a, b, '--out', join(dir, 'ab'), '--prefer']);
      expectCountsAddUp(r);
      expect([r.read, r.written, r.rejected, r.superseded, r.byReason]).toEqual([11, 8, 1, 2, { duplicate: 1, superseded: 2 }]);
      expect((await bars(join(dir, 'ab'))).map((x) => [x.symbol, x.ts, x.close])).toEqual(want);
      const q = await query(`SELECT reason, source_file, row, ts FROM read_parquet(${lit(join(dir, 'ab', '_rejected', 'part-0.parquet'))}) ORDER BY source_file, row`);
      expect(q).toEqual([
        { reason: 'superseded', source_file: b, row: 1, ts: day(2) },
        { reason: 'superseded', source_file: b, row: 2, ts: day(3) },
        { reason: 'duplicate', source_file: b, row: 7, ts: day(1) },
      ]);
      const meta = await metadata(join(dir, 'ab'));
      expect([meta.counts.superseded, meta.rejected.rows]).toEqual([2, 3]);

      // The other order of precedence takes B's closes; without --prefer the overlap is duplicate (bad rows).
      const ba = await ingest({ input: [b, a], out: join(dir, 'ba'), prefer: true, onBadRows: 'skip' });
      expectCountsAddUp(ba);
      expect([ba.superseded, ba.rejected]).toEqual([2, 1]);
      expect((await bars(join(dir, 'ba'))).filter((x) => x.symbol === 'X').map((x) => x.close)).toEqual([
        ohlcv(0, 0)[3], ohlcv(1, 0)[3], ...[2, 3, 4, 5].map((i) => ohlcv(i, 5)[3]),
      ]);
      const plain = await ingest({ input: [a, b], out: join(dir, 'plain'), onBadRows: 'skip' });
      expectCountsAddUp(plain);
      expect([plain.superseded, plain.rejected, plain.byReason]).toEqual([0, 3, { duplicate: 3 }]);
      // Superseded rows never stop an `error` run; the duplicate does, and is the one named.
      const e = await ingestError({ input: [a, b], out: join(dir, 'err'), prefer: true, onBadRows: 'error' });
      expect(e.message).toMatch(/b\.csv row 7: duplicate/);
    });
  });
});

describe.skipIf(!cliBuilt)('ingest: ragged or unparseable CSV lines are bad rows naming their line', () => {
  // Lines 2-3 good, 4 too few fields, 5 an empty field too few, 6 a good row with a quoted
  // field, 7 too many fields, 8 a good line with a bad price (checked after the malformed
  // ones: its row number must stay 7), 9 good, 10 an unterminated quote (to the end of the file).
  const line = (i: number, k = 0) => ['Z', day(i), ...ohlcv(i, k)].join(',');
  const lines = [
    'symbol,ts,open,high,low,close,volume',
    line(0),
    line(1),
    ['Z', day(2), '20.5', '22'].join(','),
    ['Z', day(2), '20.5', '22', '19', '21'].join(','),
    `"Z",${day(3)},${ohlcv(3, 0).join(',')}`,
    `${line(4)},extra`,
    ['Z', day(5), 'abc', ...ohlcv(5, 0).slice(1)].join(','),
    line(6),
    `"Z,${day(7)},${ohlcv(7, 0).join(',')}`,
  ];
  const malformed = [4, 5, 7, 10]; // file lines
  const kept = [0, 1, 3, 6];

  it('skip and quarantine count them, error names the first by file and line; good rows keep their numbers', async () => {
    await withTempDir(async (dir) => {
      const csv = join(dir, 'ragged.csv');
      await writeFile(csv, lines.join('\n') + '\n');
      const q = cliIngest(['--in', csv, '--out', join(dir, 'q')]);
      expectCountsAddUp(q);
      expect([q.read, q.written, q.rejected, q.byReason]).toEqual([lines.length - 1, kept.length, 5, { malformed_line: 4, bad_price: 1 }]);
      expect((await bars(join(dir, 'q'))).map((x) => [x.ts, x.close])).toEqual(kept.map((i) => [`${day(i)}T00:00:00`, ohlcv(i, 0)[3]]));
      const rej = await query(
        `SELECT reason, source_file, row, source['line'] AS line, source['text'] AS text, source['error'] AS error ` +
          `FROM read_parquet(${lit(join(dir, 'q', '_rejected', 'part-0.parquet'))}) ORDER BY row`,
      );
      expect(rej.map((x) => [x.reason, x.source_file, x.row, x.line])).toEqual([
        ['malformed_line', csv, 3, '4'],
        ['malformed_line', csv, 4, '5'],
        ['malformed_line', csv, 6, '7'],
        ['bad_price', csv, 7, null],
        ['malformed_line', csv, 9, '10'],
      ]);
      expect(rej.map((x) => x.text).slice(0, 3)).toEqual([lines[3], lines[4], lines[6]]);
      expect(String(rej[0].error)).toMatch(/Expected Number of Columns: 7/);

      const s = await ingest({ input: csv, out: join(dir, 's'), onBadRows: 'skip' });
      expectCountsAddUp(s);
      expect([s.read, s.written, s.rejected, s.rejectedPath]).toEqual([q.read, q.written, q.rejected, null]);
      expect(await bars(join(dir, 's'))).toEqual(await bars(join(dir, 'q')));

      const e = await ingestError({ input: csv, out: join(dir, 'e'), onBadRows: 'error' });
      expect(e.code).toBe('BARSTREAM_BAD_INPUT');
      expect(e.message).toContain(`bad row in ${csv} line ${malformed[0]}: malformed_line (Expected Number of Columns: 7`);
      expect(e.message).toContain(JSON.stringify(lines[3]));
    });
  });

  it('a well-formed file is read as before: every row, quoted fields and CRLF line ends', async () => {
    await withTempDir(async (dir) => {
      const csv = join(dir, 'crlf.csv');
      const good = ['"symbol","ts","open","high","low","close","volume"', ...[0, 1, 2].map((i) => `"Z",${line(i)}`.replace('"Z",Z,', '"Z",'))];
      await writeFile(csv, good.join('\r\n') + '\r\n');
      const r = cliIngest(['--in', csv, '--out', join(dir, 'o')]);
      expect([r.read, r.written, r.rejected]).toEqual([3, 3, 0]);
      expect((await bars(join(dir, 'o'))).map((x) => x.close)).toEqual([0, 1, 2].map((i) => ohlcv(i, 0)[3]));
    });
  });
});

describe.skipIf(!cliBuilt)('ingest: --prefer as a list of inputs', () => {
  it('--prefer b,a and repeated --prefer take the list as the precedence, whatever the --in order', async () => {
    await withTempDir(async (dir) => {
      const write = async (name: string, k: number, days: number[]) => {
        const path = join(dir, name);
        await writeFile(path, ['symbol,ts,open,high,low,close,volume', ...days.map((i) => ['X', day(i), ...ohlcv(i, k)].join(','))].join('\n') + '\n');
        return path;
      };
      const a = await write('a.csv', 0, [0, 1, 2]);
      const b = await write('b.csv', 5, [1, 2, 3]);
      const c = await write('c.csv', 9, [2, 3, 4]);
      const closes = async (out: string) => (await bars(out)).map((x) => x.close);
      // b over a, c unlisted (last): days 0 a, 1-3 b, 4 c; superseded: a's 1, 2 and c's 2, 3.
      const want = [ohlcv(0, 0)[3], ...[1, 2, 3].map((i) => ohlcv(i, 5)[3]), ohlcv(4, 9)[3]];
      const listed = cliIngest(['--in', a, b, c, '--out', join(dir, 'l'), '--prefer', `${b},${a}`]);
      expectCountsAddUp(listed);
      expect([listed.read, listed.written, listed.superseded, listed.rejected]).toEqual([9, 5, 4, 0]);
      expect(await closes(join(dir, 'l'))).toEqual(want);
      const rej = await query(`SELECT source_file, ts FROM read_parquet(${lit(join(dir, 'l', '_rejected', 'part-0.parquet'))}) ORDER BY source_file, row`);
      expect(rej).toEqual([
        { source_file: a, ts: day(1) }, { source_file: a, ts: day(2) },
        { source_file: c, ts: day(2) }, { source_file: c, ts: day(3) },
      ]);
      const repeated = cliIngest(['--in', a, b, c, '--prefer', 'b.csv', '--prefer', 'a.csv', '--out', join(dir, 'r')].map((x) => x === 'b.csv' ? b : x === 'a.csv' ? a : x));
      expect(await closes(join(dir, 'r'))).toEqual(want);
      expect(repeated.superseded).toBe(4);
      // The same through the API, the path given another way; the old form keeps the --in order.
      const api = await ingest({ input: [a, b, c], out: join(dir, 'api'), prefer: [join(dir, '.', 'b.csv'), a], onBadRows: 'skip' });
      expect(await closes(join(dir, 'api'))).toEqual(want);
      expect((await metadata(join(dir, 'api'))).source.prefer).toEqual([b, a, c]);
      cliIngest(['--in', a, b, c, '--out', join(dir, 'old'), '--prefer']);
      expect(await closes(join(dir, 'old'))).toEqual([...[0, 1, 2].map((i) => ohlcv(i, 0)[3]), ohlcv(3, 5)[3], ohlcv(4, 9)[3]]);

      const e = await ingestError({ input: [a, b], out: join(dir, 'e'), prefer: [c] });
      expect(e).toMatchObject({ code: 'BARSTREAM_INVALID_PARAM', message: expect.stringContaining(`--prefer ${c} is not one of the inputs`) });
      const cliErr = cli(['ingest', '--in', a, b, '--out', join(dir, 'e2'), '--prefer', `${a},${a}`]);
      expect(cliErr.status).not.toBe(0);
      expect(cliErr.stderr).toContain(`--prefer names ${a} twice`);
    });
  });
});
