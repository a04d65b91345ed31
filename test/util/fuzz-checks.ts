/**
 * Independent checks of what a successful command wrote and printed, for the fuzz test: every
 * count is recomputed with the test's own DuckDB from the files on disk (datasets, backtest
 * outputs) or from the inputs the test fed, never taken from barstream.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { CANONICAL, Duck, litList } from './fuzz-inputs.js';

/** Every file under `dir`, relative, `/`-separated. */
async function walkFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/'));
}

/** The Parquet files of a canonical dataset (`bucket=<k>/part-<n>.parquet`), absolute. */
export async function datasetFiles(dir: string): Promise<string[]> {
  return (await walkFiles(dir)).filter((f) => /^bucket=\d+\/part-\d+\.parquet$/.test(f)).sort().map((f) => join(dir, f));
}

const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

/** Files a metadata/manifest lists that are missing or differ in size or sha256 from the listing. */
async function listedFilesProblems(root: string, listed: unknown, what: string): Promise<string[]> {
  if (!Array.isArray(listed)) return [`${what} lists no files array`];
  const problems: string[] = [];
  for (const f of listed as { path?: string; bytes?: number; sha256?: string }[]) {
    if (typeof f.path !== 'string') continue;
    const abs = join(root, f.path);
    if (!existsSync(abs)) {
      problems.push(`${what} lists ${f.path}, which is missing`);
      continue;
    }
    if (typeof f.bytes === 'number' && (await stat(abs)).size !== f.bytes) problems.push(`${what}: ${f.path} is not ${f.bytes} bytes`);
    if (typeof f.sha256 === 'string' && (await sha256(abs)) !== f.sha256) problems.push(`${what}: ${f.path} does not match its sha256`);
  }
  return problems;
}

/** Hidden or temporary leftovers inside an output folder (a `.tmp` file, a `.partial` folder). */
async function leftovers(dir: string): Promise<string[]> {
  return (await walkFiles(dir)).filter((f) => f.split('/').some((part) => part.startsWith('.') || /\.tmp(-\d+)?$/.test(part)));
}

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

// Volume is optional (issue 11): a source without it gives NULL volume.
const VALID_ROW =
  `symbol IS NOT NULL AND trim(symbol) <> '' AND ts IS NOT NULL AND isfinite(open) AND isfinite(high) AND isfinite(low) ` +
  `AND isfinite(close) AND least(open, high, low, close) > 0 AND high >= low AND open BETWEEN low AND high ` +
  `AND close BETWEEN low AND high AND (volume IS NULL OR (isfinite(volume) AND volume >= 0))`;

export interface DatasetFacts {
  rows: number;
  symbols: number;
}

/**
 * Checks a canonical dataset as the README describes it: the canonical columns and types,
 * only valid rows, no repeated (symbol, ts), rows sorted by (symbol, ts) in each file, each
 * symbol in one file, `metadata.json` listing files that are there with their checksums,
 * nothing hidden left behind. Returns its rows and symbols, and the problems found.
 */
export async function checkDataset(duck: Duck, dir: string): Promise<{ facts: DatasetFacts; problems: string[] }> {
  const problems: string[] = [];
  const meta = await readJson(join(dir, 'metadata.json'));
  if (!meta) problems.push('metadata.json is missing or not JSON');
  else problems.push(...(await listedFilesProblems(dir, meta.files, 'metadata.json')));
  for (const f of await leftovers(dir)) problems.push(`leftover ${f} in the dataset`);
  const files = await datasetFiles(dir);
  if (files.length === 0) return { facts: { rows: 0, symbols: 0 }, problems };
  const src = `read_parquet(${litList(files)}, hive_partitioning = false, filename = true, file_row_number = true)`;
  const types = await duck.rows(`DESCRIBE SELECT * EXCLUDE (filename, file_row_number) FROM ${src}`);
  const want = { symbol: 'VARCHAR', ts: 'TIMESTAMP', open: 'DOUBLE', high: 'DOUBLE', low: 'DOUBLE', close: 'DOUBLE', volume: 'DOUBLE' };
  const got = Object.fromEntries(types.map((t) => [String(t.column_name), String(t.column_type)]));
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    problems.push(`columns are ${JSON.stringify(got)}, not the canonical ${CANONICAL.join(', ')}`);
    return { facts: { rows: -1, symbols: -1 }, problems };
  }
  const [s] = await duck.rows(
    `SELECT count(*) AS n, count(DISTINCT symbol) AS symbols, count(*) FILTER (WHERE NOT coalesce(${VALID_ROW}, false)) AS invalid FROM ${src}`,
  );
  const [d] = await duck.rows(`SELECT count(*) AS n FROM (SELECT symbol, ts FROM ${src} GROUP BY ALL HAVING count(*) > 1)`);
  const [o] = await duck.rows(
    `SELECT count(*) AS n FROM (SELECT symbol, ts, lag(symbol) OVER w AS ps, lag(ts) OVER w AS pt FROM ${src} ` +
      `WINDOW w AS (PARTITION BY filename ORDER BY file_row_number)) WHERE ps IS NOT NULL AND (symbol < ps OR (symbol = ps AND ts <= pt))`,
  );
  const [b] = await duck.rows(`SELECT count(*) AS n FROM (SELECT symbol FROM ${src} GROUP BY symbol HAVING count(DISTINCT filename) > 1)`);
  if (Number(s.invalid) > 0) problems.push(`${s.invalid} written row(s) break the ingest checks`);
  if (Number(d.n) > 0) problems.push(`${d.n} (symbol, ts) pair(s) written more than once`);
  if (Number(o.n) > 0) problems.push(`${o.n} row(s) out of (symbol, ts) order`);
  if (Number(b.n) > 0) problems.push(`${b.n} symbol(s) in more than one file`);
  return { facts: { rows: Number(s.n), symbols: Number(s.symbols) }, problems };
}

/** What a job over some Parquet files must report, computed from the files by the test. */
export interface SourceFacts {
  /** Distinct non-NULL symbols. */
  symbols: number;
  /** Some row has a NULL symbol (it may be reported as one more failed symbol). */
  nullSymbol: boolean;
  /** Symbols no ATC job may report as processed: a NULL, non-finite or non-positive close, or a repeated or NULL ts. */
  atcFaults: Set<string>;
  /** The same for a moving average (non-positive closes are allowed there). */
  trendFaults: Set<string>;
}

/** Facts of `files` read as one source; undefined when the test's DuckDB cannot read them as bars either. */
export async function sourceFacts(duck: Duck, files: string[]): Promise<SourceFacts | undefined> {
  if (files.length === 0) return { symbols: 0, nullSymbol: false, atcFaults: new Set(), trendFaults: new Set() };
  try {
    const rows = await duck.rows(
      `WITH src AS (SELECT symbol::VARCHAR AS symbol, TRY_CAST(ts AS TIMESTAMP) AS ts, TRY_CAST(close AS DOUBLE) AS close ` +
        `FROM read_parquet(${litList(files)}, hive_partitioning = false, union_by_name = true)) ` +
        `SELECT symbol, count(*) - count(DISTINCT ts) AS bad_ts, ` +
        `count(*) FILTER (WHERE close IS NULL OR NOT isfinite(close)) AS nonfinite, count(*) FILTER (WHERE close <= 0) AS nonpositive ` +
        `FROM src GROUP BY symbol`,
    );
    const named = rows.filter((r) => r.symbol !== null);
    const trendFaults = new Set(named.filter((r) => Number(r.bad_ts) > 0 || Number(r.nonfinite) > 0).map((r) => String(r.symbol)));
    const atcFaults = new Set(named.filter((r) => Number(r.bad_ts) > 0 || Number(r.nonfinite) > 0 || Number(r.nonpositive) > 0).map((r) => String(r.symbol)));
    return { symbols: named.length, nullSymbol: rows.some((r) => r.symbol === null), atcFaults, trendFaults };
  } catch {
    return undefined;
  }
}

const size = (x: unknown): number => (Array.isArray(x) ? x.length : typeof x === 'number' ? x : NaN);
const names = (x: unknown): Set<string> => new Set(Array.isArray(x) ? x.map((e: { symbol?: unknown }) => String(e?.symbol)) : []);

/** processed + skipped + failed against the symbols of the source. */
function totalProblems(what: string, total: number, facts: SourceFacts): string[] {
  const hi = facts.symbols + (facts.nullSymbol ? 1 : 0);
  if (!Number.isFinite(total)) return [`${what}: processed/skipped/failed are not counts`];
  if (total < facts.symbols || total > hi) {
    return [`${what}: processed + skipped + failed = ${total}, but the source holds ${facts.symbols} distinct symbol(s)${facts.nullSymbol ? ' and NULL symbols' : ''}`];
  }
  return [];
}

/** Checks `scan --json` against the source. */
export function checkScanJson(json: Record<string, unknown>, facts: SourceFacts): string[] {
  const problems = totalProblems('scan', size(json.processed) + size(json.skipped) + size(json.failed), facts);
  const notProcessed = new Set([...names(json.skipped), ...names(json.failed)]);
  for (const s of facts.atcFaults) if (!notProcessed.has(s)) problems.push(`scan: symbol ${JSON.stringify(s)} has bad closes or timestamps but is not reported skipped or failed`);
  for (const side of [json.long, json.short]) for (const s of names(side)) if (facts.atcFaults.has(s)) problems.push(`scan lists ${JSON.stringify(s)} (bad data) as a signal`);
  return problems;
}

/** Checks `trend --json` against the source. */
export function checkTrendJson(json: Record<string, unknown>, facts: SourceFacts): string[] {
  const problems = totalProblems('trend', size(json.processed) + size(json.skipped) + size(json.failed), facts);
  if (Array.isArray(json.symbols) && json.symbols.length !== size(json.processed)) problems.push(`trend: ${json.symbols.length} symbol entries for processed = ${json.processed}`);
  for (const s of names(json.symbols)) if (facts.trendFaults.has(s)) problems.push(`trend: symbol ${JSON.stringify(s)} has bad closes or timestamps but is reported processed`);
  return problems;
}

/** Checks `scan --out DIR`: `scan.parquet` holds one row per symbol of the result. */
export async function checkScanOut(duck: Duck, dir: string, json: Record<string, unknown>): Promise<string[]> {
  const file = join(dir, 'scan.parquet');
  if (!existsSync(file)) return [`scan --out: ${file} is missing`];
  const [r] = await duck.rows(`SELECT count(*) AS n, count(DISTINCT symbol) AS s FROM read_parquet(${litList([file])}, hive_partitioning = false)`);
  const total = size(json.processed) + size(json.skipped) + size(json.failed);
  const problems = Number(r.n) !== total ? [`scan.parquet holds ${r.n} rows, the scan reported ${total} symbols`] : [];
  for (const f of await leftovers(dir)) problems.push(`leftover ${f} in the scan output`);
  return problems;
}

/**
 * Checks a backtest output against `backtest --json` and the source: the manifest's counts
 * and listed files, summary and `_errors` rows, signal rows, no symbol both summarised and
 * in errors, symbols with bad data not summarised, nothing temporary left.
 */
export async function checkBacktestOut(duck: Duck, dir: string, json: Record<string, unknown>, facts: SourceFacts | undefined): Promise<string[]> {
  const problems: string[] = [];
  const n = (k: string) => Number(json[k]);
  if (n('processed') + n('skipped') + n('failed') !== n('symbols')) problems.push(`backtest: processed + skipped + failed = ${n('processed') + n('skipped') + n('failed')} != symbols ${n('symbols')}`);
  if (facts) problems.push(...totalProblems('backtest', n('symbols'), facts));
  const manifest = await readJson(join(dir, '_manifest.json'));
  if (!manifest) return [...problems, '_manifest.json is missing or not JSON'];
  const counts = (manifest.counts ?? {}) as Record<string, unknown>;
  for (const k of ['symbols', 'processed', 'skipped', 'failed', 'signalRows']) {
    if (Number(counts[k]) !== n(k)) problems.push(`_manifest.json counts.${k} = ${counts[k]}, --json said ${json[k]}`);
  }
  problems.push(...(await listedFilesProblems(dir, manifest.files, '_manifest.json')));
  for (const f of await leftovers(dir)) problems.push(`leftover ${f} in the backtest output`);
  const all = await walkFiles(dir);
  const pick = (re: RegExp) => all.filter((f) => re.test(f)).map((f) => join(dir, f));
  const count = async (files: string[], extra = '') =>
    files.length === 0 ? [{ n: 0, s: 0 }] : duck.rows(`SELECT count(*) AS n, count(DISTINCT symbol) AS s ${extra} FROM read_parquet(${litList(files)}, hive_partitioning = false)`);
  const summary = pick(/^summary\/part-\d+\.parquet$/);
  const errors = pick(/^_errors\/part-\d+\.parquet$/);
  const signals = pick(/^signals\/bucket=\d+\/part-\d+\.parquet$/);
  const [sm] = await count(summary);
  const [er] = await count(errors);
  const [sg] = await count(signals);
  if (Number(sm.n) !== n('processed') || Number(sm.s) !== n('processed')) problems.push(`summary holds ${sm.n} rows of ${sm.s} symbols, processed = ${n('processed')}`);
  if (Number(er.n) !== n('skipped') + n('failed')) problems.push(`_errors holds ${er.n} rows, skipped + failed = ${n('skipped') + n('failed')}`);
  if (Number(sg.n) !== n('signalRows')) problems.push(`signals hold ${sg.n} rows, signalRows = ${n('signalRows')}`);
  if (summary.length > 0) {
    const summarised = new Set((await duck.rows(`SELECT DISTINCT symbol FROM read_parquet(${litList(summary)}, hive_partitioning = false)`)).map((r) => String(r.symbol)));
    if (errors.length > 0) {
      const both = (await duck.rows(`SELECT DISTINCT symbol FROM read_parquet(${litList(errors)}, hive_partitioning = false)`)).map((r) => String(r.symbol)).filter((s) => summarised.has(s));
      if (both.length > 0) problems.push(`symbols both summarised and in _errors: ${both.slice(0, 5).join(', ')}`);
    }
    for (const s of facts?.atcFaults ?? []) if (summarised.has(s)) problems.push(`symbol ${JSON.stringify(s)} has bad closes or timestamps but has a summary`);
  }
  return problems;
}

/** Checks `ingest --json` and the dataset it wrote. */
export async function checkIngest(
  duck: Duck,
  dir: string,
  json: Record<string, unknown>,
  fed: { records?: number; symbols?: Set<string>; allValid: boolean; policy: string },
): Promise<{ problems: string[]; facts?: DatasetFacts }> {
  const problems: string[] = [];
  const read = Number(json.read);
  const written = Number(json.written);
  const rejected = Number(json.rejected);
  const superseded = json.superseded === undefined ? 0 : Number(json.superseded);
  if (![read, written, rejected, superseded].every(Number.isSafeInteger)) return { problems: [`ingest --json counts are not integers: ${JSON.stringify(json)}`] };
  if (read !== written + rejected + superseded) problems.push(`read ${read} != written ${written} + rejected ${rejected}${json.superseded === undefined ? '' : ` + superseded ${superseded}`}`);
  if (fed.records !== undefined && read !== fed.records) problems.push(`read ${read} rows, the test fed ${fed.records} data records`);
  if (fed.allValid && rejected + superseded > 0) problems.push(`${rejected} of ${read} rows rejected, but every row fed was valid`);
  const byReason = (json.byReason ?? {}) as Record<string, number>;
  const reasons = Object.values(byReason).reduce((s, x) => s + Number(x), 0);
  if (reasons !== rejected) problems.push(`byReason adds up to ${reasons}, rejected = ${rejected}`);
  if (fed.symbols && Number(json.symbols) > fed.symbols.size) problems.push(`${json.symbols} symbols written, only ${fed.symbols.size} fed`);
  const { facts, problems: ds } = await checkDataset(duck, dir);
  problems.push(...ds);
  if (facts.rows >= 0 && facts.rows !== written) problems.push(`the dataset holds ${facts.rows} rows, ingest said written = ${written}`);
  if (facts.symbols >= 0 && facts.symbols !== Number(json.symbols)) problems.push(`the dataset holds ${facts.symbols} symbols, ingest said ${json.symbols}`);
  const rejectedFile = join(dir, '_rejected', 'part-0.parquet');
  if (fed.policy === 'quarantine' && rejected > 0) {
    if (!existsSync(rejectedFile)) problems.push(`${rejected} rows rejected with quarantine, but _rejected/part-0.parquet is missing`);
    else {
      const [r] = await duck.rows(`SELECT count(*) AS n FROM read_parquet(${litList([rejectedFile])}, hive_partitioning = false)`);
      if (Number(r.n) !== rejected) problems.push(`_rejected holds ${r.n} rows, rejected = ${rejected}`);
    }
  } else if (existsSync(rejectedFile)) problems.push(`_rejected/part-0.parquet written with --on-bad-rows ${fed.policy} and ${rejected} rejected`);
  return { problems, facts };
}

/** Checks a `generate` output: `symbols x bars` valid rows of `symbols` symbols. */
export async function checkGenerate(duck: Duck, dir: string, symbols: number, bars: number): Promise<string[]> {
  const { facts, problems } = await checkDataset(duck, dir);
  if (facts.rows >= 0 && (facts.rows !== symbols * bars || facts.symbols !== symbols)) {
    problems.push(`generate wrote ${facts.rows} rows of ${facts.symbols} symbols, asked for ${symbols} x ${bars}`);
  }
  return problems;
}
