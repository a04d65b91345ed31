/**
 * Hostile inputs for the fuzz test: CSV text with random columns, types, cell values and
 * structure, and Parquet files written by DuckDB with wrong types, NULLs, NaN, duplicates,
 * unsorted rows, or cut short. Every generator is driven by a seeded {@link Rng} and reports
 * what it did (`flavour`) so a failing case can be described.
 */
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Rng } from './rng.js';

export const CANONICAL = ['symbol', 'ts', 'open', 'high', 'low', 'close', 'volume'] as const;
export type Canonical = (typeof CANONICAL)[number];

/** Symbols a CSV may hold: plain, numeric-looking, punctuated, quoted, multi-byte, padded. */
const SYMBOLS = ['AAA', 'BBB', 'CCC', 'DDD', 'EEE', 'FFF', '0700', 'BRK.B', 'a,b', 'q"t', 'ünï', '  SP  ', 'X'.repeat(30), 'mixedCase', 'new\nline', '😀'];
/** Plain symbols for Parquet files. */
const PLAIN_SYMBOLS = ['AAA', 'BBB', 'CCC', 'DDD', 'EEE', 'FFF', 'GGG', '0700', 'BRK.B', 'ünï'];

/** Text that is not a good price or volume. */
const HOSTILE_NUMBERS = ['', 'NaN', 'nan', 'Infinity', '-Infinity', 'inf', '-0', '0', '1e308', '-1e308', '-5', 'abc', 'true', 'false', '2020-01-01', ' 12.5 ', '1,5', '0x10', '1e-320', 'NULL', '٣'];
/** Text that is not a good timestamp. */
const HOSTILE_TIMESTAMPS = ['', 'NULL', 'garbage', '2020-13-45', '9999-12-31', '0001-01-01', '1e308', 'true', '-1', '2020-02-30', '294247-01-10'];
const HOSTILE_SYMBOLS = ['', '   ', 'NULL'];

/** Timestamp formats: the first five parse, the others do not. */
const TS_FORMATS = ['date', 'datetime', 'isoZ', 'offset', 'frac', 'epoch', 'us', 'text'] as const;
type TsFormat = (typeof TS_FORMATS)[number];
const PARSEABLE: TsFormat[] = ['date', 'datetime', 'isoZ', 'offset', 'frac'];

const DAY_MS = 86_400_000;
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function formatTs(ms: number, f: TsFormat): string {
  const d = new Date(ms);
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  switch (f) {
    case 'date':
      return date;
    case 'datetime':
      return `${date} 00:00:00`;
    case 'isoZ':
      return `${date}T00:00:00Z`;
    case 'offset':
      return `${date}T09:30:00+02:00`;
    case 'frac':
      return `${date} 10:00:00.123456`;
    case 'epoch':
      return String(ms / 1000);
    case 'us':
      return `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${d.getUTCFullYear()}`;
    case 'text':
      return d.toDateString();
  }
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** One bar of a symbol's random walk, as numbers that pass every ingest check. */
interface Bar {
  symbol: string;
  ms: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** `bars` consecutive daily bars of `symbol`: prices >= 1, low <= open, close <= high. */
export function walk(rng: Rng, symbol: string, bars: number): Bar[] {
  const out: Bar[] = [];
  let ms = Date.UTC(2015 + rng.int(0, 8), rng.int(0, 11), rng.int(1, 28));
  let close = round4(rng.int(5, 500) + rng.next());
  for (let i = 0; i < bars; i++) {
    const open = close;
    close = round4(Math.max(1, close * (1 + (rng.next() - 0.5) * 0.06)));
    const high = round4(Math.max(open, close) + 0.0001 + rng.next() * 0.02 * close);
    const low = round4(Math.max(0.5, Math.min(open, close) - 0.0001 - rng.next() * 0.02 * close));
    out.push({ symbol, ms, open, high, low, close, volume: rng.int(0, 1_000_000) });
    ms += DAY_MS;
  }
  return out;
}

/** Column aliases a source may use instead of the canonical names. */
const ALIASES: Record<Canonical, string[]> = {
  symbol: ['Ticker', 'sym', 'SecurityId'],
  ts: ['Date', 'timestamp', 'time'],
  open: ['Open_Price', 'o'],
  high: ['High_Price', 'h'],
  low: ['Low_Price', 'l'],
  close: ['Adj_Close', 'last', 'c'],
  volume: ['Vol', 'qty'],
};
const EXTRA_COLUMNS = ['note', 'adj_close', 'Symbol_2', 'id', 'exchange'];

export interface GeneratedCsv {
  /** The file's bytes. */
  bytes: Buffer;
  /** Data records in the file when it is well formed enough to count (undefined for garbage). */
  records: number | undefined;
  /** Symbols fed, trimmed, blank ones left out. */
  symbols: Set<string>;
  /** Every row passes every ingest check and no (symbol, ts) repeats: nothing may be rejected. */
  allValid: boolean;
  /** `--map` pairs needed for renamed columns (only those the generator chose to map). */
  map: Partial<Record<Canonical, string>>;
  /** Structurally sound CSV (header, same field count on every line, quotes closed, no garbage). */
  wellFormed: boolean;
  /** Header names, and the canonical column each holds (undefined for extra columns). */
  header: string[];
  canon: (Canonical | undefined)[];
  kind: 'rows' | 'empty' | 'header-only' | 'garbage';
  flavour: string[];
}

function csvField(v: string, quoteAll: boolean): string {
  return quoteAll || /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/**
 * A CSV file with 0-4 symbols of 0-60 bars each, then mutated: columns dropped, renamed,
 * added, reordered or repeated; cells replaced by hostile values; rows duplicated, swapped
 * (high < low) or shuffled; BOM, CRLF, quotes, ragged lines, a truncated last line; or the
 * whole file empty, header-only or binary garbage. `avoid` are symbols other files of the
 * run use (kept disjoint unless the generator chooses an overlap on purpose).
 */
export function generateCsv(rng: Rng, avoid: Set<string> = new Set(), opts: { everyRowBad?: boolean } = {}): GeneratedCsv {
  if (opts.everyRowBad) return everyRowBad(rng);
  const flavour: string[] = [];
  const kind = rng.weighted({ rows: 88, empty: 3, 'header-only': 5, garbage: 4 } as const);
  if (kind === 'empty') {
    return { bytes: Buffer.alloc(0), records: 0, symbols: new Set(), allValid: true, map: {}, wellFormed: false, header: [], canon: [], kind, flavour: ['0-byte file'] };
  }

  // Columns: canonical ones, some renamed (mapped or not), some dropped, some extra, reordered.
  type Col = { name: string; canon?: Canonical; extra?: boolean };
  const map: Partial<Record<Canonical, string>> = {};
  let columnsFound = true;
  let cols: Col[] = CANONICAL.map((c) => ({ name: c, canon: c }));
  if (rng.chance(0.15)) {
    for (const c of cols) if (c.canon && rng.chance(0.3)) c.name = rng.chance(0.5) ? c.name.toUpperCase() : c.name[0].toUpperCase() + c.name.slice(1);
    flavour.push('case-variant names');
  }
  if (rng.chance(0.2)) {
    for (const c of rng.sample(cols, rng.int(1, 3))) {
      c.name = rng.pick(ALIASES[c.canon!]);
      if (rng.chance(0.75)) map[c.canon!] = c.name;
      else columnsFound = false;
      flavour.push(`${c.canon}->${c.name}${map[c.canon!] ? ' (mapped)' : ' (unmapped)'}`);
    }
  }
  if (rng.chance(0.1)) {
    const gone = rng.pick(cols);
    cols = cols.filter((c) => c !== gone);
    columnsFound = false;
    flavour.push(`no ${gone.canon} column`);
  }
  if (rng.chance(0.25)) {
    for (const e of rng.sample(EXTRA_COLUMNS, rng.int(1, 2))) cols.push({ name: e, extra: true });
    flavour.push('extra columns');
  }
  if (rng.chance(0.04)) {
    const dup = rng.pick(cols.filter((c) => c.canon));
    cols.push({ name: dup.name, canon: dup.canon });
    flavour.push(`column ${dup.name} twice`);
  }
  if (rng.chance(0.4)) {
    cols = rng.shuffle(cols);
    flavour.push('columns reordered');
  }

  const header = cols.map((c) => c.name);
  const tsFormat: TsFormat = rng.chance(0.85) ? rng.pick(PARSEABLE) : rng.pick(TS_FORMATS);
  if (tsFormat !== 'date') flavour.push(`ts as ${tsFormat}`);
  let allValid = PARSEABLE.includes(tsFormat);

  // Rows: a random walk per symbol, then hostile cells and rows.
  const symbols = rng.sample(SYMBOLS.filter((s) => !avoid.has(s.trim())), rng.int(1, 4));
  if (avoid.size > 0 && rng.chance(0.2)) {
    symbols.push(rng.pick([...avoid]));
    flavour.push('a symbol shared with another file');
    allValid = false;
  }
  const fed = new Set<string>();
  const rows: Record<Canonical, string>[] = [];
  const nBars = kind === 'header-only' ? 0 : undefined;
  for (const s of symbols) {
    const bars = nBars ?? (rng.chance(0.4) ? rng.int(30, 60) : rng.int(0, 29));
    for (const b of walk(rng, s, bars)) {
      rows.push({ symbol: s, ts: formatTs(b.ms, tsFormat), open: String(b.open), high: String(b.high), low: String(b.low), close: String(b.close), volume: String(b.volume) });
    }
  }
  if (rows.length > 0 && rng.chance(0.06)) {
    // Every row bad the same way (item 1's reproduction): nothing is written, all is quarantined.
    for (const r of rows) [r.high, r.low] = [r.low, r.high];
    allValid = false;
    flavour.push('every row has high < low');
  }
  const pBad = rows.length === 0 ? 0 : rng.pick([0, 0, 0, 0.02, 0.05, 0.1, 0.3, 1]);
  if (pBad > 0) {
    allValid = false;
    flavour.push(`bad cells p=${pBad}`);
    for (const r of rows) {
      if (rng.chance(pBad / 3)) r.symbol = rng.pick(HOSTILE_SYMBOLS);
      if (rng.chance(pBad / 3)) r.ts = rng.pick(HOSTILE_TIMESTAMPS);
      for (const c of ['open', 'high', 'low', 'close', 'volume'] as const) if (rng.chance(pBad / 4)) r[c] = rng.pick(HOSTILE_NUMBERS);
      if (rng.chance(pBad / 3)) [r.high, r.low] = [r.low, r.high];
    }
    const extraRows: Record<Canonical, string>[] = [];
    for (const r of rows) {
      if (rng.chance(pBad / 4)) extraRows.push({ ...r });
      if (rng.chance(pBad / 4)) extraRows.push({ ...r, close: r.open });
    }
    if (extraRows.length > 0) flavour.push('duplicate rows or timestamps');
    rows.push(...extraRows);
  }
  let ordered = rows;
  if (rng.chance(0.3)) {
    ordered = rng.shuffle(rows);
    flavour.push('rows shuffled');
  }
  for (const r of ordered) if (r.symbol.trim() !== '') fed.add(r.symbol.trim());

  const extraValue = () => rng.pick(['x', '1', '', 'note with spaces', '3.5', '"', 'NaN']);
  const values = ordered.map((r) => cols.map((c) => (c.canon ? r[c.canon] : extraValue())));

  if (kind === 'garbage') {
    const n = rng.int(1, 400);
    const junk = Buffer.from(Array.from({ length: n }, () => rng.int(0, 255)));
    const prefix = rng.chance(0.5) ? Buffer.from(`${header.join(',')}\n`) : Buffer.alloc(0);
    return { bytes: Buffer.concat([prefix, junk]), records: undefined, symbols: fed, allValid: false, map, wellFormed: false, header, canon: cols.map((c) => c.canon), kind, flavour: [...flavour, 'binary garbage'] };
  }

  // Rendering: quotes, line ends, BOM, ragged lines, a truncated last line.
  const quoteAll = rng.chance(0.1);
  if (quoteAll) flavour.push('every field quoted');
  const eol = rng.chance(0.25) ? '\r\n' : '\n';
  if (eol === '\r\n') flavour.push('CRLF');
  let wellFormed = true;
  const lines = [header, ...values].map((cells) => cells.map((v) => csvField(v, quoteAll)).join(','));
  if (lines.length > 1 && rng.chance(0.06)) {
    const i = rng.int(1, lines.length - 1);
    lines[i] = rng.chance(0.5) ? `${lines[i]},surplus` : lines[i].slice(0, Math.max(0, lines[i].lastIndexOf(',')));
    wellFormed = false;
    allValid = false;
    flavour.push(`ragged line ${i + 1}`);
  }
  let text = lines.join(eol);
  const trailingEol = rng.chance(0.8);
  if (trailingEol) text += eol;
  else flavour.push('no final newline');
  if (values.length > 0 && rng.chance(0.08)) {
    const lastStart = text.lastIndexOf(eol, text.length - (trailingEol ? eol.length + 1 : 1)) + eol.length;
    const cut = rng.int(lastStart + 1, text.length - 1);
    text = text.slice(0, cut);
    wellFormed = false;
    allValid = false;
    flavour.push('last line cut short');
  }
  let bytes = Buffer.from(text, 'utf8');
  if (rng.chance(0.1)) {
    bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
    flavour.push('BOM');
  }
  if (kind === 'header-only') flavour.push('header only');
  if (!columnsFound || header.length !== new Set(header.map((h) => h.toLowerCase())).size) allValid = false;
  return { bytes, records: values.length, symbols: fed, allValid, map, wellFormed, header, canon: cols.map((c) => c.canon), kind, flavour };
}

/**
 * Whether ingest can find every canonical column of a CSV with `map` (the README's rule: the
 * mapped or canonical name, exactly or as the only case-insensitive match), each holding that
 * column's values; undefined when the header repeats a name.
 */
export function resolvable(csv: Pick<GeneratedCsv, 'header' | 'canon' | 'kind'>, map: Partial<Record<Canonical, string>>): boolean | undefined {
  if (csv.kind === 'empty') return false;
  // Garbage after a header may parse as rows that are then rejected: not decidable here.
  if (csv.kind === 'garbage') return undefined;
  // Names repeated up to case: how the reader names the copies is its own business.
  if (new Set(csv.header.map((h) => h.toLowerCase())).size !== csv.header.length) return undefined;
  return CANONICAL.every((c) => {
    const want = map[c] ?? c;
    const exact = csv.header.map((h, i) => (h === want ? i : -1)).filter((i) => i >= 0);
    const ci = csv.header.map((h, i) => (h.toLowerCase() === want.toLowerCase() ? i : -1)).filter((i) => i >= 0);
    const hit = exact.length === 1 ? exact[0] : exact.length === 0 && ci.length === 1 ? ci[0] : -1;
    return hit >= 0 && csv.canon[hit] === c;
  });
}

/** A plain valid CSV: canonical header, 1-3 symbols of 35-50 daily bars. */
export function cleanCsv(rng: Rng, symbols = rng.sample(PLAIN_SYMBOLS, rng.int(1, 3))): { bytes: Buffer; records: number; symbols: Set<string> } {
  const lines = [CANONICAL.join(',')];
  for (const s of symbols) {
    for (const b of walk(rng, s, rng.int(35, 50))) lines.push([s, formatTs(b.ms, 'date'), b.open, b.high, b.low, b.close, b.volume].join(','));
  }
  return { bytes: Buffer.from(`${lines.join('\n')}\n`), records: lines.length - 1, symbols: new Set(symbols) };
}

/** Item 1's reproduction: a plain CSV whose every row has `high < low` (all quarantined). */
function everyRowBad(rng: Rng): GeneratedCsv {
  const symbols = rng.sample(PLAIN_SYMBOLS, rng.int(1, 3));
  const lines = [CANONICAL.join(',')];
  for (const s of symbols) {
    for (const b of walk(rng, s, rng.int(5, 40))) lines.push([s, formatTs(b.ms, 'date'), b.open, b.low, b.high, b.close, b.volume].join(','));
  }
  return {
    bytes: Buffer.from(`${lines.join('\n')}\n`),
    records: lines.length - 1,
    symbols: new Set(symbols),
    allValid: false,
    map: {},
    wellFormed: true,
    header: [...CANONICAL],
    canon: [...CANONICAL],
    kind: 'rows',
    flavour: ['every row has high < low'],
  };
}

/** `symbol=Ticker,ts=Date` for `--map`. */
export function mapSpec(map: Partial<Record<Canonical, string>>): string {
  return Object.entries(map)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

// ---------------------------------------------------------------------------------------------
// Parquet

/** A DuckDB connection factory for the test process (one in-memory instance). */
export class Duck {
  private constructor(private readonly instance: DuckDBInstance) {}

  static async open(): Promise<Duck> {
    return new Duck(await DuckDBInstance.create(':memory:', { threads: '1' }));
  }

  async with<T>(body: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const conn = await this.instance.connect();
    try {
      await conn.run(`SET TimeZone = 'UTC'`);
      return await body(conn);
    } finally {
      conn.closeSync();
    }
  }

  /** Rows of `sql`; BIGINTs as numbers. */
  rows(sql: string): Promise<Record<string, unknown>[]> {
    return this.with(async (c) => {
      const rows = (await c.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
      return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
    });
  }

  close(): void {
    this.instance.closeSync();
  }
}

export const lit = (s: string): string => `'${s.replaceAll("'", "''")}'`;
export const litList = (xs: string[]): string => `[${xs.map(lit).join(', ')}]`;

export interface ParquetColumn {
  name: string;
  canon?: Canonical;
  type: string;
}

/** A table to write as Parquet: typed columns and rows of SQL literals. */
export interface GeneratedTable {
  columns: ParquetColumn[];
  rows: string[][];
  /** Symbols, canonical types, all columns present: what a job could read if the values allow. */
  canonicalTypes: boolean;
  hasNullSymbol: boolean;
  hasNullTs: boolean;
  flavour: string[];
}

const PRICE_TYPES = ['DOUBLE', 'DOUBLE', 'DOUBLE', 'DOUBLE', 'DOUBLE', 'DOUBLE', 'DOUBLE', 'DOUBLE', 'VARCHAR', 'BOOLEAN', 'DECIMAL(18,3)', 'INTEGER', 'FLOAT'];

function priceLiteral(x: number | null | 'nan' | 'inf' | '-inf' | '-0', type: string, rng: Rng): string {
  if (x === null) return `NULL::${type}`;
  if (type === 'VARCHAR') return lit(typeof x === 'number' ? String(x) : rng.pick([x, 'abc', '', '1,5']));
  if (type === 'BOOLEAN') return rng.chance(0.5) ? 'true' : 'false';
  if (typeof x === 'string') return type === 'DOUBLE' || type === 'FLOAT' ? `${lit(x)}::${type}` : `NULL::${type}`;
  if (type === 'FLOAT' && Math.abs(x) > 1e38) return `'inf'::FLOAT`;
  if (type !== 'DOUBLE' && type !== 'FLOAT' && Math.abs(x) > 1e9) return `NULL::${type}`;
  return `CAST(${x} AS ${type})`;
}

function tsLiteral(ms: number | null, type: string, rng: Rng): string {
  if (ms === null) return `NULL::${type}`;
  const iso = new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
  switch (type) {
    case 'TIMESTAMP':
      return `TIMESTAMP ${lit(iso)}`;
    case 'TIMESTAMPTZ':
      return `TIMESTAMPTZ ${lit(`${iso}+00`)}`;
    case 'DATE':
      return `DATE ${lit(iso.slice(0, 10))}`;
    case 'BIGINT':
      return `CAST(${rng.chance(0.5) ? ms / 1000 : ms * 1000} AS BIGINT)`;
    default:
      return lit(rng.chance(0.9) ? iso.slice(0, 10) : rng.pick(['garbage', '', '2020-13-45']));
  }
}

/**
 * Rows of 1-4 symbols with 0-70 bars each, typed as a Parquet source: mostly the canonical
 * types, sometimes `ts` as VARCHAR, BIGINT, DATE or TIMESTAMPTZ, prices as text, booleans,
 * decimals; per-symbol faults (duplicate timestamps, a NULL, NaN, infinite, zero or negative
 * close), NULL symbols or timestamps, `high < low`, unsorted rows; columns missing, renamed
 * or extra. `strictness` 0 gives clean canonical rows.
 */
export function generateTable(rng: Rng, opts: { strictness: number; symbols?: string[]; minBars?: number } = { strictness: 1 }): GeneratedTable {
  const s = opts.strictness;
  const flavour: string[] = [];
  const type = (canon: Canonical): string => {
    if (s === 0 || !rng.chance(0.12 * s)) return canon === 'symbol' ? 'VARCHAR' : canon === 'ts' ? 'TIMESTAMP' : 'DOUBLE';
    const t =
      canon === 'symbol' ? 'INTEGER' : canon === 'ts' ? rng.pick(['VARCHAR', 'BIGINT', 'DATE', 'TIMESTAMPTZ']) : canon === 'volume' ? rng.pick(['BIGINT', 'VARCHAR']) : rng.pick(PRICE_TYPES);
    if (t !== 'DOUBLE') flavour.push(`${canon} as ${t}`);
    return t;
  };
  let columns: ParquetColumn[] = CANONICAL.map((c) => ({ name: c, canon: c, type: type(c) }));
  if (s > 0 && rng.chance(0.06 * s)) {
    const gone = rng.pick(columns);
    columns = columns.filter((c) => c !== gone);
    flavour.push(`no ${gone.canon} column`);
  }
  if (s > 0 && rng.chance(0.04 * s)) {
    const c = rng.pick(columns);
    c.name = rng.pick(ALIASES[c.canon!]);
    flavour.push(`${c.canon} named ${c.name}`);
  }
  if (s > 0 && rng.chance(0.2)) {
    columns.push({ name: rng.pick(EXTRA_COLUMNS), type: rng.pick(['VARCHAR', 'DOUBLE', 'BIGINT']) });
    flavour.push('an extra column');
  }
  const canonicalTypes =
    CANONICAL.every((c) => columns.some((k) => k.name === c)) &&
    columns.every((c) => !c.canon || (c.canon === 'symbol' ? c.type === 'VARCHAR' : c.canon === 'ts' ? c.type === 'TIMESTAMP' : c.canon === 'volume' ? ['DOUBLE', 'BIGINT'].includes(c.type) : c.type === 'DOUBLE'));

  const symbolNames = opts.symbols ?? rng.sample(PLAIN_SYMBOLS, rng.int(1, 4));
  type Row = { symbol: string | null; ms: number | null; open: number | null | string; high: number | null | string; low: number | null | string; close: number | null | 'nan' | 'inf' | '-inf' | '-0'; volume: number | null };
  let rows: Row[] = [];
  for (const sym of symbolNames) {
    const bars = rng.chance(0.6) ? rng.int(opts.minBars ?? 30, 70) : rng.int(opts.minBars ?? 0, 29);
    const symRows: Row[] = walk(rng, sym, bars).map((b) => ({ symbol: sym, ms: b.ms, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume }));
    if (s > 0 && symRows.length > 0 && rng.chance(0.45 * s)) {
      const fault = rng.pick(['dup-ts', 'null-close', 'nan-close', 'inf-close', 'neg-close', 'zero-close', 'neg-zero-close'] as const);
      const at = rng.int(0, symRows.length - 1);
      const r = symRows[at];
      if (fault === 'dup-ts') symRows.splice(at + 1, 0, { ...r, close: typeof r.close === 'number' ? round4(r.close * 1.01) : r.close });
      else r.close = fault === 'null-close' ? null : fault === 'nan-close' ? 'nan' : fault === 'inf-close' ? rng.pick(['inf', '-inf'] as const) : fault === 'neg-close' ? -5 : fault === 'zero-close' ? 0 : '-0';
      flavour.push(`${sym}: ${fault} at bar ${at}`);
    }
    if (s > 0 && symRows.length > 0 && rng.chance(0.1 * s)) {
      symRows[rng.int(0, symRows.length - 1)].close = 1e308;
      flavour.push(`${sym}: close 1e308`);
    }
    if (s > 0 && symRows.length > 0 && rng.chance(0.15 * s)) {
      const r = rng.pick(symRows);
      [r.high, r.low] = [r.low, r.high];
      flavour.push(`${sym}: high < low`);
    }
    if (s > 0 && symRows.length > 0 && rng.chance(0.08 * s)) {
      rng.pick(symRows).open = rng.pick([null, 'nan']) as null;
      flavour.push(`${sym}: bad open`);
    }
    rows.push(...symRows);
  }
  let hasNullSymbol = false;
  let hasNullTs = false;
  if (s > 0 && rows.length > 0 && rng.chance(0.07 * s)) {
    rng.pick(rows).symbol = null;
    hasNullSymbol = true;
    flavour.push('a NULL symbol');
  }
  if (s > 0 && rows.length > 0 && rng.chance(0.07 * s)) {
    rng.pick(rows).ms = null;
    hasNullTs = true;
    flavour.push('a NULL ts');
  }
  if (s > 0 && rng.chance(0.3)) {
    rows = rng.shuffle(rows);
    flavour.push('rows unsorted');
  }
  const rendered = rows.map((r) =>
    columns.map((c) => {
      switch (c.canon) {
        case 'symbol':
          return r.symbol === null ? `NULL::${c.type}` : c.type === 'INTEGER' ? String(700 + symbolNames.indexOf(r.symbol)) : lit(r.symbol);
        case 'ts':
          return tsLiteral(r.ms, c.type, rng);
        case 'open':
        case 'high':
        case 'low':
          return priceLiteral(r[c.canon] as number | null | 'nan', c.type, rng);
        case 'close':
          return priceLiteral(r.close, c.type, rng);
        case 'volume':
          return r.volume === null ? `NULL::${c.type}` : c.type === 'VARCHAR' ? lit(String(r.volume)) : `CAST(${r.volume} AS ${c.type})`;
        default:
          return c.type === 'VARCHAR' ? lit('extra') : `CAST(${rng.int(0, 9)} AS ${c.type})`;
      }
    }),
  );
  return { columns, rows: rendered, canonicalTypes, hasNullSymbol, hasNullTs, flavour };
}

let tableSeq = 0;

/**
 * Writes `table` as Parquet files with DuckDB: one file, or one per bucket of a canonical
 * layout (`bucket` gives a row's bucket from its symbol). Rows keep their order.
 */
export async function writeTable(duck: Duck, table: GeneratedTable, target: { file: string } | { dir: string; buckets: number; splitSymbol?: boolean }): Promise<string[]> {
  const name = `fuzz_t${++tableSeq}`;
  return duck.with(async (c) => {
    const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
    const cols = table.columns.map((k, i) => `"${k.name.replaceAll('"', '""')}${table.columns.findIndex((o) => same(o.name, k.name)) < i ? `_${i}` : ''}" ${k.type}`);
    await c.run(`CREATE TEMP TABLE ${name} (${cols.join(', ')}, fuzz_rownum INTEGER)`);
    try {
      if (table.rows.length > 0) {
        await c.run(`INSERT INTO ${name} VALUES ${table.rows.map((r, i) => `(${[...r, String(i)].join(', ')})`).join(', ')}`);
      }
      if ('file' in target) {
        await mkdir(dirname(target.file), { recursive: true });
        await c.run(`COPY (SELECT * EXCLUDE (fuzz_rownum) FROM ${name} ORDER BY fuzz_rownum) TO ${lit(target.file)} (FORMAT parquet)`);
        return [target.file];
      }
      const symbolCol = table.columns.find((k) => k.canon === 'symbol');
      const key = symbolCol ? `hash("${symbolCol.name}"::VARCHAR) % ${target.buckets}` : '0';
      // Optionally the second half of one symbol's rows goes to the next bucket: a broken layout.
      const bucketExpr = target.splitSymbol && symbolCol
        ? `CASE WHEN "${symbolCol.name}"::VARCHAR = (SELECT min("${symbolCol.name}"::VARCHAR) FROM ${name}) AND fuzz_rownum > (SELECT median(fuzz_rownum) FROM ${name}) THEN (${key} + 1) % ${target.buckets} ELSE ${key} END`
        : key;
      const files: string[] = [];
      for (let k = 0; k < target.buckets; k++) {
        const file = `${target.dir}/bucket=${k}/part-0.parquet`;
        const [{ n }] = (await c.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM ${name} WHERE ${bucketExpr} = ${k}`)).getRowObjectsJS() as { n: number }[];
        // Empty buckets get no file (as ingest writes them), unless every bucket is empty.
        if (n === 0 && (k < target.buckets - 1 || files.length > 0)) continue;
        await mkdir(dirname(file), { recursive: true });
        await c.run(`COPY (SELECT * EXCLUDE (fuzz_rownum) FROM ${name} WHERE ${bucketExpr} = ${k} ORDER BY fuzz_rownum) TO ${lit(file)} (FORMAT parquet)`);
        files.push(file);
      }
      return files;
    } finally {
      await c.run(`DROP TABLE IF EXISTS ${name}`);
    }
  });
}

/** Cuts a file short at a random point (keeping at least one byte, losing at least one). */
export async function truncateFile(rng: Rng, file: string): Promise<void> {
  const bytes = await readFile(file);
  await writeFile(file, bytes.subarray(0, rng.int(1, Math.max(1, bytes.length - 1))));
}
