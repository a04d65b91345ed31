/**
 * Whether a `barstream backtest` output folder is whole. A backtest writes
 * `_manifest.json` last, once every bucket is in place; without it the folder is an
 * interrupted (or still running) job, and `_state/bucket-<k>.json` marks each finished
 * bucket. Shard runs leave `_shards/shard-<i>-of-<N>.json`, one per finished shard.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readsBars } from './partitions.js';

export interface ResultsState {
  /** True when `_manifest.json` is there. */
  complete: boolean;
  /** True when `_state/` is there (the folder is a backtest output, whole or not). */
  started: boolean;
  /** Buckets with a `_state/bucket-<k>.json` marker, ascending. */
  buckets: number[];
  /** How many buckets the job has, when `_state/job.json` tells it. */
  expected?: number;
  /** Shard records found under `_shards/`, by index. */
  shards: { index: number; of: number }[];
  /**
   * When the manifest is there: the first way the files differ from it (a listed file gone or
   * of another size, a Parquet file it does not list), e.g. after SQL wrote over a result.
   */
  changed?: string;
}

/** What `dir` holds: its manifest, finished bucket markers and shard records. */
export function resultsState(dir: string): ResultsState {
  const complete = existsSync(join(dir, '_manifest.json'));
  const state = join(dir, '_state');
  const started = existsSync(state);
  const buckets = started
    ? readdirSync(state)
        .map((f) => /^bucket-(\d+)\.json$/.exec(f)?.[1])
        .filter((k): k is string => k !== undefined)
        .map(Number)
        .sort((a, b) => a - b)
    : [];
  const shardDir = join(dir, '_shards');
  const shards = existsSync(shardDir)
    ? readdirSync(shardDir)
        .map((f) => /^shard-(\d+)-of-(\d+)\.json$/.exec(f))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => ({ index: Number(m[1]), of: Number(m[2]) }))
        .sort((a, b) => a.index - b.index)
    : [];
  const changed = complete ? changedSinceManifest(dir) : undefined;
  return { complete, started, buckets, expected: started ? expectedBuckets(join(state, 'job.json')) : undefined, shards, changed };
}

/** Result folders whose Parquet files a manifest lists (and the query views read). */
const LISTED = ['signals', 'summary', 'trades', 'matches', '_errors'];

/**
 * Compares the result files with `_manifest.json` by presence and size (cheap: no file is
 * read); a Parquet file the manifest does not list under one of the `LISTED` folders counts.
 */
function changedSinceManifest(dir: string): string | undefined {
  let files: { path: string; bytes: number }[];
  try {
    files = JSON.parse(readFileSync(join(dir, '_manifest.json'), 'utf8')).files;
    if (!Array.isArray(files)) return '_manifest.json lists no files';
  } catch {
    return '_manifest.json is not readable JSON';
  }
  for (const f of files) {
    const path = join(dir, f.path);
    if (!existsSync(path)) return `${f.path} is listed in _manifest.json but missing`;
    const bytes = statSync(path).size;
    if (bytes !== f.bytes) return `${f.path} has ${bytes} bytes, _manifest.json recorded ${f.bytes}`;
  }
  const unlisted = unlistedResultFile(dir, new Set(files.map((f) => f.path)));
  return unlisted ? `${unlisted} is not listed in _manifest.json` : undefined;
}

/**
 * The first Parquet file under one of the `LISTED` folders (or a scan's `scan*.parquet`) of
 * `dir` that `listed` lacks, relative to `dir`; hidden temporaries do not count.
 */
export function unlistedResultFile(dir: string, listed: Set<string>): string | undefined {
  for (const top of LISTED) {
    if (!existsSync(join(dir, top))) continue;
    for (const rel of readdirSync(join(dir, top), { recursive: true }) as string[]) {
      const path = `${top}/${rel}`;
      if (path.endsWith('.parquet') && !rel.split('/').some((p) => p.startsWith('.')) && !listed.has(path)) return path;
    }
  }
  return readdirSync(dir).find((f) => /^scan.*\.parquet$/.test(f) && !listed.has(f));
}

/**
 * The number of buckets the job recorded in `job.json`: its `buckets` when given, else
 * counted from its input files as the job partitions them (one per `bucket=<k>` folder of a
 * canonical dataset, one for all other files, one for SQL that does not read `bars`).
 */
function expectedBuckets(jobPath: string): number | undefined {
  let job: { buckets?: unknown; files?: unknown; sql?: unknown };
  try {
    job = JSON.parse(readFileSync(jobPath, 'utf8'));
  } catch {
    return undefined;
  }
  if (Number.isInteger(job.buckets)) return job.buckets as number;
  if (typeof job.sql === 'string' && !readsBars(job.sql)) return 1;
  if (!Array.isArray(job.files) || job.files.length === 0) return undefined;
  const keys = new Set<string>();
  for (const f of job.files) {
    const path = typeof f === 'string' ? f : (f as { path?: unknown })?.path;
    if (typeof path !== 'string') return undefined;
    const m = /^(.*)\/bucket=(\d+)\/[^/]+\.parquet$/.exec(path);
    keys.add(m ? `${m[1]}\0${m[2]}` : 'unordered');
  }
  return keys.size;
}

/** Numbers as ranges, e.g. `0-3, 5, 7-8`; at most `limit` ranges, then how many more. */
export function ranges(ns: number[], limit = 20): string {
  const parts: string[] = [];
  for (let i = 0; i < ns.length; ) {
    let j = i;
    while (j + 1 < ns.length && ns[j + 1] === ns[j] + 1) j++;
    parts.push(j === i ? `${ns[i]}` : `${ns[i]}-${ns[j]}`);
    i = j + 1;
  }
  return parts.length > limit ? `${parts.slice(0, limit).join(', ')}, ... (${parts.length - limit} more ranges)` : parts.join(', ');
}

/** Why `dir` is incomplete, on one line: which buckets (and shards) are finished. */
export function describeIncomplete(dir: string, s: ResultsState): string {
  const of = s.expected !== undefined ? ` of ${s.expected}` : '';
  const finished = s.buckets.length === 0 ? `no bucket is finished${of ? ` (the job has ${s.expected})` : ''}` : `finished buckets: ${ranges(s.buckets)} (${s.buckets.length}${of})`;
  if (s.shards.length > 0 || existsSync(join(dir, '_shards'))) {
    const total = [...new Set(s.shards.map((x) => x.of))];
    const present = s.shards.length === 0 ? 'no shard has finished' : `shards present: ${ranges(s.shards.map((x) => x.index))} (${s.shards.length}${total.length === 1 ? ` of ${total[0]}` : `; of shard counts ${total.join(', ')}`})`;
    return `results folder ${dir} is incomplete: it has no _manifest.json (a sharded job not merged yet: run barstream merge ${dir} once every shard has finished); ${s.started ? `${finished}; ` : ''}${present}`;
  }
  if (!s.started) return `results folder ${dir} is incomplete: it has no _manifest.json (the run that wrote it was interrupted or is still running)`;
  return `results folder ${dir} is incomplete: it has no _manifest.json (the backtest was interrupted or is still running); ${finished}`;
}
