/**
 * `barstream query` and `query()` over real backtest outputs: an incomplete output (no
 * manifest) is refused unless `--allow-incomplete`; `--json` (JSON Lines) and `--csv` stream
 * with bounded memory, stop quietly on a closed pipe and equal DuckDB's own result row for
 * row; `--sql-file` (a file or stdin) carries SQL longer than one argument may be.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, generate } from '../engine/index.js';
import { query, QuerySession } from '../engine/query.js';
import { runQuery } from '../engine/cli/query.js';
import { readSqlFile } from '../engine/cli/sqlfile.js';
import { packageRoot } from '../engine/native.js';
import { lit, query as duck } from './util/duck.js';

const cli = join(packageRoot(), 'dist', 'engine', 'cli', 'main.js');
const run = (args: string[], input?: string) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', input, maxBuffer: 64 << 20 });
/** One line on stderr, `barstream: ... (CODE)`. */
const ONE_ERROR_LINE = /^barstream: [^\n]+ \(BARSTREAM_[A-Z_]+\)\n$/;

let tmp: string;
let data: string;
let out: string;
/** The dataset's buckets, counted from its folders (the backtest has one per bucket). */
let buckets: number[];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'barstream-qtrust-'));
  data = join(tmp, 'data');
  out = join(tmp, 'out');
  await generate({ out: data, symbols: 9, bars: 600, seed: 4, buckets: 3 });
  buckets = (await readdir(data))
    .map((d) => /^bucket=(\d+)$/.exec(d)?.[1])
    .filter((k): k is string => k !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  expect(buckets.length).toBe(3);
  const engine = await Engine.open({ dataset: data, threads: 2 });
  await engine.backtest({ out, feeBps: 1 });
  engine.close();
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A copy of the complete output without its manifest, and without the markers of `drop`. */
async function interrupted(name: string, drop: number[] = []): Promise<string> {
  const dir = join(tmp, name);
  await cp(out, dir, { recursive: true });
  await rm(join(dir, '_manifest.json'));
  for (const k of drop) await rm(join(dir, '_state', `bucket-${k}.json`));
  return dir;
}

/** The rows of the signals files actually in `dir`, counted by another DuckDB. */
async function signalRows(dir: string): Promise<number> {
  return (await duck(`SELECT count(*) AS n FROM read_parquet(${lit(join(dir, 'signals', '*', '*.parquet'))})`))[0].n as number;
}

describe.skipIf(!existsSync(cli))('query over an incomplete backtest output (built CLI)', () => {
  it('refuses a folder without _manifest.json, naming the finished buckets and --allow-incomplete', async () => {
    const dir = await interrupted('no-manifest');
    const r = run(['query', '--results', dir, 'SELECT count(*) AS n FROM signals']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(ONE_ERROR_LINE);
    expect(r.stderr).toContain(`results folder ${dir} is incomplete`);
    expect(r.stderr).toContain('_manifest.json');
    expect(r.stderr).toContain(`finished buckets: ${buckets[0]}-${buckets[2]} (3 of 3)`);
    expect(r.stderr).toContain('--allow-incomplete');
    expect(r.stderr).toMatch(/\(BARSTREAM_BAD_INPUT\)\n$/);
  });

  it('names the buckets whose markers are missing, and the shard records present', async () => {
    const dir = await interrupted('one-marker-gone', [buckets[1]]);
    await mkdir(join(dir, '_shards'));
    await writeFile(join(dir, '_shards', 'shard-0-of-4.json'), '{}');
    await writeFile(join(dir, '_shards', 'shard-2-of-4.json'), '{}');
    const r = run(['query', '--results', dir, '--json', 'SELECT count(*) AS n FROM signals']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(ONE_ERROR_LINE);
    expect(r.stderr).toContain(`finished buckets: ${buckets[0]}, ${buckets[2]} (2 of 3)`);
    expect(r.stderr).toContain('shards present: 0, 2 (2 of 4)');
  });

  it('--allow-incomplete reads what is there and warns on one stderr line', async () => {
    const dir = await interrupted('allowed', [buckets[2]]);
    const r = run(['query', '--results', dir, '--allow-incomplete', '--json', 'SELECT count(*) AS n FROM signals']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ n: await signalRows(dir) });
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^barstream: warning: results folder .* is incomplete: .*finished buckets: 0-1 \(2 of 3\); reading it anyway/);
  });

  it('a complete output needs no flag and gives no warning; --help says the SQL runs as given', async () => {
    const r = run(['query', '--results', out, '--json', 'SELECT count(*) AS n FROM signals']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ n: await signalRows(out) });
    const help = run(['query', '--help']).stdout;
    expect(help).toContain('--allow-incomplete');
    expect(help).toContain('--sql-file');
    expect(help).toMatch(/COPY \.\.\. TO/);
    expect(help).toMatch(/JSON Lines/);
  });
});

describe('query() and QuerySession over an incomplete output', () => {
  it('refuse it with BARSTREAM_BAD_INPUT unless allowIncomplete, which says what is missing', async () => {
    const dir = await interrupted('api', [buckets[0]]);
    await expect(query('SELECT 1', { results: dir })).rejects.toMatchObject({
      code: 'BARSTREAM_BAD_INPUT',
      message: expect.stringContaining(`finished buckets: ${buckets[1]}-${buckets[2]} (2 of 3)`),
    });
    await expect(QuerySession.open({ results: dir })).rejects.toMatchObject({ code: 'BARSTREAM_BAD_INPUT' });
    const t = await query('SELECT count(*) AS n FROM signals', { results: dir, allowIncomplete: true });
    expect(Number(t.getChild('n')!.get(0))).toBe(await signalRows(dir));
    const s = await QuerySession.open({ results: dir, allowIncomplete: true });
    expect(s.incomplete).toMatch(/is incomplete: it has no _manifest\.json/);
    s.close();
    const whole = await QuerySession.open({ results: out });
    expect(whole.incomplete).toBeUndefined();
    // The result views only read: rows cannot be written through them.
    await expect(whole.query('INSERT INTO summary SELECT * FROM summary')).rejects.toMatchObject({ code: 'BARSTREAM_DUCKDB' });
    await expect(whole.query('DELETE FROM signals')).rejects.toMatchObject({ code: 'BARSTREAM_DUCKDB' });
    whole.close();
    const manifest = JSON.parse(await readFile(join(out, '_manifest.json'), 'utf8'));
    expect(await signalRows(out)).toBe(manifest.counts.signalRows);
  });
});

/** Spawns the CLI with a preload that records its peak RSS (kB) in a file as it exits. */
async function spawnMeasured(args: string[]): Promise<{ child: ReturnType<typeof spawn>; rssFile: string }> {
  const preload = join(tmp, 'maxrss.mjs');
  const rssFile = join(tmp, `rss-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`);
  await writeFile(
    preload,
    "import { writeFileSync } from 'node:fs';\n" +
      "process.on('exit', () => writeFileSync(process.env.BARSTREAM_TEST_RSS, String(process.resourceUsage().maxRSS)));\n",
  );
  const child = spawn(process.execPath, ['--import', pathToFileURL(preload).href, cli, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BARSTREAM_TEST_RSS: rssFile },
  });
  return { child, rssFile };
}

const exited = (child: ReturnType<typeof spawn>) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));

async function readRss(file: string): Promise<number> {
  return Number(await readFile(file, 'utf8')) * 1024;
}

const MB = 1 << 20;

describe.skipIf(!existsSync(cli))('query --json / --csv stream (built CLI)', () => {
  it('| head -1 over 100 million rows: the first line, exit 0, the query stopped, memory bounded', async () => {
    const { child, rssFile } = await spawnMeasured(['query', '--json', "SELECT range AS i, range * 0.5 AS x, 'sym' || (range % 97) AS s FROM range(100000000)"]);
    let text = '';
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const first = new Promise<string>((resolve) => {
      child.stdout!.on('data', (d: Buffer) => {
        text += d.toString('utf8');
        const nl = text.indexOf('\n');
        if (nl >= 0) {
          child.stdout!.destroy(); // the reader goes away, as head does
          resolve(text.slice(0, nl));
        }
      });
    });
    const line = await first;
    // 100 million rows cannot be written in this time: the query must stop on the closed pipe.
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const { code, signal } = await exited(child);
    clearTimeout(timer);
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(JSON.parse(line)).toEqual({ i: 0, x: 0, s: 'sym0' });
    expect(await readRss(rssFile)).toBeLessThan(400 * MB);
  });

  it('--csv of 3 million rows to a reader that takes them all: every row, memory bounded', async () => {
    const n = 3_000_000;
    const { child, rssFile } = await spawnMeasured(['query', '--csv', `SELECT range AS i FROM range(${n})`]);
    let lines = 0;
    let last = '';
    let tail = '';
    child.stdout!.on('data', (d: Buffer) => {
      const s = tail + d.toString('utf8');
      const parts = s.split('\n');
      tail = parts.pop()!;
      lines += parts.length;
      if (parts.length > 0) last = parts[parts.length - 1];
    });
    const { code } = await exited(child);
    expect(code).toBe(0);
    expect(tail).toBe('');
    expect(lines).toBe(n + 1); // the header and every row
    expect(last).toBe(String(n - 1));
    expect(await readRss(rssFile)).toBeLessThan(400 * MB);
  });
});

/** An RFC 4180 CSV parser (quoted fields with doubled quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n') row.push(field), rows.push(row), (row = []), (field = '');
    else field += c;
  }
  if (field !== '' || row.length > 0) row.push(field), rows.push(row);
  return rows;
}

describe('--json and --csv equal DuckDB row for row', () => {
  // Several chunks (> 2048 rows), every common type, NULLs, NaN and text needing CSV quotes.
  const sql = `
    SELECT symbol, ts, close, position, bucket, ts::DATE AS day, position > 0 AS long,
           CASE WHEN row_number() OVER () % 7 = 0 THEN NULL ELSE equity END AS equity,
           CASE WHEN row_number() OVER () % 11 = 0 THEN 'a,"b"' || chr(10) || 'c' ELSE event::VARCHAR END AS note,
           CASE WHEN row_number() OVER () % 13 = 0 THEN 'NaN'::DOUBLE ELSE strategy_return END AS r
    FROM signals ORDER BY symbol, ts`;
  /** The same SQL over the same files, run by another DuckDB. */
  const expected = () =>
    duck(sql.replace('FROM signals', `FROM read_parquet(${lit(join(out, 'signals', '*', '*.parquet'))}, hive_partitioning = true)`));

  const collect = async (o: Parameters<typeof runQuery>[1]) => {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      highWaterMark: 1024, // a slow reader: writes wait for 'drain'
      write(chunk: Buffer, _e, done) {
        chunks.push(chunk);
        setImmediate(done);
      },
    });
    await runQuery(sql, o, sink);
    return Buffer.concat(chunks).toString('utf8');
  };

  // JSON has no NaN (null) and no negative zero.
  const num = (v: unknown) => (v === null || Number.isNaN(v as number) ? null : (v as number) + 0);

  it('--json: JSON Lines, one object per row with the columns in order', async () => {
    const want = await expected();
    expect(want.length).toBeGreaterThan(2048 * 2);
    const lines = (await collect({ results: out, json: true })).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(want.length);
    lines.forEach((l, i) => {
      const got = JSON.parse(l);
      const w = want[i];
      expect(Object.keys(got)).toEqual(['symbol', 'ts', 'close', 'position', 'bucket', 'day', 'long', 'equity', 'note', 'r']);
      expect(got).toEqual({
        symbol: w.symbol,
        ts: (w.ts as Date).toISOString(),
        close: num(w.close),
        position: num(w.position),
        bucket: w.bucket,
        day: (w.day as Date).toISOString().slice(0, 10),
        long: w.long,
        equity: num(w.equity),
        note: w.note,
        r: num(w.r),
      });
    });
  });

  it('--csv: a header, then one record per row (quoted where needed)', async () => {
    const want = await expected();
    const rows = parseCsv(await collect({ results: out, csv: true }));
    expect(rows[0]).toEqual(['symbol', 'ts', 'close', 'position', 'bucket', 'day', 'long', 'equity', 'note', 'r']);
    expect(rows.length - 1).toBe(want.length);
    const text = (v: unknown) => (v === null ? '' : String(v));
    rows.slice(1).forEach((r, i) => {
      const w = want[i];
      expect(r).toEqual([
        w.symbol,
        (w.ts as Date).toISOString(),
        String(w.close),
        String(w.position),
        String(w.bucket),
        (w.day as Date).toISOString().slice(0, 10),
        String(w.long),
        text(w.equity),
        text(w.note),
        String(w.r),
      ]);
    });
  });

  it('a reader that goes away (EPIPE) ends the query quietly, without reading the rest', async () => {
    let writes = 0;
    const sink = new Writable({
      write(_chunk, _e, done) {
        writes++;
        done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    sink.on('error', () => {});
    // A billion rows: only a stopped query lets this finish.
    await runQuery('SELECT range AS i FROM range(1000000000)', { json: true }, sink);
    expect(writes).toBe(1);
  });

  it('QuerySession.stream: Arrow batches and plain columns that agree with query()', async () => {
    const s = await QuerySession.open({ results: out });
    try {
      const whole = await s.query(sql);
      const batches = await s.stream(sql);
      expect(batches.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(whole.schema.fields.map((f) => `${f.name}:${f.type}`));
      const rows: unknown[][] = [];
      for await (const b of batches) for (let i = 0; i < b.numRows; i++) rows.push(b.schema.fields.map((_, c) => b.getChildAt(c)!.get(i)));
      const plain: unknown[][] = [];
      for await (const cols of (await s.stream(sql)).columns()) for (let i = 0; i < cols[0].length; i++) plain.push(cols.map((c) => c[i]));
      const want = Array.from({ length: whole.numRows }, (_, i) => whole.schema.fields.map((_, c) => whole.getChildAt(c)!.get(i)));
      expect(rows).toEqual(want);
      expect(plain).toEqual(want);
      const early = await s.stream('SELECT range FROM range(1000000000)');
      for await (const b of early) {
        expect(b.numRows).toBeGreaterThan(0);
        break; // leaving the loop stops the query
      }
      expect((await s.query('SELECT 42 AS x')).getChild('x')!.get(0)).toBe(42);
    } finally {
      s.close();
    }
  });
});

describe('--sql-file', () => {
  /** 200 KB of SQL: a long IN list of symbols, most of them absent. */
  async function bigSql(): Promise<{ sql: string; want: number }> {
    const present = (await duck(`SELECT DISTINCT symbol FROM read_parquet(${lit(join(out, 'summary', '*.parquet'))}) ORDER BY symbol`)).map((r) => r.symbol as string);
    const chosen = present.filter((_, i) => i % 2 === 0);
    const fillers = Array.from({ length: 24_000 }, (_, i) => `'Z${String(i).padStart(6, '0')}'`);
    const list = [...chosen.map(lit), ...fillers].join(', ');
    const sql = `-- symbols of interest\nSELECT count(*) AS n\nFROM signals\nWHERE symbol IN (${list}) -- that is all\n`;
    const want = (await duck(`SELECT count(*) AS n FROM read_parquet(${lit(join(out, 'signals', '*', '*.parquet'))}) WHERE symbol IN (${list})`))[0].n as number;
    return { sql, want };
  }

  it.skipIf(!existsSync(cli))('runs 200 KB of SQL from a file and from stdin (-)', async () => {
    const { sql, want } = await bigSql();
    expect(sql.length).toBeGreaterThan(200_000);
    expect(want).toBeGreaterThan(0);
    const file = join(tmp, 'big.sql');
    await writeFile(file, sql);
    const fromFile = run(['query', '--results', out, '--json', '--sql-file', file]);
    expect(fromFile.stderr).toBe('');
    expect(fromFile.status).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toEqual({ n: want });
    const fromStdin = run(['query', '--results', out, '--json', '--sql-file', '-'], sql);
    expect(fromStdin.stderr).toBe('');
    expect(fromStdin.status).toBe(0);
    expect(JSON.parse(fromStdin.stdout)).toEqual({ n: want });
  });

  it.skipIf(!existsSync(cli))('SQL both as an argument and in a file, or neither, is one error naming both ways', async () => {
    const file = join(tmp, 'one.sql');
    await writeFile(file, 'SELECT 1 AS one');
    const both = run(['query', '--sql-file', file, 'SELECT 2']);
    expect(both.status).toBe(1);
    expect(both.stderr).toMatch(ONE_ERROR_LINE);
    expect(both.stderr).toContain('SQL as an argument and --sql-file');
    const neither = run(['query', '--results', out]);
    expect(neither.status).toBe(1);
    expect(neither.stderr).toMatch(ONE_ERROR_LINE);
    expect(neither.stderr).toMatch(/as an argument, with --sql-file PATH/);
    const missing = run(['query', '--sql-file', join(tmp, 'nope.sql')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(ONE_ERROR_LINE);
    expect(missing.stderr).toContain(`--sql-file ${join(tmp, 'nope.sql')} does not exist`);
    const ok = run(['query', '--sql-file', file, '--csv']);
    expect(ok.stdout).toBe('one\n1\n');
  });

  it('readSqlFile names the path that is missing, a folder or empty', async () => {
    await expect(readSqlFile(join(tmp, 'absent.sql'))).rejects.toMatchObject({ code: 'BARSTREAM_IO', message: `--sql-file ${join(tmp, 'absent.sql')} does not exist` });
    await expect(readSqlFile(tmp)).rejects.toMatchObject({ code: 'BARSTREAM_IO', message: `--sql-file ${tmp} is a folder, not a file` });
    const empty = join(tmp, 'empty.sql');
    await writeFile(empty, ' \n\t\n');
    await expect(readSqlFile(empty)).rejects.toMatchObject({ code: 'BARSTREAM_INVALID_PARAM', message: `--sql-file ${empty} is empty` });
    const bom = join(tmp, 'bom.sql');
    await writeFile(bom, '\uFEFFSELECT 1');
    expect(await readSqlFile(bom)).toBe('SELECT 1');
  });
});
