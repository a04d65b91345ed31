/**
 * `barstream ingest`: how the files vendors ship are read. The symbol taken from a file's
 * name, timestamps in their many forms (all parsed by DuckDB: casts, `try_strptime`, ICU
 * time zones), and decimal commas.
 */
import { basename } from 'node:path';
import { BarstreamError, invalidParam } from '../engine/errors.js';
import { literal } from '../engine/sql.js';
import type { TsUnit } from './ingest-types.js';

/** Microseconds per unit of an epoch number. */
const US_PER: Record<TsUnit, string> = { s: '* 1000000', ms: '* 1000', us: '', ns: '// 1000' };

/**
 * The file's base name without its data extension (`AAPL.csv.gz` -> `AAPL`, `BRK.B.csv` ->
 * `BRK.B`: only known extensions go, a dot in a ticker stays), or the regex's `symbol` group.
 */
export function symbolFromFilename(path: string, rule: true | string): string {
  const name = basename(path);
  if (rule === true) return name.replace(/\.(csv|tsv|txt|parquet|pq|parq)(\.(gz|zst))?$/i, '') || name;
  const m = new RegExp(rule).exec(name);
  const s = m?.groups?.symbol;
  if (s === undefined || s === '') {
    throw new BarstreamError('BARSTREAM_BAD_INPUT', `${path}: its name '${name}' does not match --symbol-from-filename ${rule}`);
  }
  return s;
}

/** Checks a --symbol-from-filename regex: it compiles and has a `symbol` group. */
export function checkSymbolRule(rule: unknown): true | string | undefined {
  if (rule === undefined || rule === false) return undefined;
  if (rule === true) return true;
  if (typeof rule !== 'string' || rule === '') throw invalidParam('symbolFromFilename must be true or a regular expression');
  let re: RegExp;
  try {
    re = new RegExp(rule);
  } catch (e) {
    throw invalidParam(`--symbol-from-filename ${rule} is not a regular expression: ${(e as Error).message}`);
  }
  if (!/\(\?<symbol>/.test(re.source)) throw invalidParam(`--symbol-from-filename ${rule} has no (?<symbol>...) group`);
  return rule;
}

export interface TsOptions {
  tsFormat?: string;
  tsUnit?: TsUnit;
  tz?: string;
}

export function checkTsOptions(o: TsOptions): void {
  if (o.tsFormat !== undefined && o.tsUnit !== undefined) throw invalidParam('--ts-format and --ts-unit exclude each other');
  if (o.tsUnit !== undefined && !(o.tsUnit in US_PER)) throw invalidParam(`--ts-unit must be s, ms, us or ns, got '${o.tsUnit}'`);
  if (o.tsFormat !== undefined && (typeof o.tsFormat !== 'string' || !o.tsFormat.includes('%'))) {
    throw invalidParam(`--ts-format must be a strftime format such as %m/%d/%Y, got '${o.tsFormat}'`);
  }
  if (o.tz !== undefined && (typeof o.tz !== 'string' || !/^[A-Za-z0-9_+\-/]+$/.test(o.tz))) throw invalidParam(`--tz '${o.tz}' is not a time zone name`);
}

/** What was tried on a timestamp, for the `bad_ts` message. */
export function tsTried(o: TsOptions): string {
  const zone = o.tz ? `, local times in ${o.tz}` : '';
  if (o.tsUnit) return `epoch ${o.tsUnit}`;
  if (o.tsFormat) return `--ts-format ${o.tsFormat}${o.tsFormat.includes('%z') ? '' : zone}`;
  return `ISO 8601 date or date-time${zone}`;
}

/**
 * The SQL that turns the source column `q` (of DuckDB type `type`) into a UTC TIMESTAMP,
 * NULL when it does not parse. The session's TimeZone is `--tz` (UTC by default), so a
 * naive time becomes TIMESTAMPTZ in that zone and `timezone('UTC', ...)` gives it in UTC;
 * an explicit offset wins over the zone. A date alone is that day at 00:00 UTC, whatever
 * the zone (a daily bar is a day, not an instant).
 */
export function tsExpression(q: string, type: string, o: TsOptions): string {
  const utc = (tstz: string) => `timezone('UTC', ${tstz})`;
  if (o.tsUnit) return `make_timestamp(TRY_CAST(${q} AS BIGINT) ${US_PER[o.tsUnit]})`;
  if (o.tsFormat) {
    const parsed = `try_strptime(CAST(${q} AS VARCHAR), ${literal(o.tsFormat)})`;
    // With %z/%Z strptime gives a TIMESTAMPTZ already; without, a naive TIMESTAMP.
    return utc(/%[zZ]/.test(o.tsFormat) ? parsed : `CAST(${parsed} AS TIMESTAMPTZ)`);
  }
  if (type === 'DATE') return `CAST(${q} AS TIMESTAMP)`;
  if (type === 'VARCHAR') {
    const text = `trim(${q})`;
    return `CASE WHEN regexp_full_match(${text}, '\\d{4}-\\d{2}-\\d{2}') THEN CAST(TRY_CAST(${text} AS DATE) AS TIMESTAMP) ELSE ${utc(`TRY_CAST(${text} AS TIMESTAMPTZ)`)} END`;
  }
  if (type.startsWith('TIMESTAMP')) return utc(`CAST(${q} AS TIMESTAMPTZ)`);
  // Numbers without --ts-unit are not guessed.
  return `CAST(NULL AS TIMESTAMP)`;
}

/** A price or volume from text or number; with a decimal comma, `1.234,5` reads 1234.5. */
export function numberExpression(q: string, type: string, decimalComma: boolean): string {
  if (!decimalComma || type !== 'VARCHAR') return `TRY_CAST(${q} AS DOUBLE)`;
  return `TRY_CAST(replace(replace(trim(${q}), '.', ''), ',', '.') AS DOUBLE)`;
}

/** Prices that can only be decimal commas: `12,5` with no `.` anywhere in the column sample. */
export const DECIMAL_COMMA_SQL = (q: string) =>
  `SELECT count(*) FILTER (WHERE regexp_full_match(trim(${q}), '-?\\d+,\\d+')) AS comma, ` +
  `count(*) FILTER (WHERE contains(${q}, '.')) AS dot FROM (SELECT ${q} FROM ingest_src LIMIT 10000)`;
