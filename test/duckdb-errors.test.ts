/**
 * DuckDB errors reach the user as one line naming the input file, the user's SQL or the
 * option at fault, with DuckDB's reason (no `LINE n:` excerpt of barstream's own SQL):
 * through the built CLI on real broken Parquet files, and `oneLine`/`fromNative` on real
 * DuckDB messages.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, generate } from '../engine/index.js';
import { BarstreamError, fromNative, oneLine } from '../engine/errors.js';
import { packageRoot } from '../engine/native.js';
import { explainReadError, withOrderFallback } from '../engine/partitions.js';
import { lit } from './util/duck.js';

const cli = join(packageRoot(), 'dist', 'engine', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const ONE_ERROR_LINE = /^barstream: [^\n]+ \(BARSTREAM_[A-Z_]+\)\n$/;

let tmp: string;
let data: string;
/** A Parquet file with the canonical columns but `close` renamed `price`. */
let renamed: string;
/** The first 3000 bytes of a real dataset file: no footer. */
let truncated: string;
/** A real dataset file with its data pages zeroed: the footer reads, the pages do not. */
let corrupt: string;

/** The error a DuckDB statement raises, as the node API reports it. */
async function duckError(sql: string, setup: string[] = []): Promise<string> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    for (const s of setup) await conn.run(s);
    await conn.run(sql);
  } catch (e) {
    return (e as Error).message;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  throw new Error(`no error from ${sql}`);
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'barstream-duckerr-'));
  data = join(tmp, 'ds');
  await generate({ out: data, symbols: 4, bars: 400, seed: 6, buckets: 2 });
  const part = join(data, 'bucket=0', 'part-0.parquet');
  renamed = join(tmp, 'renamed.parquet');
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  await conn.run(`COPY (SELECT * RENAME (close AS price) FROM read_parquet(${lit(part)})) TO ${lit(renamed)} (FORMAT parquet)`);
  conn.closeSync();
  instance.closeSync();
  truncated = join(tmp, 'trunc.parquet');
  await writeFile(truncated, (await readFile(part)).subarray(0, 3000));
  corrupt = join(tmp, 'corrupt.parquet');
  await copyFile(part, corrupt);
  const bytes = await readFile(corrupt);
  bytes.fill(0, 64, Math.floor(bytes.length / 2));
  await writeFile(corrupt, bytes);
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe.skipIf(!existsSync(cli))('scan through the built CLI: one line naming the input, SQL or option', () => {
  const expectOneLine = (r: ReturnType<typeof run>, ...parts: string[]) => {
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(ONE_ERROR_LINE);
    expect(r.stderr).not.toMatch(/LINE \d+:/);
    for (const p of parts) expect(r.stderr).toContain(p);
  };

  it('a Parquet file lacking a canonical column is named, with the column and DuckDB reason', () => {
    const r = run('scan', '--data', renamed);
    expectOneLine(r, `input ${renamed} lacks column close`, 'Binder Error', '(BARSTREAM_BAD_INPUT)');
    // Also when it is one input among others (it is read in its own partition).
    expectOneLine(run('scan', '--data', data, '--data', renamed), `input ${renamed} lacks column close`);
  });

  it("the user's SQL: its own words, not barstream's wrapper", () => {
    const r = run('scan', '--data', data, '--sql', 'SELEC * FROM bars');
    expectOneLine(r, 'the SQL source is invalid: Parser Error: syntax error at or near "SELEC"', '(BARSTREAM_DUCKDB)');
    // An error at the end of the SQL is at its end, not at barstream's closing parenthesis.
    expectOneLine(run('scan', '--data', data, '--sql', 'SELECT * FROM bars WHERE'), 'the SQL source is invalid: Parser Error: syntax error at end of input');
    expectOneLine(run('scan', '--data', data, '--sql', 'SELECT *\nFROM bars\nWHERE nope > 1'), 'Referenced column "nope" not found', '(line 3 of the SQL)');
  });

  it('a truncated Parquet file (no footer) is named', () => {
    expectOneLine(run('scan', '--data', truncated), `cannot read ${truncated}: `, 'No magic bytes');
    expectOneLine(run('scan', '--data', data, '--data', truncated), `cannot read ${truncated}: `);
  });

  it('a file whose pages fail while the job reads them gives one line', () => {
    // Naming the file needs explainReadError wired into scan (see the API test below).
    expectOneLine(run('scan', '--data', corrupt), '(BARSTREAM_DUCKDB)');
  });

  it('--memory-limit too small for DuckDB names the option, not the source', () => {
    const r = run('scan', '--data', data, '--memory-limit', '1KB');
    expectOneLine(r, '--memory-limit', '1KB', 'Out of Memory Error', '(BARSTREAM_INVALID_PARAM)');
    expect(r.stderr).not.toContain('the source must give');
  });
});

describe('Engine.open names the input, as the CLI does', () => {
  it('with the API error codes', async () => {
    await expect(Engine.open({ dataset: renamed })).rejects.toMatchObject({ code: 'BARSTREAM_BAD_INPUT', message: expect.stringMatching(/^input .*renamed\.parquet lacks column close \(it has [^\n]*price/) });
    await expect(Engine.open({ dataset: [data, truncated] })).rejects.toMatchObject({ code: 'BARSTREAM_DUCKDB', message: expect.stringMatching(/^cannot read .*trunc\.parquet: [^\n]+$/) });
    await expect(Engine.open({ dataset: data, memoryLimit: '1KB' })).rejects.toMatchObject({ code: 'BARSTREAM_INVALID_PARAM', message: expect.stringMatching(/^memory limit 1KB \(--memory-limit\)[^\n]+$/) });
  });

  it('explainReadError names the file whose pages fail while a job reads them', async () => {
    const engine = await Engine.open({ dataset: [data, corrupt] });
    const raw = await engine.scan().then(
      () => expect.fail('the scan read a corrupt file'),
      (e: unknown) => e,
    );
    expect(raw).toMatchObject({ code: 'BARSTREAM_DUCKDB' });
    const named = explainReadError(engine.db, engine.files, raw);
    expect(named).toMatchObject({ code: 'BARSTREAM_DUCKDB', message: expect.stringMatching(/^cannot read .*corrupt\.parquet: [^\n]+$/) });
    // Through withOrderFallback, as a job wires it.
    const job = withOrderFallback(() => engine.scan(), (e) => explainReadError(engine.db, engine.files, e));
    await expect(job).rejects.toMatchObject({ message: (named as Error).message });
    engine.close();
  });
});

describe('oneLine and fromNative on real DuckDB messages', () => {
  it('keep the first paragraph, drop the LINE excerpt, caret and "Possible solutions"', async () => {
    const binder = await duckError('SELECT nope FROM range(3) AS t(a)');
    expect(binder).toMatch(/\nLINE 1:/);
    expect(oneLine(binder)).toBe(binder.split('\n\n')[0].replace(/\n/g, ' '));
    expect(oneLine(binder)).not.toContain('\n');

    const oom = await duckError('SELECT count(*) FROM (SELECT range % 1000 AS k, list(range) FROM range(1000000) GROUP BY k)', [`SET memory_limit = '1KB'`, 'SET threads = 1']);
    expect(oom).toMatch(/^Out of Memory Error/);
    expect(oom).toContain('Possible solutions');
    const line = oneLine(oom);
    expect(line).not.toContain('\n');
    expect(line).not.toContain('Possible solutions');
    expect(line.startsWith('Out of Memory Error')).toBe(true);

    // As the addon reports a DuckDB error: "[CODE] message".
    const err = fromNative(new Error(`[BARSTREAM_DUCKDB] ${binder}`));
    expect(err).toBeInstanceOf(BarstreamError);
    expect((err as BarstreamError).message).toBe(oneLine(binder));
    const read = fromNative(new Error('[BARSTREAM_DUCKDB] Invalid Input Error: Failed to read file "/x/a.parquet": boom\n\nmore'));
    expect((read as BarstreamError).message).toBe('cannot read /x/a.parquet: boom (Invalid Input Error)');
  });
});
