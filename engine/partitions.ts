/**
 * How a job's source becomes partitions: one query per bucket of the dataset (buckets hold
 * disjoint symbols, so they run in parallel and memory follows the bucket size). A user's
 * SQL that reads `bars` runs once per bucket with `bars` bound to that bucket's bars; SQL
 * that does not read `bars` runs once, as a single partition.
 *
 * The user's SQL is embedded on lines of its own (a trailing `-- comment` cannot swallow the
 * wrapper), without a trailing `;`, and errors DuckDB finds in it or in the inputs are told
 * on one line naming the SQL, the input file or the option at fault.
 */
import type { SourceFile } from '../datasets/inputs.js';
import { BarstreamError, fromNative, invalidParam, withoutPath } from './errors.js';
import { literal, literalList, sqlFile } from './sql.js';

export interface Partition {
  bucket: number;
  sql: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const READS_BARS = /\bbars\b/i;
/** The columns `sql/bars_source.sql` reads from every input file. */
const CANONICAL = ['symbol', 'ts', 'open', 'high', 'low', 'close', 'volume'];

/**
 * Scans SQL text: `code` is the text with comments and string literals blanked (same
 * length), `end` the index just after its last character outside comments and whitespace.
 */
export function scanSql(sql: string): { code: string; end: number } {
  const code = sql.split('');
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (code[k] !== '\n') code[k] = ' ';
  };
  let end = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const stop = sql.indexOf('\n', i);
      const to = stop < 0 ? sql.length : stop;
      blank(i, to);
      i = to;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      let j = i + 2;
      while (j < sql.length && depth > 0) {
        if (sql.startsWith('/*', j)) {
          depth++;
          j += 2;
        } else if (sql.startsWith('*/', j)) {
          depth--;
          j += 2;
        } else j++;
      }
      blank(i, j);
      i = j;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === c && sql[j + 1] === c) j += 2;
        else if (sql[j] === c) break;
        else j++;
      }
      // A quoted identifier stays readable (`"bars"` names bars); a string literal does not.
      if (c === "'") blank(i + 1, j);
      i = Math.min(j + 1, sql.length);
      end = i;
    } else {
      const tag = c === '$' ? /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i))?.[0] : undefined;
      if (tag) {
        const close = sql.indexOf(tag, i + tag.length);
        const to = close < 0 ? sql.length : close + tag.length;
        blank(i + tag.length, to - tag.length);
        i = to;
        end = i;
      } else {
        if (!/\s/.test(c)) end = i + 1;
        i++;
      }
    }
  }
  return { code: code.join(''), end };
}

/**
 * The user's SQL ready to embed as `(\n<sql>\n)`: trailing `;` removed (also one followed
 * by a comment); comments kept, since the wrapper goes on the next line.
 */
export function embeddable(sql: string): string {
  let text = sql;
  for (;;) {
    const { end } = scanSql(text);
    if (end === 0 || text[end - 1] !== ';') return text.replace(/\s+$/, '');
    text = text.slice(0, end - 1) + text.slice(end);
  }
}

/** True when the SQL names `bars` outside comments and string literals. */
export function readsBars(sql: string): boolean {
  return READS_BARS.test(scanSql(sql).code);
}

/** SQL reading the given canonical files (see `sql/bars_source.sql`). */
export function sourceSql(files: string[]): string {
  return sqlFile('bars_source', { files: literalList(files) }).replace(/;\s*$/, '');
}

/** Files grouped into partitions, in input order; each partition's output bucket number. */
export function groups(files: SourceFile[]): { bucket: number; paths: string[]; unordered: boolean }[] {
  const byKey = new Map<string, { bucket: number; paths: string[]; unordered: boolean }>();
  for (const f of files) {
    const g = byKey.get(f.key) ?? { bucket: f.bucket, paths: [], unordered: f.unordered };
    g.paths.push(f.path);
    byKey.set(f.key, g);
  }
  const all = [...byKey.values()];
  // One canonical dataset keeps its bucket numbers; anything else is numbered in order.
  const single = files.every((f) => !f.unordered && f.key.startsWith('0/'));
  return single ? all : all.map((g, i) => ({ ...g, bucket: i }));
}

/**
 * The partitions of a job reading `symbol`, `ts` and `columns` (as DOUBLE), optionally
 * sorted by `(symbol, ts)` inside each partition.
 */
export function planPartitions(files: SourceFile[], opts: { sql?: string; columns: string[]; sorted: boolean }): Partition[] {
  for (const c of opts.columns) if (!IDENT.test(c)) throw invalidParam(`column name '${c}' is not a plain identifier`);
  if (opts.sql !== undefined && scanSql(embeddable(opts.sql)).end === 0) throw invalidParam('sql is empty');
  const select = (body: string, sorted: boolean) =>
    `SELECT ${['symbol::VARCHAR AS symbol', 'ts::TIMESTAMP AS ts', ...opts.columns.map((c) => `${c}::DOUBLE AS ${c}`)].join(', ')}\n` +
    `FROM (\n${body}\n) AS src${sorted ? ' ORDER BY symbol, ts' : ''}`;
  return partitionSources(files, opts.sql).map(({ bucket, body, unordered }) => ({ bucket, sql: select(body, opts.sorted || unordered) }));
}

/**
 * Each partition's source query before the columns are picked: the bucket's files, or the
 * user's SQL with `bars` bound to them (once, when the SQL does not read `bars`).
 */
export function partitionSources(files: SourceFile[], sql: string | undefined): { bucket: number; body: string; unordered: boolean }[] {
  const userSql = sql === undefined ? undefined : embeddable(sql);
  if (userSql !== undefined && !readsBars(userSql)) return [{ bucket: 0, body: userSql, unordered: false }];
  return groups(files).map(({ bucket, paths, unordered }) => {
    const source = sourceSql(paths);
    // A bucket appended to (several part files) holds a symbol's bars in several files, so
    // its rows are not contiguous per symbol in file order: DuckDB sorts the partition.
    const multiPart = new Set(paths).size > 1 && !unordered;
    return { bucket, body: userSql === undefined ? source : `WITH bars AS (\n${source}\n)\nSELECT * FROM (\n${userSql}\n) AS q`, unordered: unordered || multiPart };
  });
}

/** The error's message and code after `fromNative` (one line). */
function nativeError(e: unknown): { code: BarstreamError['code']; message: string } {
  const err = fromNative(e);
  if (err instanceof BarstreamError) return { code: err.code, message: err.message };
  return { code: 'BARSTREAM_DUCKDB', message: err instanceof Error ? err.message : String(err) };
}

/**
 * DuckDB's complaint about the user's SQL, wrapped as `WITH ... AS (\n<sql>\n) ...`: a
 * syntax error on the closing line is at the end of the user's SQL, and a line inside it is
 * counted from the SQL's first line.
 */
function sqlReason(e: unknown, sql: string): string {
  const raw = e instanceof Error ? e.message : String(e);
  let message = nativeError(e).message;
  const line = Number(/^LINE (\d+):/m.exec(raw)?.[1] ?? NaN);
  const lines = sql.split('\n').length;
  if (line === lines + 2) message = message.replace(/at or near "\)"/, 'at end of input');
  else if (lines > 1 && line >= 2 && line <= lines + 1) message += ` (line ${line - 1} of the SQL)`;
  return message;
}

/**
 * Checks a job's source before anything is written: the user's SQL on its own (so DuckDB's
 * message points into it), then the planned partition for the columns the job needs.
 */
export function checkSource(db: { columns(sql: string): string[] }, userSql: string | undefined, first: Partition, columns: string[]): void {
  if (userSql !== undefined) {
    const body = embeddable(userSql);
    let have: string[];
    try {
      // NOT MATERIALIZED: the LIMIT 0 reaches the user's query, which is planned, not run.
      have = db.columns(`WITH barstream_user_sql AS NOT MATERIALIZED (\n${body}\n)\nSELECT * FROM barstream_user_sql LIMIT 0`);
    } catch (e) {
      const { code } = nativeError(e);
      throw new BarstreamError(code, `the SQL source is invalid: ${sqlReason(e, body)}`, { cause: e });
    }
    const lower = new Set(have.map((c) => c.toLowerCase()));
    const missing = ['symbol', 'ts', ...columns].filter((c) => !lower.has(c));
    if (missing.length > 0) {
      throw new BarstreamError('BARSTREAM_BAD_INPUT', `the SQL source lacks column ${missing.join(', ')} (it returns ${have.join(', ')})`);
    }
  }
  try {
    db.columns(`SELECT * FROM (\n${first.sql}\n) AS probe LIMIT 0`);
  } catch (e) {
    const { code, message } = nativeError(e);
    // Only a binder or conversion error is about the columns; anything else speaks for itself.
    const about = /^(Binder|Conversion) Error/.test(message) ? `the source must give ${['symbol', 'ts', ...columns].join(', ')}: ` : '';
    throw new BarstreamError(code, `${about}${message}`, { cause: e });
  }
}

/**
 * Explains an error DuckDB raised while opening the inputs (`files`): a memory limit too
 * small names `--memory-limit`; otherwise each file is probed on its own and the first that
 * cannot be read, or lacks a canonical column, is named. Returns the error to throw.
 */
export function explainSourceError(db: { columns(sql: string): string[] }, files: string[], memoryLimit: string | undefined, e: unknown): unknown {
  const err = fromNative(e);
  if (!(err instanceof BarstreamError) || err.code !== 'BARSTREAM_DUCKDB') return err;
  if (/^Out of Memory Error/.test(err.message) && memoryLimit !== undefined) {
    return new BarstreamError('BARSTREAM_INVALID_PARAM', `memory limit ${memoryLimit} (--memory-limit) is too small: DuckDB cannot work within it (${err.message})`, { cause: e });
  }
  for (const path of files) {
    let have: string[];
    try {
      have = db.columns(`SELECT * FROM read_parquet(${literal(path)}, hive_partitioning = false) LIMIT 0`);
    } catch (e2) {
      const { message } = nativeError(e2);
      const text = message.startsWith('cannot read ') ? message : `cannot read ${path}: ${withoutPath(message, path)}`;
      return new BarstreamError('BARSTREAM_DUCKDB', text, { cause: e2 });
    }
    const lower = new Set(have.map((c) => c.toLowerCase()));
    const missing = CANONICAL.filter((c) => !lower.has(c));
    if (missing.length > 0) {
      return new BarstreamError('BARSTREAM_BAD_INPUT', `input ${path} lacks column ${missing.join(', ')} (it has ${have.join(', ')}; DuckDB: ${err.message})`, {
        cause: e,
      });
    }
  }
  return err;
}

/**
 * Explains a DuckDB error raised while a job read its inputs that names no file (e.g.
 * "Invalid Error: Out of buffer" from a corrupt page): each file is read in full, in order,
 * and the first that fails is named (`cannot read <file>: <reason>`). Other errors are
 * returned as `fromNative` makes them. Costs a full read of the files before the bad one,
 * only when the job has already failed.
 */
export function explainReadError(db: { columns(sql: string): string[] }, files: string[], e: unknown): unknown {
  const err = fromNative(e);
  if (!(err instanceof BarstreamError) || err.code !== 'BARSTREAM_DUCKDB' || err.message.startsWith('cannot read ')) return err;
  if (/^(Out of Memory|Interrupt|Parser|Binder|Catalog) Error/.test(err.message)) return err;
  for (const path of files) {
    try {
      // An aggregate over every column: the first chunk comes only after all pages are decoded.
      db.columns(`SELECT sum(hash(COLUMNS(*))) FROM read_parquet(${literal(path)}, hive_partitioning = false)`);
    } catch (e2) {
      const { message } = nativeError(e2);
      if (message.startsWith('cannot read ')) return new BarstreamError('BARSTREAM_DUCKDB', message, { cause: e });
      return new BarstreamError('BARSTREAM_DUCKDB', `cannot read ${path}: ${withoutPath(message, path)}`, { cause: e });
    }
  }
  return err;
}

/**
 * Runs a job reading in file order; if the source turns out not to be ordered by
 * `(symbol, ts)`, runs it again with each partition sorted by DuckDB. `explain` turns the
 * job's error into the one to throw (e.g. `explainReadError` over the job's files).
 */
export async function withOrderFallback<T>(run: (sorted: boolean) => Promise<T>, explain: (e: unknown) => unknown = fromNative): Promise<{ result: T; sorted: boolean }> {
  try {
    return { result: await run(false), sorted: false };
  } catch (e) {
    const err = fromNative(e);
    if (!(err instanceof BarstreamError && err.code === 'BARSTREAM_BAD_INPUT' && /not ordered/.test(err.message))) throw explain(e);
    try {
      return { result: await run(true), sorted: true };
    } catch (e2) {
      throw explain(e2);
    }
  }
}
