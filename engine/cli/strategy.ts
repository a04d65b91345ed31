/** Options shared by the commands that run a job over a dataset (scan, backtest, trend, read). */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { AtcParams } from '../kernels.js';
import { invalidParam } from '../errors.js';
import { intOption, numberOption } from './common.js';
import type { JobProgress } from '../jobs.js';
import { progressBar } from './progress.js';
import { parseShard, Shard } from '../shard.js';

export interface SourceFlags {
  data: string[];
  sql?: string;
  sqlFile?: string;
  threads?: number;
  memoryLimit?: string;
}

export interface StrategyFlags extends SourceFlags {
  length: number;
  robustness: 'Narrow' | 'Medium' | 'Wide';
  lambda: number;
  decay: number;
  cutout: number;
  hma: 'hull' | 'sma';
  json: boolean;
}

/** `2GB`, `512 MiB`, `80%`: what DuckDB's memory_limit accepts. */
function sizeOption(v: string): string {
  if (!/^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB|%)\s*$/i.test(v)) {
    throw new InvalidArgumentError(`--memory-limit must be a size such as 512MB, 2GB or 80%, got '${v}'`);
  }
  return v.trim();
}

/** `--data`, `--sql`, `--sql-file`, `--threads`, `--memory-limit`: where a job reads. */
export function addSourceOptions(cmd: Command, sqlHelp = 'SQL over the bars view, run per bucket (default: every bar)'): Command {
  return cmd
    .option('--data <path>', 'dataset folder, Parquet file or glob; repeat for several inputs', collect, [])
    .option('--sql <sql>', sqlHelp)
    .option('--sql-file <path>', 'read the SQL from a file (- for stdin) instead of --sql')
    .option('--threads <n>', 'worker and DuckDB threads (default: all cores)', intOption('--threads'))
    .option('--memory-limit <size>', "DuckDB's memory limit, e.g. 2GB", sizeOption);
}

export function addStrategyOptions(cmd: Command): Command {
  return addSourceOptions(cmd)
    .option('--length <n>', 'base MA length of every type', intOption('--length'), 28)
    .addOption(new Option('--robustness <r>', 'length spread').choices(['Narrow', 'Medium', 'Wide']).default('Medium'))
    .option('--lambda <x>', 'return growth, user units (la = lambda/1000)', numberOption('--lambda'), 0.02)
    .option('--decay <x>', 'equity decay per bar, percent', numberOption('--decay'), 0.03)
    .option('--cutout <n>', 'bars before equity is defined', intOption('--cutout'), 0)
    .addOption(new Option('--hma <kind>', "'hull', or 'sma' as the original Pine script").choices(['hull', 'sma']).default('hull'))
    .option('--json', 'print one JSON object on stdout; no progress bar', false);
}

/** Collects a repeatable option. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The inputs of `--data`, which is required. */
export function dataInputs(o: { data: string[] }): string[] {
  if (o.data.length === 0) throw invalidParam('--data is required: a dataset folder, Parquet file or glob');
  return o.data;
}

export function strategyParams(o: StrategyFlags): AtcParams {
  return { length: o.length, robustness: o.robustness, lambda: o.lambda, decay: o.decay, cutout: o.cutout, hma: o.hma };
}

/** Progress on stderr (TTY only, not with --json) and Ctrl-C as an abort. */
export function jobControls(json: boolean): { onProgress: (p: JobProgress) => void; signal: AbortSignal; done: () => void } {
  const bar = progressBar('symbols', process.stderr.isTTY === true && !json);
  const t0 = performance.now();
  const abort = new AbortController();
  let stopping = false;
  const onSigint = () => {
    if (stopping) {
      // The second Ctrl-C: stop now (exit handlers still release locks and staging folders).
      process.stderr.write('barstream: stopped at once; finished buckets are kept (rerun with --resume)\n');
      process.exit(130);
    }
    stopping = true;
    process.stderr.write('\nstopping after the current batch (Ctrl-C again to force)...\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  return {
    onProgress: (p) => {
      const rate = p.bars / Math.max((performance.now() - t0) / 1000, 1e-3);
      bar.update(p.symbolsDone, p.symbolsTotal, `${(rate / 1e6).toFixed(1)} M bars/s`);
    },
    signal: abort.signal,
    done: () => {
      bar.stop();
      process.off('SIGINT', onSigint);
    },
  };
}

/** `--shard i/N` or `--shard auto` (see `docs/scale-out.md`): checked as it is parsed. */
export function addShardOption(cmd: Command, what: string): Command {
  return cmd.option('--shard <i/N|auto>', `run only shard i of N (0-based: the buckets with bucket % N == i) ${what}, or auto: i and N from the scheduler (Slurm array, Kubernetes Indexed Job, AWS/Google Batch, Cloud Run); then barstream merge`, shardOption);
}

function shardOption(value: string): Shard {
  try {
    return parseShard(value).shard;
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}
