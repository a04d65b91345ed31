/** Shared by the benchmarks: the machine, timing, seeded datasets, argument parsing. */
import { existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { generate } from '../datasets/generate.js';
import { packageRoot } from '../engine/native.js';

export function machine(): string {
  const c = cpus();
  return `${c[0]?.model.trim() ?? 'unknown CPU'}, ${c.length} cores, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}, ${process.platform}-${process.arch}`;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs `f` `runs` times and returns each wall time in seconds. */
export async function timeRuns(runs: number, f: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    out.push((performance.now() - t0) / 1000);
  }
  return out;
}

/** A generated dataset under `bench/data/`, made once and reused while its shape matches. */
export async function benchDataset(symbols: number, bars: number, seed = 7): Promise<string> {
  const dir = join(packageRoot(), 'bench', 'data', `synth-${symbols}x${bars}-s${seed}-m2`);
  if (!existsSync(join(dir, 'metadata.json'))) {
    process.stderr.write(`generating ${dir} ...\n`);
    await generate({ out: dir, symbols, bars, seed, overwrite: true });
  }
  return dir;
}

export function flag(args: string[], name: string): boolean {
  return args.includes(`--${name}`);
}

export function numberArg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}
