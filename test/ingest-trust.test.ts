/**
 * `barstream ingest` says what it did not read (issue 8, items 6 and 15): files of another
 * format in an input folder are counted and named, empty files are named, a run with no
 * rows at all writes nothing, and `--strict` refuses empty inputs. Real files, a real
 * DuckDB and the built CLI as a process.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingest } from '../datasets/ingest.js';
import { cliBuilt, runCli } from './util/cli.js';
import { Cell, writeCsv } from './util/csv.js';
import { lit, query } from './util/duck.js';
import { withTempDir } from './util/tmp.js';
import { ingestError } from './util/ingest.js';

const HEADER = ['symbol', 'ts', 'open', 'high', 'low', 'close', 'volume'];
const day = (i: number) => new Date(Date.UTC(2022, 2, 1) + i * 86_400_000).toISOString().slice(0, 10);

function good(symbol: string, i: number): Cell[] {
  const low = 5 + i * 0.5;
  return [symbol, day(i), low + 0.25, low + 1, low, low + 0.75, 10 * (i + 1)];
}

const barsOf = (symbol: string, n: number) => Array.from({ length: n }, (_, i) => good(symbol, i));

/** Writes `rows` of the canonical columns to a Parquet file through DuckDB. */
async function writeParquet(path: string, rows: Cell[][]): Promise<void> {
  const values = rows.length
    ? rows.map((r) => `(${lit(String(r[0]))}, ${lit(String(r[1]))}::TIMESTAMP, ${r.slice(2).join(', ')})`).join(', ')
    : `('X', TIMESTAMP '2000-01-01', 1, 1, 1, 1, 1)`;
  await query(
    `COPY (SELECT symbol, ts, open::DOUBLE AS open, high::DOUBLE AS high, low::DOUBLE AS low, close::DOUBLE AS close, ` +
      `volume::DOUBLE AS volume FROM (VALUES ${values}) AS t(${HEADER.join(', ')}) ${rows.length ? '' : 'LIMIT 0'}) TO ${lit(path)} (FORMAT parquet)`,
  );
}

describe('ingest: files left out of an input folder are counted and named', () => {
  it('--format csv over a mixed folder names the Parquet and other files it skipped', async () => {
    await withTempDir(async (tmp) => {
      const dir = join(tmp, 'mixed');
      await mkdir(join(dir, 'sub'), { recursive: true });
      await writeCsv(join(dir, 'a.csv'), HEADER, barsOf('A', 5));
      await writeCsv(join(dir, 'sub', 'b.csv'), HEADER, barsOf('B', 7));
      await writeParquet(join(dir, 'a.parquet'), barsOf('PA', 3));
      await writeParquet(join(dir, 'sub', 'b.parquet'), barsOf('PB', 4));
      await writeFile(join(dir, 'notes.txt'), 'not bars\n');
      // Private entries are not inputs and are not listed.
      await writeFile(join(dir, '.DS_Store'), 'x');
      await mkdir(join(dir, '_rejected'));
      await writeParquet(join(dir, '_rejected', 'part-0.parquet'), barsOf('Q', 2));

      const mix = await ingestError({ input: dir, out: join(tmp, 'o0') });
      expect(mix.code).toBe('BARSTREAM_INVALID_PARAM');
      expect(mix.message).toMatch(/inputs mix formats/);

      const r = await ingest({ input: dir, out: join(tmp, 'o1'), format: 'csv' });
      expect([r.read, r.written, r.files]).toEqual([12, 12, [join(dir, 'a.csv'), join(dir, 'sub', 'b.csv')]]);
      const skipped = [join(dir, 'a.parquet'), join(dir, 'notes.txt'), join(dir, 'sub', 'b.parquet')];
      expect(r.skippedFiles).toEqual(skipped);
      const meta = JSON.parse(await readFile(join(tmp, 'o1', 'metadata.json'), 'utf8'));
      expect(meta.source.skippedFiles).toEqual(skipped);

      const p = await ingest({ input: dir, out: join(tmp, 'o2'), format: 'parquet' });
      expect([p.read, p.skippedFiles]).toEqual([7, [join(dir, 'a.csv'), join(dir, 'notes.txt'), join(dir, 'sub', 'b.csv')]]);

      // Without --format, only files that are neither CSV nor Parquet are skipped.
      const csvOnly = join(tmp, 'csvonly');
      await mkdir(csvOnly);
      await copyFile(join(dir, 'a.csv'), join(csvOnly, 'a.csv'));
      await copyFile(join(dir, 'notes.txt'), join(csvOnly, 'notes.txt'));
      const c = await ingest({ input: csvOnly, out: join(tmp, 'o3') });
      expect([c.read, c.skippedFiles]).toEqual([5, [join(csvOnly, 'notes.txt')]]);

      // A file skipped in a folder but named as another input is read, not reported.
      const extra = join(csvOnly, 'extra.dat');
      await writeCsv(extra, HEADER, barsOf('X', 2));
      const both = await ingest({ input: [csvOnly, extra], out: join(tmp, 'o4'), format: 'csv' });
      expect([both.read, both.files, both.skippedFiles]).toEqual([7, [join(csvOnly, 'a.csv'), extra], [join(csvOnly, 'notes.txt')]]);
    });
  });

  it.skipIf(!cliBuilt)('the CLI prints the skipped files in text (first five, then "and N more") and in --json', async () => {
    await withTempDir(async (tmp) => {
      const dir = join(tmp, 'in');
      await mkdir(dir);
      await writeCsv(join(dir, 'a.csv'), HEADER, barsOf('A', 3));
      const others = ['a.parquet', 'b.parquet', 'c.txt', 'd.json', 'e.parquet', 'f.md', 'g.parquet'];
      for (const f of others) await writeFile(join(dir, f), 'x');
      const text = runCli(tmp, 'ingest', '--in', 'in', '--out', 'o1', '--format', 'csv');
      expect(text.status).toBe(0);
      expect(text.stderr).toBe('');
      const shown = others.slice(0, 5).map((f) => `in/${f}`).join(', ');
      expect(text.stdout.split('\n')).toContain(`skipped ${others.length} files not matching --format csv: ${shown} and ${others.length - 5} more`);

      const json = runCli(tmp, 'ingest', '--in', 'in', '--out', 'o2', '--format', 'csv', '--json');
      expect(json.status).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({ read: 3, written: 3, skippedFiles: others.map((f) => join(dir, f)), emptyFiles: [] });

      const plain = join(tmp, 'plain');
      await mkdir(plain);
      await writeCsv(join(plain, 'a.csv'), HEADER, barsOf('A', 3));
      await writeFile(join(plain, 'notes.txt'), 'x');
      const one = runCli(tmp, 'ingest', '--in', 'plain', '--out', 'o3');
      expect(one.status).toBe(0);
      expect(one.stdout.split('\n')).toContain('skipped 1 file that is neither CSV nor Parquet: plain/notes.txt');
    });
  });
});

describe('ingest: empty inputs', () => {
  it('a 0-byte CSV or Parquet file is named as empty and nothing is written', async () => {
    await withTempDir(async (tmp) => {
      await writeCsv(join(tmp, 'ok.csv'), HEADER, barsOf('A', 3));
      await writeParquet(join(tmp, 'ok.parquet'), barsOf('A', 3));
      for (const [name, tail] of [
        ['empty.csv', '(0 bytes): no header, no rows'],
        ['empty.parquet', '(0 bytes): not a Parquet file'],
        ['blank.csv', '(blank lines only): no header, no rows'],
      ]) {
        await writeFile(join(tmp, name), name === 'blank.csv' ? '\n \n' : '');
        const out = join(tmp, 'out');
        const ok = join(tmp, name.endsWith('.csv') ? 'ok.csv' : 'ok.parquet');
        const e = await ingestError({ input: [ok, join(tmp, name)], out });
        expect([e.code, e.message]).toEqual(['BARSTREAM_BAD_INPUT', `${join(tmp, name)} is empty ${tail}`]);
        expect(existsSync(out)).toBe(false);
      }
      expect((await readdir(tmp)).filter((f) => f.startsWith('.'))).toEqual([]); // no staging folder left
    });
  });

  it('a header-only CSV or a 0-row Parquet is listed; alone it stops the run; emptyFiles: error refuses it', async () => {
    await withTempDir(async (tmp) => {
      const header = join(tmp, 'h.csv');
      await writeCsv(header, HEADER, []);
      const rows = barsOf('A', 4);
      await writeCsv(join(tmp, 'g.csv'), HEADER, rows);
      const r = await ingest({ input: [header, join(tmp, 'g.csv')], out: join(tmp, 'o1') });
      expect([r.read, r.written, r.rejected, r.emptyFiles]).toEqual([rows.length, rows.length, 0, [header]]);

      const zeroRows = join(tmp, 'z.parquet');
      await writeParquet(zeroRows, []);
      await writeParquet(join(tmp, 'p.parquet'), rows);
      const p = await ingest({ input: [zeroRows, join(tmp, 'p.parquet')], out: join(tmp, 'o2') });
      expect([p.read, p.emptyFiles]).toEqual([rows.length, [zeroRows]]);

      for (const [input, message] of [
        [[header], `no rows to ingest: ${header} has a header and no rows`],
        [[zeroRows], `no rows to ingest: ${zeroRows} holds no rows`],
        [[header, header.replace('h.csv', 'h2.csv')], `no rows to ingest: none of the 2 input files holds a row (${header}, ${join(tmp, 'h2.csv')})`],
      ] as const) {
        await writeCsv(join(tmp, 'h2.csv'), HEADER, []);
        const out = join(tmp, 'none');
        const e = await ingestError({ input: [...input], out });
        expect([e.code, e.message]).toEqual(['BARSTREAM_BAD_INPUT', message]);
        expect(existsSync(out)).toBe(false);
      }

      const strict = await ingestError({ input: [join(tmp, 'g.csv'), header], out: join(tmp, 'o3'), emptyFiles: 'error' });
      expect([strict.code, strict.message]).toEqual(['BARSTREAM_BAD_INPUT', `${header} has a header and no rows (an empty input is an error under --strict)`]);
      expect(existsSync(join(tmp, 'o3'))).toBe(false);
    });
  });

  it.skipIf(!cliBuilt)('the CLI warns on stderr for a header-only file, fails for no rows at all, and --strict fails for an empty input', async () => {
    await withTempDir(async (tmp) => {
      await writeCsv(join(tmp, 'h.csv'), HEADER, []);
      await writeCsv(join(tmp, 'g.csv'), HEADER, barsOf('A', 4));
      const h = join(tmp, 'h.csv');

      const warned = runCli(tmp, 'ingest', '--in', 'h.csv', 'g.csv', '--out', 'o1');
      expect(warned.status).toBe(0);
      expect(warned.stderr).toBe(`barstream: warning: ${h} has a header and no rows\n`);
      expect(warned.stdout).toMatch(/read 4 rows from 2 csv file\(s\); wrote 4 rows/);

      const json = runCli(tmp, 'ingest', '--in', 'h.csv', 'g.csv', '--out', 'o2', '--json');
      expect(JSON.parse(json.stdout)).toMatchObject({ read: 4, written: 4, emptyFiles: [h] });

      const alone = runCli(tmp, 'ingest', '--in', 'h.csv', '--out', 'o3');
      expect([alone.status, alone.stdout, alone.stderr]).toEqual([1, '', `barstream: no rows to ingest: ${h} has a header and no rows (BARSTREAM_BAD_INPUT)\n`]);
      expect(existsSync(join(tmp, 'o3'))).toBe(false);

      const strict = runCli(tmp, 'ingest', '--in', 'g.csv', 'h.csv', '--out', 'o4', '--strict');
      expect([strict.status, strict.stderr]).toEqual([1, `barstream: ${h} has a header and no rows (an empty input is an error under --strict) (BARSTREAM_BAD_INPUT)\n`]);
      expect(existsSync(join(tmp, 'o4'))).toBe(false);

      await writeFile(join(tmp, 'zero.csv'), '');
      const zero = runCli(tmp, 'ingest', '--in', 'zero.csv', '--out', 'o5');
      expect([zero.status, zero.stderr]).toEqual([1, `barstream: ${join(tmp, 'zero.csv')} is empty (0 bytes): no header, no rows (BARSTREAM_BAD_INPUT)\n`]);
    });
  });
});
