/**
 * Shards: one job split over N processes that an existing scheduler launches (a Slurm job
 * array, a Kubernetes Indexed Job, an AWS Batch or Google Cloud Batch array job, a Cloud Run
 * job). Shard `i` of `N` takes the buckets with `bucket % N == i` (every symbol lives in one
 * bucket, buckets are independent), writes only their files into the shared output folder and
 * records itself in `OUT/_shards/shard-<i>-of-<N>.json`; `barstream merge OUT` (`merge.ts`)
 * checks the records and writes `_manifest.json`. See `docs/scale-out.md`.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { readDatasetMeta } from '../datasets/dataset-info.js';
import { FileEntry, sha256File } from '../datasets/layout.js';
import type { Engine } from './engine.js';
import { BarstreamError, invalidParam } from './errors.js';
import { checkShard } from './limits.js';
import { addon } from './native.js';
import { lockOutput, OutputLock } from './outputs.js';
import type { Partition } from './partitions.js';

/** Shard `index` of `count` (0-based). */
export interface Shard {
  index: number;
  count: number;
}

/** Where a shard's index and count came from, when a scheduler set them. */
export interface SchedulerInfo {
  /** `slurm`, `kubernetes`, `aws-batch`, `gcp-batch`, `cloud-run` or `barstream`. */
  name: string;
  /** The scheduler's job id, when it exposes one. */
  jobId: string | null;
  /** The scheduler's id of this task (for Slurm `<array job id>_<task id>`), when it exposes one. */
  taskId: string | null;
}

type Env = Record<string, string | undefined>;

/** Each scheduler's variables: index, count (and what tells its job and task ids). */
const SCHEDULERS: { name: string; index: string; count: string; job: string[]; task: (env: Env) => string | null }[] = [
  {
    name: 'slurm', index: 'SLURM_ARRAY_TASK_ID', count: 'SLURM_ARRAY_TASK_COUNT', job: ['SLURM_ARRAY_JOB_ID', 'SLURM_JOB_ID'],
    task: (env) => (env.SLURM_ARRAY_JOB_ID ? `${env.SLURM_ARRAY_JOB_ID}_${env.SLURM_ARRAY_TASK_ID}` : (env.SLURM_JOB_ID ?? null)),
  },
  // Kubernetes does not expose the completions count: the Job's manifest passes it.
  { name: 'kubernetes', index: 'JOB_COMPLETION_INDEX', count: 'BARSTREAM_SHARD_COUNT', job: ['JOB_NAME'], task: (env) => env.HOSTNAME ?? null },
  { name: 'aws-batch', index: 'AWS_BATCH_JOB_ARRAY_INDEX', count: 'AWS_BATCH_JOB_ARRAY_SIZE', job: ['AWS_BATCH_JOB_ID'], task: (env) => (env.AWS_BATCH_JOB_ID ? `${env.AWS_BATCH_JOB_ID}:${env.AWS_BATCH_JOB_ARRAY_INDEX}` : null) },
  { name: 'gcp-batch', index: 'BATCH_TASK_INDEX', count: 'BATCH_TASK_COUNT', job: ['BATCH_JOB_UID', 'BATCH_JOB_ID'], task: (env) => env.BATCH_TASK_INDEX ?? null },
  { name: 'cloud-run', index: 'CLOUD_RUN_TASK_INDEX', count: 'CLOUD_RUN_TASK_COUNT', job: ['CLOUD_RUN_EXECUTION', 'CLOUD_RUN_JOB'], task: (env) => env.CLOUD_RUN_TASK_INDEX ?? null },
  { name: 'barstream', index: 'BARSTREAM_SHARD_INDEX', count: 'BARSTREAM_SHARD_COUNT', job: [], task: () => null },
];

/** Every variable `--shard auto` looks at, as an error message lists them. */
function lookedFor(): string {
  return SCHEDULERS.map((s) => `${s.index}/${s.count} (${s.name})`).join(', ');
}

function whole(name: string, value: string): number {
  if (!/^\s*\d+\s*$/.test(value)) throw invalidParam(`--shard auto: ${name} must be a whole number, got '${value}'`);
  return Number(value);
}

/**
 * The shard the scheduler's environment names (`--shard auto`), and the scheduler.
 * Two schedulers' index variables at once (`BARSTREAM_SHARD_INDEX` counts as one), or none,
 * is an error listing the variables; a Slurm array not numbered 0, 1, ... is refused.
 * @throws BarstreamError `BARSTREAM_INVALID_PARAM`.
 * @example
 * shardFromEnv({ SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_STEP: '1' });
 * // { shard: { index: 2, count: 3 }, scheduler: { name: 'slurm', ... } }
 */
export function shardFromEnv(env: Env = process.env): { shard: Shard; scheduler: SchedulerInfo } {
  const set = (v: string) => env[v] !== undefined && env[v] !== '';
  const found = SCHEDULERS.filter((s) => set(s.index));
  if (found.length === 0) throw invalidParam(`--shard auto found no scheduler's shard variables; it looks for ${lookedFor()}`);
  if (found.length > 1) {
    throw invalidParam(`--shard auto found the variables of two schedulers at once: ${found.map((s) => `${s.index} (${s.name})`).join(' and ')}; set only one (it looks for ${lookedFor()})`);
  }
  const s = found[0];
  if (!set(s.count)) {
    const why = s.name === 'kubernetes' ? ' (Kubernetes does not expose the completions count: set it in the Job manifest)' : '';
    throw invalidParam(`--shard auto: ${s.index} is set but ${s.count} is not${why}`);
  }
  if (s.name === 'slurm') {
    // Array 1-3 or 0-10:2 does not number tasks 0..N-1: the index would not name a shard.
    if (set('SLURM_ARRAY_TASK_MIN') && whole('SLURM_ARRAY_TASK_MIN', env.SLURM_ARRAY_TASK_MIN!) !== 0) {
      throw invalidParam(`--shard auto: the Slurm array starts at ${env.SLURM_ARRAY_TASK_MIN} (SLURM_ARRAY_TASK_MIN); submit it as --array=0-<N-1> so task ids are the shard indices`);
    }
    if (set('SLURM_ARRAY_TASK_STEP') && whole('SLURM_ARRAY_TASK_STEP', env.SLURM_ARRAY_TASK_STEP!) !== 1) {
      throw invalidParam(`--shard auto: the Slurm array steps by ${env.SLURM_ARRAY_TASK_STEP} (SLURM_ARRAY_TASK_STEP); submit it as --array=0-<N-1> with step 1`);
    }
  }
  const shard = { index: whole(s.index, env[s.index]!), count: whole(s.count, env[s.count]!) };
  checkShard(shard, `--shard auto (${s.index}=${env[s.index]}, ${s.count}=${env[s.count]})`);
  return { shard, scheduler: schedulerIds(env)! };
}

/**
 * Parses `--shard`: `i/N` (0-based) or `auto` (from the scheduler's environment).
 * @throws BarstreamError `BARSTREAM_INVALID_PARAM` naming the value (and both numbers when out of range).
 * @example
 * parseShard('1/4'); // { shard: { index: 1, count: 4 }, scheduler: undefined }
 */
export function parseShard(text: string, env: Env = process.env): { shard: Shard; scheduler?: SchedulerInfo } {
  const t = text.trim();
  if (t === 'auto') return shardFromEnv(env);
  const m = /^(\d+)\/(\d+)$/.exec(t);
  if (!m) throw invalidParam(`--shard must be i/N (0-based, e.g. 0/4) or auto, got '${text}'`);
  const shard = { index: Number(m[1]), count: Number(m[2]) };
  checkShard(shard, `--shard ${t}`);
  return { shard };
}

/**
 * The scheduler whose shard variables are set, with its job and task ids (recorded by a shard
 * given as `i/N` too); null when none or several are set.
 */
export function schedulerIds(env: Env = process.env): SchedulerInfo | null {
  const found = SCHEDULERS.filter((s) => env[s.index] !== undefined && env[s.index] !== '');
  if (found.length !== 1) return null;
  const s = found[0];
  const jobVar = s.job.find((v) => env[v] !== undefined && env[v] !== '');
  return { name: s.name, jobId: jobVar ? env[jobVar]! : null, taskId: s.task(env) };
}

/**
 * The `shard` option of a job: `'auto'` read from the environment, or `{ index, count }` checked.
 * @throws BarstreamError `BARSTREAM_INVALID_PARAM`.
 */
export function resolveShard(shard: Shard | 'auto', env: Env = process.env): { shard: Shard; scheduler: SchedulerInfo | null } {
  if (shard === 'auto') return shardFromEnv(env);
  checkShard(shard, `shard ${shard?.index}/${shard?.count}`);
  return { shard: { index: shard.index, count: shard.count }, scheduler: schedulerIds(env) };
}

/** The partitions of `shard`: those with `bucket % count == index`; all without a shard. */
export function ofShard<T extends Pick<Partition, 'bucket'>>(parts: T[], shard: Shard | undefined): T[] {
  return shard === undefined ? parts : parts.filter((p) => p.bucket % shard.count === shard.index);
}

/** `shard-<i>-of-<N>`: the name of a shard's record and lock. */
export function shardName(s: Shard): string {
  return `shard-${s.index}-of-${s.count}`;
}

export const SHARDS = '_shards';

/** An input file and its checksum, as a shard records it. */
export interface InputChecksum {
  path: string;
  bytes: number;
  sha256: string;
}

/** What a shard writes in `OUT/_shards/shard-<i>-of-<N>.json` when it has finished. */
export interface ShardRecord {
  format: 'barstream-shard/1';
  /** The job. */
  kind: 'backtest' | 'scan' | 'screen';
  index: number;
  count: number;
  barstream: string;
  duckdb: string;
  /** Everything that must be the same in every shard of a job (strategy or formula, SQL, ...). */
  parameters: Record<string, unknown>;
  /** The dataset folder(s) as given. */
  dataset: string;
  inputs: InputChecksum[];
  /** Every bucket of the input, as the job partitions it. */
  allBuckets: number[];
  /** This shard's buckets. */
  buckets: number[];
  /** Counts of this shard's part, summed by `merge`. */
  counts: Record<string, number>;
  /** Rows the dataset's ingest rejected (the same for every shard). */
  rejectedRows: number;
  /** True when DuckDB sorted this shard's source. */
  sorted: boolean;
  files: FileEntry[];
  elapsedMs: number;
  host: string;
  pid: number;
  scheduler: SchedulerInfo | null;
  startedAt: string;
  finishedAt: string;
}

/**
 * The input files with sha256. A canonical dataset's `metadata.json` lists its files with
 * sha256: those are used for files whose size matches and that were not modified after the
 * metadata was written (re-hashing 50M bars per shard would cost more than the shard);
 * every other file is hashed.
 */
export async function inputChecksums(engine: Engine): Promise<InputChecksum[]> {
  const known = new Map<string, { bytes: number; sha256: string; writtenMs: number }>();
  for (const input of engine.inputs) {
    const dir = resolve(input);
    const meta = readDatasetMeta(dir) as { files?: FileEntry[] } | undefined;
    if (!meta || !Array.isArray(meta.files)) continue;
    const writtenMs = statSync(join(dir, 'metadata.json')).mtimeMs;
    for (const f of meta.files) if (typeof f?.sha256 === 'string') known.set(resolve(dir, f.path), { bytes: f.bytes, sha256: f.sha256, writtenMs });
  }
  return Promise.all(
    engine.files.map(async (path) => {
      const s = statSync(path);
      const k = known.get(resolve(path));
      const trusted = k !== undefined && k.bytes === s.size && s.mtimeMs <= k.writtenMs;
      return { path, bytes: s.size, sha256: trusted ? k.sha256 : await sha256File(path) };
    }),
  );
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = join(path, '..', `.${path.split('/').pop()}.tmp-${process.pid}`);
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, path);
}

/** A running shard: its lock, its start, and how it records itself when done. */
export class ShardRun {
  private readonly t0 = performance.now();
  private readonly startedAt = new Date().toISOString();

  private constructor(
    readonly out: string,
    readonly shard: Shard,
    readonly scheduler: SchedulerInfo | null,
    private readonly lock: OutputLock,
  ) {}

  /**
   * Takes shard `shard`'s own lock in `out` (`_shards/.shard-<i>-of-<N>.lock`): the shards of a
   * job write the same folder at once, each only its buckets.
   */
  static async start(out: string, shard: Shard, scheduler: SchedulerInfo | null): Promise<ShardRun> {
    checkShard(shard, `shard ${shard.index}/${shard.count}`);
    await mkdir(join(out, SHARDS), { recursive: true });
    const lock = await lockOutput(join(out, SHARDS, shardName(shard)), `shard ${shard.index}/${shard.count}`);
    return new ShardRun(out, shard, scheduler, lock);
  }

  /**
   * Before the shard writes anything: refuses a folder already merged unless `overwrite`
   * (which removes the manifest: the output is no longer whole), and removes this shard's
   * previous record (a retried shard is recorded again only when it finishes).
   * @throws BarstreamError `BARSTREAM_IO`.
   */
  async begin(overwrite: boolean): Promise<void> {
    const manifest = join(this.out, '_manifest.json');
    const { index, count } = this.shard;
    if (existsSync(manifest)) {
      if (!overwrite) {
        throw new BarstreamError('BARSTREAM_IO', `output ${this.out} is already merged (it has _manifest.json); pass --overwrite to run shard ${index}/${count} again (then merge again)`);
      }
      await rm(manifest, { force: true });
    }
    await rm(join(this.out, SHARDS, `${shardName(this.shard)}.json`), { force: true });
  }

  /** Writes the shard's record (atomically, last) and releases its lock. */
  async finish(record: Omit<ShardRecord, 'format' | 'index' | 'count' | 'barstream' | 'duckdb' | 'elapsedMs' | 'host' | 'pid' | 'scheduler' | 'startedAt' | 'finishedAt'>): Promise<ShardRecord> {
    const v = addon.version();
    const full: ShardRecord = {
      format: 'barstream-shard/1',
      index: this.shard.index,
      count: this.shard.count,
      barstream: v.barstream,
      duckdb: v.duckdb,
      ...record,
      elapsedMs: performance.now() - this.t0,
      host: hostname(),
      pid: process.pid,
      scheduler: this.scheduler,
      startedAt: this.startedAt,
      finishedAt: new Date().toISOString(),
    };
    await writeJsonAtomic(join(this.out, SHARDS, `${shardName(this.shard)}.json`), full);
    return full;
  }

  release(): void {
    this.lock.release();
  }
}

/** The shard records in `out/_shards`, by file name; unreadable ones as an error naming them. */
export async function readShardRecords(out: string): Promise<{ name: string; record: ShardRecord }[]> {
  const dir = join(out, SHARDS);
  if (!existsSync(dir)) return [];
  const found: { name: string; record: ShardRecord }[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!/^shard-\d+-of-\d+\.json$/.test(name)) continue;
    let record: ShardRecord;
    try {
      record = JSON.parse(await readFile(join(dir, name), 'utf8'));
    } catch (e) {
      throw new BarstreamError('BARSTREAM_BAD_INPUT', `shard record ${join(SHARDS, name)} in ${out} is not readable JSON: ${(e as Error).message}`);
    }
    if (record?.format !== 'barstream-shard/1') throw new BarstreamError('BARSTREAM_BAD_INPUT', `${join(SHARDS, name)} in ${out} is not a barstream shard record`);
    found.push({ name, record });
  }
  return found;
}
