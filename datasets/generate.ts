/**
 * `barstream generate`: a deterministic synthetic OHLCV dataset in the canonical layout.
 * The bars come from the Rust generator (a geometric random walk with volatility regimes,
 * see `kernels/src/gen`); this file validates options, stages, checksums and publishes.
 */
import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { invalidParam, native } from '../engine/errors.js';
import { checkRange, LIMITS } from '../engine/limits.js';
import { withOutputLock } from '../engine/outputs.js';
import { addon } from '../engine/native.js';
import { checkOutput, chooseBuckets, describeFiles, FileEntry, publish, stagingDir, writeJson } from './layout.js';

export interface GenerateOptions {
  /** Folder to create. */
  out: string;
  symbols: number;
  /** Bars per symbol. */
  bars: number;
  /** Random seed (default 1). The same seed gives the same data. */
  seed?: number;
  /** First bar, `YYYY-MM-DD` (default 2005-01-03). */
  start?: string;
  /** `1d` (weekdays, default), or a fixed step such as `1h`, `15m`, `30s`. */
  freq?: string;
  /** Buckets; default from {@link chooseBuckets}. */
  buckets?: number;
  /** Replace a non-empty `out`. */
  overwrite?: boolean;
  /** Buckets written at once (default: the number of cores, at most 4). */
  threads?: number;
  /** Called after each bucket is written. */
  onProgress?: (p: { bucketsDone: number; buckets: number; rows: number }) => void;
}

export interface DatasetMetadata {
  format: 'barstream-dataset/1';
  source: Record<string, unknown>;
  symbols: number;
  rows: number;
  buckets: number;
  bucketRule: string;
  files: FileEntry[];
  createdAt: string;
}

export function parseStartDate(start: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(start);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== start) {
    throw invalidParam(`start must be a date YYYY-MM-DD, got '${start}'`);
  }
  return ms * 1000;
}

/**
 * Writes a synthetic dataset and returns its metadata (also saved as `metadata.json`).
 * @example
 * await generate({ out: 'datasets/demo', symbols: 500, bars: 2500, seed: 42 });
 */
export async function generate(opts: GenerateOptions): Promise<DatasetMetadata> {
  const symbols = checkRange('symbols', opts.symbols, LIMITS.symbols);
  const bars = checkRange('bars', opts.bars, LIMITS.bars);
  const seed = checkRange('seed', opts.seed ?? 1, LIMITS.seed);
  const start = opts.start ?? '2005-01-03';
  const startUs = parseStartDate(start);
  const freq = opts.freq ?? '1d';
  const buckets = opts.buckets === undefined ? chooseBuckets(symbols * bars, symbols) : checkRange('buckets', opts.buckets, LIMITS.buckets);
  return withOutputLock(resolve(opts.out), 'generate', async () => {
    await checkOutput(opts.out, opts.overwrite ?? false);
    const staging = await stagingDir(opts.out);
    try {
      const files: { path: string; rows: number }[] = [];
      let next = 0;
      let done = 0;
      let rows = 0;
      const worker = async () => {
        for (let bucket = next++; bucket < buckets; bucket = next++) {
          const written = (await native(
            addon.generate({ dir: staging, symbols, bars, seed, startUs, freq, buckets, bucket, threads: 1 }),
          )) as { path: string; rows: number }[];
          files.push(...written);
          rows += written.reduce((n, f) => n + f.rows, 0);
          opts.onProgress?.({ bucketsDone: ++done, buckets, rows });
        }
      };
      const parallel = Math.max(1, Math.min(opts.threads ?? Math.min(availableParallelism(), 4), buckets));
      await Promise.all(Array.from({ length: parallel }, worker));
      files.sort((a, b) => a.path.localeCompare(b.path, 'en', { numeric: true }));
      const entries = await describeFiles(staging, files);
      const meta: DatasetMetadata = {
        format: 'barstream-dataset/1',
        source: { generator: 'barstream generate', model: 'gbm-regimes/2', seed, start, freq },
        symbols,
        rows: symbols * bars,
        buckets,
        bucketRule: 'hash(symbol) % buckets',
        files: entries,
        createdAt: new Date().toISOString(),
      };
      await writeJson(join(staging, 'metadata.json'), meta);
      await publish(staging, resolve(opts.out), opts.overwrite ?? false);
      return meta;
    } catch (e) {
      await rm(staging, { recursive: true, force: true });
      throw e;
    }
  });
}
