/**
 * The harness shared by the comparisons: every tool (barstream included) runs in its own child
 * process, times itself after a warm-up run, and prints one JSON report (times, peak RSS, paths of
 * its outputs as raw float64 files); the comparison then checks agreement and computes ratios.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { packageRoot } from '../../engine/native.js';
import { Engine } from '../../engine/engine.js';
import { listDataFiles } from '../../datasets/layout.js';
import { generate } from '../../datasets/generate.js';
import { kernels } from '../../engine/kernels.js';
import { sqlFile } from '../../engine/sql.js';
import { benchDataset, median } from '../util.js';

export const root = packageRoot();
export const TOLERANCE = 1e-9;

export interface Report {
  tool: string;
  /** Seconds per timed run; per sub-task when the tool times several (indicators). */
  times: number[] | Record<string, number[]>;
  peakRssMB: number;
  outputs: Record<string, string>;
  notes: string[];
  symbols?: string[];
  /** Bars actually processed when a peer times a subset (pandas). */
  bars?: number;
  /** The symbols a subset run saw (pandas screen). */
  seen?: string[];
  /** Matches found (screens). */
  matches?: number;
}

/** One line of the results: a tool on a task at a size. */
export interface Row {
  task: string;
  tool: string;
  symbols: number;
  bars: number;
  /** Timed runs, seconds. */
  times: number[];
  median: number;
  min: number;
  peakRssMB: number;
  /** Max abs difference to barstream over the compared outputs (barstream rows: 0). */
  maxAbsDiff?: number;
  /** `maxAbsDiff` is relative: max |a - b| / max(1, |reference|) (the formula spec's agreement). */
  relative?: boolean;
  /** `agrees` within 1e-9; `disagrees`; `not-specd` where the peer computes something else by design. */
  agreement: 'agrees' | 'disagrees' | 'not-specd' | 'reference';
  /** Peer median / barstream median (barstream rows: 1). */
  ratio?: number;
  notes: string[];
}

export interface Context {
  quick: boolean;
  runs: number;
  threads: number;
  /** Where the tools write their outputs (git-ignored). */
  tmp: string;
  log: (s: string) => void;
  /** Memoised barstream runs, so several peers share one measurement of the same task. */
  cache: Map<string, Promise<Report>>;
}

let python: string | undefined;

/** bench/.venv's python, creating the venv with bench/peers/setup.sh when needed (idempotent). */
export function venvPython(): string {
  if (python) return python;
  execFileSync('bash', [join(root, 'bench', 'peers', 'setup.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  python = join(root, 'bench', '.venv', 'bin', 'python');
  return python;
}

function runJson(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Report> {
  return new Promise((resolveP, reject) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`${args[0]} exited with ${code}:\n${err.slice(-3000)}`));
      try {
        resolveP(JSON.parse(last) as Report);
      } catch {
        reject(new Error(`${args[0]} printed no JSON report:\n${out.slice(-2000)}\n${err.slice(-2000)}`));
      }
    });
  });
}

function outDir(ctx: Context, name: string): string {
  const dir = join(ctx.tmp, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Runs `bench/peers/<script>.py` with its config (plus `runs` and a fresh `outDir`). */
export function runPython(ctx: Context, script: string, name: string, cfg: Record<string, unknown>): Promise<Report> {
  ctx.log(`  ${name} ...`);
  const full = { runs: ctx.runs, threads: ctx.threads, ...cfg, outDir: outDir(ctx, name) };
  return runJson(venvPython(), [join(root, 'bench', 'peers', `${script}.py`), JSON.stringify(full)], { PYTHONHASHSEED: '0', PYTHONDONTWRITEBYTECODE: '1' });
}

/** Runs `dist/bench/peers/<script>.js` (barstream, technicalindicators) in its own Node process. */
export function runNode(ctx: Context, script: string, name: string, cfg: Record<string, unknown>): Promise<Report> {
  ctx.log(`  ${name} ...`);
  const full = { runs: ctx.runs, threads: ctx.threads, ...cfg, outDir: outDir(ctx, name) };
  return runJson(process.execPath, [join(root, 'dist', 'bench', 'peers', `${script}.js`), JSON.stringify(full)]);
}

/** barstream's own run of a task, measured once per (task, config) and shared by the peers. */
export function barstream(ctx: Context, task: string, cfg: Record<string, unknown>): Promise<Report> {
  const key = `${task} ${JSON.stringify(cfg)}`;
  let r = ctx.cache.get(key);
  if (!r) {
    r = runNode(ctx, 'barstream', `barstream-${task}-${ctx.cache.size}`, { task, ...cfg });
    ctx.cache.set(key, r);
  }
  return r;
}

export function readF64(path: string): Float64Array {
  const b = readFileSync(path);
  return new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8);
}

export function writeF64(path: string, x: Float64Array | Int32Array): void {
  writeFileSync(path, new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
}

/** Max abs difference of `b` against `a`, aligned at the end; Infinity when NaN positions differ. */
export function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  const n = Math.min(a.length, b.length);
  let worst = 0;
  for (let k = 1; k <= n; k++) {
    const x = a[a.length - k];
    const y = b[b.length - k];
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) return Infinity;
      continue;
    }
    worst = Math.max(worst, Math.abs(x - y));
  }
  return a.length === b.length || n > 0 ? worst : Infinity;
}

export function sameSymbols(a: string[] | undefined, b: string[] | undefined): void {
  if (!a || !b || a.length !== b.length || a.some((s, i) => s !== b[i])) {
    throw new Error(`the tools saw different symbols (${a?.length} vs ${b?.length})`);
  }
}

/**
 * As `benchDataset`, at another bar frequency: a long series of daily bars drifts for centuries and
 * overflows, so the 1M-bar series is minute bars (about 10 years).
 */
async function seriesDataset(symbols: number, bars: number, freq: string, seed = 7): Promise<string> {
  const dir = join(root, 'bench', 'data', `synth-${symbols}x${bars}-${freq}-s${seed}-m2`);
  if (!existsSync(join(dir, 'metadata.json'))) {
    process.stderr.write(`generating ${dir} ...\n`);
    await generate({ out: dir, symbols, bars, seed, freq, overwrite: true });
  }
  return dir;
}

/** A series per symbol from a generated dataset, cached as raw files beside it. */
export interface Closes {
  dataset: string;
  closes: string;
  offsets: string;
  symbols: string[];
  bars: number;
}

export async function datasetCloses(symbols: number, bars: number, freq?: string): Promise<Closes> {
  const dataset = freq ? await seriesDataset(symbols, bars, freq) : await benchDataset(symbols, bars);
  const base = `${dataset}.series`;
  const meta = `${base}.json`;
  if (!existsSync(meta)) {
    const files = (await listDataFiles(dataset)).map((f) => f.path);
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await conn.run(sqlFile('bars', { source: Engine.sourceSql(files) }));
    const counts = (await conn.runAndReadAll('SELECT symbol, count(*)::INTEGER AS n FROM bars GROUP BY symbol ORDER BY symbol')).getRowObjects();
    const offsets = new Int32Array(counts.length + 1);
    counts.forEach((r, i) => (offsets[i + 1] = offsets[i] + Number(r.n)));
    const closes = new Float64Array(offsets[counts.length]);
    const result = await conn.stream('SELECT close FROM bars ORDER BY symbol, ts');
    let k = 0;
    for (let c = await result.fetchChunk(); c && c.rowCount > 0; c = await result.fetchChunk()) {
      const v = c.getColumnVector(0);
      for (let i = 0; i < c.rowCount; i++) closes[k++] = v.getItem(i) as number;
    }
    conn.closeSync();
    db.closeSync();
    writeF64(`${base}.closes.f64`, closes);
    writeF64(`${base}.offsets.i32`, offsets);
    writeFileSync(meta, JSON.stringify({ symbols: counts.map((r) => String(r.symbol)) }));
  }
  return {
    dataset,
    closes: `${base}.closes.f64`,
    offsets: `${base}.offsets.i32`,
    symbols: JSON.parse(readFileSync(meta, 'utf8')).symbols,
    bars: readF64(`${base}.closes.f64`).length,
  };
}

/** Builds a result row from a report's timed runs. */
export function row(task: string, r: Report, times: number[], symbols: number, bars: number, extra: Partial<Row> = {}): Row {
  return { task, tool: r.tool, symbols, bars, times, median: median(times), min: Math.min(...times), peakRssMB: r.peakRssMB, agreement: 'agrees', notes: r.notes, ...extra };
}

/** Agreement verdict of a spec'd quantity. */
export const verdict = (d: number): Row['agreement'] => (d <= TOLERANCE ? 'agrees' : 'disagrees');

/** Rows of one single-series indicator comparison: per indicator, barstream and the peer. */
export function indicatorRows(bars: number, bs: Report, peer: Report, notSpecd: Record<string, string>, notes: Record<string, string> = {}): Row[] {
  const rows: Row[] = [];
  const bt = bs.times as Record<string, number[]>;
  const pt = peer.times as Record<string, number[]>;
  for (const name of Object.keys(pt)) {
    const task = `${name}-${bars >= 1e6 ? `${bars / 1e6}M` : `${bars / 1e3}k`}`;
    const b = row(task, bs, bt[name], 1, bars, { agreement: 'reference', ratio: 1 });
    const keys = Object.keys(peer.outputs).filter((k) => k === name || k.startsWith(`${name}/`));
    const d = Math.max(...keys.map((k) => maxAbsDiff(readF64(bs.outputs[k]), readF64(peer.outputs[k]))));
    const p = row(task, peer, pt[name], 1, bars, { maxAbsDiff: d, agreement: notSpecd[name] ? 'not-specd' : verdict(d) });
    p.ratio = p.median / b.median;
    p.notes = [...(notSpecd[name] ? [notSpecd[name]] : []), ...(notes[name] ? [notes[name]] : [])];
    rows.push(b, p);
  }
  return rows;
}

export const sizeLabel = (symbols: number, bars: number) => (symbols === 1 ? `${bars >= 1e6 ? `${bars / 1e6}M` : `${bars / 1e3}k`} bars` : `${symbols}x${bars}`);

/**
 * Max abs difference of a pipeline peer's per-symbol outputs (last SMA, last trend state, bars in
 * state +1; see pipeline_common.py) against barstream's kernels.sma + kernels.trendState.
 */
export function pipelineAgreement(s: Closes, peer: Report, length: number): number {
  sameSymbols(s.symbols, peer.symbols);
  const closes = readF64(s.closes);
  const b = readFileSync(s.offsets);
  const offsets = new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  const got = ['last_sma', 'last_state', 'long_bars'].map((k) => readF64(peer.outputs[k]));
  let worst = 0;
  for (let i = 0; i < s.symbols.length; i++) {
    const x = closes.subarray(offsets[i], offsets[i + 1]);
    const m = kernels.sma(x, length);
    const st = kernels.trendState(x, m);
    let long = 0;
    for (const v of st) if (v === 1) long++;
    const want = [m[m.length - 1], st[st.length - 1], long];
    want.forEach((w, k) => (worst = Math.max(worst, Number.isNaN(w) !== Number.isNaN(got[k][i]) ? Infinity : Number.isNaN(w) ? 0 : Math.abs(w - got[k][i]))));
  }
  return worst;
}
