/**
 * barstream's side of the comparisons, in its own process (like every peer), printing the same
 * JSON report: `node dist/bench/peers/barstream.js '<json config>'`.
 *
 * Tasks: `indicators` (one series: sma/ema/wma/dema/rsi/bollinger/kama, each timed),
 * `atc` (kernels.atcBatch over in-memory symbols, in blocks; Average_Signal kept for every bar,
 * all columns for the first `detail` symbols), `scan` (Engine.scan from the Parquet dataset),
 * `trend` (Engine.trendScan), `screen` (Engine.screen of `cfg.formula` with every matching bar),
 * `formula` (kernels.formula of `cfg.formula` and kernels.sma on one series, each timed).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../engine/engine.js';
import { AtcColumn, kernels } from '../../engine/kernels.js';
import { jsEma } from '../js-ema.js';

const cfg = JSON.parse(process.argv[2] ?? '{}');
const runs: number = cfg.runs;
const outputs: Record<string, string> = {};
const write = (name: string, x: Float64Array) => {
  const path = join(cfg.outDir, `${name.replace(/\//g, '-')}.f64`);
  writeF64(path, x);
  outputs[name] = path;
};

function writeF64(path: string, x: Float64Array): void {
  writeFileSync(path, new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
}

function load(path: string): Float64Array {
  const b = readFileSync(path);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

async function time<T>(f: () => Promise<T> | T): Promise<{ times: number[]; out: T }> {
  let out = await f(); // warm-up: code, pages, file cache
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    out = await f();
    times.push((performance.now() - t0) / 1000);
  }
  return { times, out };
}

const ATC_COLUMNS = ['Average_Signal', ...['EMA', 'HMA', 'WMA', 'DEMA', 'LSMA', 'KAMA'].map((t) => `${t}_Signal`), ...['EMA', 'HMA', 'WMA', 'DEMA', 'LSMA', 'KAMA'].map((t) => `${t}_S`)] as const;

/** Seconds per run of `f` and of `g`, which take turns (after one warm-up call each). */
function interleave(f: () => unknown, g: () => unknown): [number[], number[]] {
  const t: [number[], number[]] = [[], []];
  f();
  g();
  for (let i = 0; i < runs; i++) {
    [f, g].forEach((h, k) => {
      const t0 = performance.now();
      h();
      t[k].push((performance.now() - t0) / 1000);
    });
  }
  return t;
}

async function indicators() {
  const x = load(cfg.closes);
  const { length: L, rsiLength: RL, bbLength: BL, bbK: K } = cfg;
  // Each kernel writes output buffers allocated once, outside the timing
  // (the `out` argument): the work measured is the indicator's, not the page faults of a
  // fresh 8 MB buffer. (TA-Lib's Python functions take no output array: it allocates.)
  const out: Record<string, Float64Array> = {};
  const into = (name: string) => (out[name] ??= new Float64Array(x.length));
  let bands: { mid: Float64Array; upper: Float64Array; lower: Float64Array } | undefined;
  const jobs: Record<string, () => unknown> = {
    sma: () => kernels.sma(x, L, into('sma')),
    ema: () => kernels.ema(x, L, into('ema')),
    wma: () => kernels.wma(x, L, into('wma')),
    dema: () => kernels.dema(x, L, into('dema')),
    rsi: () => kernels.rsi(x, RL, into('rsi')),
    bollinger: () => kernels.bollinger(x, BL, K, (bands ??= { mid: new Float64Array(x.length), upper: new Float64Array(x.length), lower: new Float64Array(x.length) })),
    kama: () => kernels.kama(x, L, into('kama')),
  };
  const times: Record<string, number[]> = {};
  // kernels.ema and the plain JavaScript loop of the same recurrence (both into a reused
  // buffer) take turns within each run, so both see the same machine load.
  const jsOut = new Float64Array(x.length);
  const pair = interleave(() => kernels.ema(x, L, into('ema')), () => jsEma(x, L, jsOut));
  write('js-loop/ema', jsOut);
  for (const [name, f] of Object.entries(jobs)) {
    const r = name === 'ema' ? { times: pair[0], out: f() } : await time(f);
    times[name] = r.times;
    if (name === 'bollinger') {
      const b = r.out as { mid: Float64Array; upper: Float64Array; lower: Float64Array };
      write('bollinger/mid', b.mid);
      write('bollinger/upper', b.upper);
      write('bollinger/lower', b.lower);
    } else write(name, r.out as Float64Array);
  }
  return {
    times,
    jsLoop: { ema: pair[1] },
    notes: ['barstream kernels.* (Rust via napi, zero-copy Float64Array in; each kernel writes reused out buffers)'],
  };
}

async function atc() {
  const closes = load(cfg.closes);
  const ob = readFileSync(cfg.offsets);
  const offsets = new Int32Array(ob.buffer.slice(ob.byteOffset, ob.byteOffset + ob.byteLength));
  const nsym = offsets.length - 1;
  const block: number = cfg.block ?? 500;
  const detail: number = Math.min(cfg.detail ?? 1, nsym, block);
  let first: ReturnType<typeof kernels.atcBatch> | undefined;
  const run = () => {
    const avg = new Float64Array(closes.length);
    for (let s = 0; s < nsym; s += block) {
      const e = Math.min(nsym, s + block);
      const a = offsets[s];
      const offs = offsets.subarray(s, e + 1).map((o) => o - a);
      const r = kernels.atcBatch(closes.subarray(a, offsets[e]), offs, cfg.params);
      avg.set(r.Average_Signal, a);
      if (s === 0) first = r;
    }
    return avg;
  };
  const r = await time(run);
  write('Average_Signal', r.out);
  const end = offsets[detail];
  for (const c of ATC_COLUMNS) write(`detail/${c}`, first![c as AtcColumn].subarray(0, end));
  return { times: r.times, notes: [`kernels.atcBatch (Rust, rayon over symbols), blocks of ${block} symbols`] };
}

async function scan() {
  const engine = await Engine.open({ dataset: cfg.dataset, threads: cfg.threads });
  const r = await time(() => engine.scan({ strategy: cfg.params }));
  if (r.out.failed.length || r.out.skipped.length) throw new Error(`scan: ${r.out.failed.length} failed, ${r.out.skipped.length} skipped`);
  const rows = [...r.out.symbols].sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  write('signal', Float64Array.from(rows, (s) => s.signal));
  return { times: r.times, symbols: rows.map((s) => s.symbol), notes: [`Engine.scan (DuckDB -> Rust ATC -> latest signal), ${cfg.threads} threads`] };
}

async function trend() {
  const engine = await Engine.open({ dataset: cfg.dataset, threads: cfg.threads });
  const length = Number(cfg.length ?? 28);
  const r = await time(() => engine.trendScan({ ma: 'SMA', length }));
  if (r.out.failed.length) throw new Error(`trend scan: ${r.out.failed.length} failed`);
  const rows = [...r.out.symbols].sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  write('last_sma', Float64Array.from(rows, (s) => s.ma));
  write('last_state', Float64Array.from(rows, (s) => s.state));
  write('long_bars', Float64Array.from(rows, (s) => s.longBars));
  return { times: r.times, symbols: rows.map((s) => s.symbol), notes: [`Engine.trendScan SMA(${length}) (DuckDB -> Rust SMA + trend state), ${cfg.threads} threads`] };
}

/** Engine.screen with `all`: every matching bar, written in the form of screen_common.py. */
async function screen() {
  const engine = await Engine.open({ dataset: cfg.dataset, threads: cfg.threads });
  const r = await time(() => engine.screen({ formula: cfg.formula, all: true }));
  const { matches, failed, skipped } = r.out;
  if (failed.length || skipped.length) throw new Error(`screen: ${failed.length} failed, ${skipped.length} skipped`);
  const symbols = [...new Set(matches.map((m) => m.symbol))].sort();
  const index = new Map(symbols.map((s, i) => [s, i]));
  write('sym', Float64Array.from(matches, (m) => index.get(m.symbol)!));
  write('ts', Float64Array.from(matches, (m) => (typeof m.ts === 'number' ? m.ts : m.ts.getTime() * 1000)));
  write('close', Float64Array.from(matches, (m) => m.close));
  write('volume', Float64Array.from(matches, (m) => m.volume));
  for (const k of cfg.values as string[]) write(k, Float64Array.from(matches, (m) => m.values[k]));
  return { times: r.times, symbols, matches: matches.length, notes: [`Engine.screen({ all: true }) (DuckDB -> Rust formula plan per symbol), ${cfg.threads} threads`] };
}

/**
 * kernels.formula of `cfg.formula` on one series (close, volume), kernels.formula of
 * `sma(close, cfg.length)` alone, and kernels.sma(close, cfg.length), each timed.
 */
async function formula() {
  const bars = { close: load(cfg.closes), volume: load(cfg.volumes) };
  const f = await time(() => kernels.formula(cfg.formula, bars));
  const one = await time(() => kernels.formula(`sma(close, ${cfg.length})`, { close: bars.close }));
  const sma = await time(() => kernels.sma(bars.close, cfg.length));
  write('value', f.out.value);
  for (const [k, v] of Object.entries(f.out.values)) write(`values/${k}`, v);
  write('formulaSma', one.out.value);
  write('sma', sma.out);
  return { times: { formula: f.times, formulaSma: one.times, sma: sma.times }, notes: ['kernels.formula (Rust plan via napi, zero-copy Float64Array in and out)'] };
}

const tasks: Record<string, () => Promise<{ times: unknown; notes: string[]; symbols?: string[] }>> = { indicators, atc, scan, trend, screen, formula };
const task = tasks[cfg.task];
if (!task) throw new Error(`unknown task ${cfg.task}`);
const r = await task();
process.stdout.write(`${JSON.stringify({ tool: 'barstream', peakRssMB: Math.round(process.resourceUsage().maxRSS / 102.4) / 10, outputs, ...r })}\n`);
