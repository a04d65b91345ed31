/**
 * The screen task of the benchmark, as data: the formula, the reference matches computed from
 * barstream's kernels (`kernels.sma`, the definition the formula spec points to) and the spec's
 * crossing rule written out here, and the agreement of any tool's matches with that reference.
 *
 * Every tool (barstream's `engine.screen`, Polars, DuckDB, pandas) writes its matches in one form
 * (raw float64 files `sym ts close volume s50 f s v`, `sym` indexing the report's `symbols`), see
 * `bench/peers/screen_common.py`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { Engine } from '../../engine/engine.js';
import { kernels } from '../../engine/kernels.js';
import { sqlFile } from '../../engine/sql.js';
import { listDataFiles } from '../../datasets/layout.js';
import { readF64, Report, writeF64 } from './harness.js';

/** The screen of issue 9, in the named-value form every tool outputs. */
export const SCREEN_FORMULA = 's50 = sma(close, 50)\nf = sma(close, 10)\ns = sma(close, 30)\nv = sma(volume, 20)\nclose > s50 and crosses_above(f, s) and volume > 1.5 * v';
/** The rule backtest of issue 9. */
export const RULE_FORMULA = 'f = sma(close, 10)\ns = sma(close, 30)\nentry = crosses_above(f, s)\nexit = crosses_below(f, s)';
/** What each match carries, in the order of the output files (after `sym`, `ts`). */
export const MATCH_VALUES = ['close', 'volume', 's50', 'f', 's', 'v'] as const;

/** The matches of one tool: per `symbol\tts` key, the values in MATCH_VALUES order. */
export type Matches = Map<string, number[]>;

/** One symbol's bars as the screen reads them. */
export interface SymbolBars {
  symbol: string;
  ts: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

/**
 * Streams every symbol's `ts` (µs), close and volume from a dataset, in (symbol, ts) order, one
 * symbol at a time (memory: one symbol).
 */
export async function eachSymbol(dataset: string, f: (b: SymbolBars) => void): Promise<number> {
  const files = (await listDataFiles(dataset)).map((x) => x.path);
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  await conn.run(sqlFile('bars', { source: Engine.sourceSql(files) }));
  const result = await conn.stream('SELECT symbol, epoch_us(ts)::DOUBLE, close, volume FROM bars ORDER BY symbol, ts');
  let cur: string | undefined;
  let ts: number[] = [];
  let close: number[] = [];
  let volume: number[] = [];
  let symbols = 0;
  const flush = () => {
    if (cur === undefined) return;
    f({ symbol: cur, ts: Float64Array.from(ts), close: Float64Array.from(close), volume: Float64Array.from(volume) });
    symbols++;
    ts = [];
    close = [];
    volume = [];
  };
  for (let c = await result.fetchChunk(); c && c.rowCount > 0; c = await result.fetchChunk()) {
    const [vs, vt, vc, vv] = [0, 1, 2, 3].map((k) => c.getColumnVector(k));
    for (let i = 0; i < c.rowCount; i++) {
      const s = String(vs.getItem(i));
      if (s !== cur) {
        flush();
        cur = s;
      }
      ts.push(vt.getItem(i) as number);
      close.push(vc.getItem(i) as number);
      volume.push(vv.getItem(i) as number);
    }
  }
  flush();
  conn.closeSync();
  db.closeSync();
  return symbols;
}

/**
 * The screen on one symbol's bars, from `kernels.sma` and the spec's rules written out: SMA first
 * defined at L-1; `crosses_above(a, b)` no match where i = 0 or any of a[i], b[i], a[i-1], b[i-1]
 * is NaN; a comparison with NaN is no match.
 */
export function screenSymbol(b: SymbolBars, out: Matches): void {
  const { close, volume } = b;
  const s50 = kernels.sma(close, 50);
  const f = kernels.sma(close, 10);
  const s = kernels.sma(close, 30);
  const v = kernels.sma(volume, 20);
  for (let i = 1; i < close.length; i++) {
    // Every comparison with NaN is false, so NaN anywhere is no match, as the spec's NaN is.
    const cross = f[i] > s[i] && f[i - 1] <= s[i - 1];
    if (close[i] > s50[i] && cross && volume[i] > 1.5 * v[i]) {
      out.set(`${b.symbol}\t${b.ts[i]}`, [close[i], volume[i], s50[i], f[i], s[i], v[i]]);
    }
  }
}

/**
 * The reference matches of a dataset, cached beside it (`<dataset>.screen-ref-<hash>.*`, the hash
 * of the formula and of {@link screenSymbol}'s source, so that a change to either recomputes it).
 */
export async function referenceMatches(dataset: string): Promise<{ matches: Matches; symbols: string[] }> {
  const hash = createHash('sha256').update(SCREEN_FORMULA).update(screenSymbol.toString()).digest('hex').slice(0, 12);
  const base = `${dataset}.screen-ref-${hash}`;
  if (!existsSync(`${base}.json`)) {
    const matches: Matches = new Map();
    const symbols: string[] = [];
    await eachSymbol(dataset, (b) => {
      symbols.push(b.symbol);
      screenSymbol(b, matches);
    });
    const keys = [...matches.keys()];
    const flat = new Float64Array(keys.length * MATCH_VALUES.length);
    keys.forEach((k, i) => flat.set(matches.get(k)!, i * MATCH_VALUES.length));
    writeF64(`${base}.values.f64`, flat);
    writeFileSync(`${base}.json`, JSON.stringify({ symbols, keys }));
  }
  const { symbols, keys } = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as { symbols: string[]; keys: string[] };
  const flat = readF64(`${base}.values.f64`);
  const w = MATCH_VALUES.length;
  return { symbols, matches: new Map(keys.map((k, i) => [k, Array.from(flat.subarray(i * w, (i + 1) * w))])) };
}

/** A tool's matches read back from its report's output files. */
export function reportMatches(r: Report): Matches {
  const sym = readF64(r.outputs.sym);
  const ts = readF64(r.outputs.ts);
  const cols = MATCH_VALUES.map((k) => readF64(r.outputs[k]));
  const names = r.symbols ?? [];
  const out: Matches = new Map();
  for (let i = 0; i < sym.length; i++) out.set(`${names[sym[i]]}\t${ts[i]}`, cols.map((c) => c[i]));
  return out;
}

export interface ScreenAgreement {
  /** Matches of the reference the tool lacks, and the tool's matches the reference lacks. */
  missing: number;
  extra: number;
  /** Over the common matches and every value: max |a - b|, and max |a - b| / max(1, |reference|). */
  maxAbsDiff: number;
  maxRelDiff: number;
  /** A few differing keys, for the log. */
  examples: string[];
}

/**
 * How far a tool's matches are from the reference, over the symbols it was run on (`only`: the
 * symbols a subset run saw; default all).
 */
export function screenAgreement(ref: Matches, got: Matches, only?: Set<string>): ScreenAgreement {
  let missing = 0;
  let extra = 0;
  let maxAbsDiff = 0;
  let maxRelDiff = 0;
  const examples: string[] = [];
  for (const [k, want] of ref) {
    if (only && !only.has(k.slice(0, k.indexOf('\t')))) continue;
    const have = got.get(k);
    if (!have) {
      missing++;
      if (examples.length < 5) examples.push(`missing ${k.replace('\t', ' @ ')}`);
      continue;
    }
    want.forEach((w, j) => {
      const d = Math.abs(w - have[j]);
      maxAbsDiff = Math.max(maxAbsDiff, Number.isNaN(d) ? Infinity : d);
      maxRelDiff = Math.max(maxRelDiff, Number.isNaN(d) ? Infinity : d / Math.max(1, Math.abs(w)));
    });
  }
  for (const k of got.keys()) {
    if (!ref.has(k)) {
      extra++;
      if (examples.length < 5) examples.push(`extra ${k.replace('\t', ' @ ')}`);
    }
  }
  return { missing, extra, maxAbsDiff, maxRelDiff, examples };
}
