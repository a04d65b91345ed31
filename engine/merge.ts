/**
 * `merge(out)`: seals the output of a sharded job. It checks the shard records of
 * `out/_shards/` (all N there, one N, the same parameters and input checksums, bucket sets
 * disjoint and covering every bucket of the input, every listed file there with its sha256,
 * no result file that no shard lists), then writes `out/_manifest.json` last and atomically:
 * the one sign that the output is whole. It has the format the single run writes (so `query`,
 * the views and reports read it unchanged) plus a `shards` section.
 */
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { FileEntry } from '../datasets/layout.js';
import { BarstreamError } from './errors.js';
import { withOutputLock } from './outputs.js';
import { ranges, unlistedResultFile } from './results.js';
import { readShardRecords, ShardRecord, SHARDS } from './shard.js';
import { rollForward } from './update.js';

export interface MergeResult {
  out: string;
  kind: ShardRecord['kind'];
  /** The manifest written. */
  manifest: Record<string, unknown>;
  shards: number;
  files: number;
  elapsedMs: number;
}

const fail = (message: string) => new BarstreamError('BARSTREAM_BAD_INPUT', message);

/** The first path where `a` and `b` differ (`strategy.params.length`), with both values. */
function difference(a: unknown, b: unknown, path = ''): string | undefined {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = difference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
    return undefined;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? undefined : `${path || 'value'} (${JSON.stringify(a)} vs ${JSON.stringify(b)})`;
}

/** Files up to this size are read whole (faster for the many small files of a bucket layout). */
const READ_WHOLE = 64 << 20;

/**
 * The sha256 of a file of `bytes` bytes: read whole when small, streamed otherwise. (WebCrypto's
 * digest, which runs on the thread pool, measured slower on the 2-core development machine.)
 */
async function sha256(path: string, bytes: number): Promise<string> {
  if (bytes <= READ_WHOLE) return createHash('sha256').update(await readFile(path)).digest('hex');
  return new Promise((done, failed) => {
    const h = createHash('sha256');
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on('data', (c) => h.update(c))
      .on('error', failed)
      .on('end', () => done(h.digest('hex')));
  });
}

/** Runs `work` over `items`, at most `width` at a time. */
async function pool<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  }));
}

/** Every check of the module comment, in order; returns the records by index. */
async function check(out: string): Promise<ShardRecord[]> {
  const found = await readShardRecords(out);
  if (found.length === 0) throw fail(`cannot merge ${out}: it holds no shard records (${SHARDS}/shard-<i>-of-<N>.json); run the shards with --shard first`);
  const counts = [...new Set(found.map((f) => f.record.count))].sort((a, b) => a - b);
  if (counts.length > 1) {
    const by = counts.map((n) => `${n} (${found.filter((f) => f.record.count === n).map((f) => f.name).join(', ')})`);
    throw fail(`cannot merge ${out}: its shard records are of different shard counts: ${by.join(' and ')}; remove the records of the run you do not want`);
  }
  const n = counts[0];
  const records = found.map((f) => f.record).sort((a, b) => a.index - b.index);
  const missing = Array.from({ length: n }, (_, i) => i).filter((i) => !records.some((r) => r.index === i));
  if (missing.length > 0) {
    throw fail(`cannot merge ${out}: shard${missing.length > 1 ? 's' : ''} ${ranges(missing)} of ${n} ${missing.length > 1 ? 'are' : 'is'} missing (found ${records.length}: ${ranges(records.map((r) => r.index))}); run ${missing.length > 1 ? 'them' : 'it'} again`);
  }
  const first = records[0];
  for (const r of records.slice(1)) {
    const where = `shard ${r.index} and shard ${first.index}`;
    if (r.kind !== first.kind) throw fail(`cannot merge ${out}: ${where} are of different jobs (${r.kind} vs ${first.kind})`);
    const p = difference(r.parameters, first.parameters);
    if (p) throw fail(`cannot merge ${out}: ${where} were run with different parameters: ${p}`);
    const inputs = (rec: ShardRecord) => new Map(rec.inputs.map((f) => [f.path, f.sha256]));
    const [a, b] = [inputs(r), inputs(first)];
    for (const path of new Set([...a.keys(), ...b.keys()])) {
      if (a.get(path) !== b.get(path)) {
        const what = !a.has(path) || !b.has(path) ? `input file ${path} is read by only one of them` : `input file ${path} has other contents (sha256 ${a.get(path)!.slice(0, 12)}... vs ${b.get(path)!.slice(0, 12)}...)`;
        throw fail(`cannot merge ${out}: ${where} read different inputs: ${what}; run the shards again on the same input`);
      }
    }
    const d = difference(r.allBuckets, first.allBuckets);
    if (d) throw fail(`cannot merge ${out}: ${where} partitioned the input into different buckets`);
  }
  const owner = new Map<number, number>();
  for (const r of records) {
    for (const k of r.buckets) {
      const other = owner.get(k);
      if (other !== undefined) throw fail(`cannot merge ${out}: bucket ${k} is in both shard ${other} and shard ${r.index}; shard sets must be disjoint`);
      owner.set(k, r.index);
    }
  }
  const uncovered = first.allBuckets.filter((k) => !owner.has(k));
  if (uncovered.length > 0) throw fail(`cannot merge ${out}: bucket${uncovered.length > 1 ? 's' : ''} ${ranges(uncovered)} of the input ${uncovered.length > 1 ? 'are' : 'is'} in no shard`);
  const extra = [...owner.keys()].filter((k) => !first.allBuckets.includes(k));
  if (extra.length > 0) throw fail(`cannot merge ${out}: shards list bucket${extra.length > 1 ? 's' : ''} ${ranges(extra)}, which the input does not have`);
  await checkFiles(out, records);
  return records;
}

/** Every file a record lists is there with its size and sha256 (hashed, several at a time). */
async function checkFiles(out: string, records: ShardRecord[]): Promise<void> {
  const files = records.flatMap((r) => r.files.map((f) => ({ shard: r.index, f })));
  let bad: string | undefined;
  await pool(files, 16, async ({ shard, f }) => {
    if (bad) return;
    const path = join(out, f.path);
    const bytes = await stat(path).then(
      (st) => st.size,
      () => -1,
    );
    if (bytes < 0) {
      bad ??= `${f.path} (shard ${shard}) is missing`;
      return;
    }
    if (bytes !== f.bytes) {
      bad ??= `${f.path} (shard ${shard}) has ${bytes} bytes, its shard recorded ${f.bytes}`;
      return;
    }
    if ((await sha256(path, bytes)) !== f.sha256) bad ??= `${f.path} (shard ${shard}) does not match its sha256 (changed or corrupted after shard ${shard} wrote it)`;
  });
  if (bad) throw fail(`cannot merge ${out}: ${bad}; run shard ${/\(shard (\d+)\)/.exec(bad)![1]} again`);
  const listed = new Set(files.map(({ f }) => f.path));
  const unlisted = unlistedResultFile(out, listed);
  if (unlisted) throw fail(`cannot merge ${out}: ${unlisted} is listed by no shard (left by another run?); remove it or run its shard again`);
}

/** Sums the records' counts (each key of any record); `rejectedRows` is the dataset's, not summed. */
function sumCounts(records: ShardRecord[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const r of records) for (const [k, v] of Object.entries(r.counts)) sum[k] = (sum[k] ?? 0) + v;
  if ('rejectedRows' in sum) sum.rejectedRows = records[0].rejectedRows;
  if ('buckets' in sum) sum.buckets = records.reduce((n, r) => n + r.buckets.length, 0);
  return sum;
}

const FORMAT = { backtest: 'barstream-backtest/1', scan: 'barstream-scan/1', screen: 'barstream-screen/1' } as const;

/** The manifest of the single run's format for `kind`, from the checked records. */
function manifestOf(records: ShardRecord[], mergeMs: number): Record<string, unknown> {
  const first = records[0];
  const counts = sumCounts(records);
  const bucketOf = (path: string) => Number(/(?:bucket=|part-|scan-)(\d+)/.exec(path)?.[1] ?? 0);
  const files: FileEntry[] = records.flatMap((r) => r.files).sort((a, b) => bucketOf(a.path) - bucketOf(b.path) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const sorted = records.some((r) => r.sorted);
  const { sql, ...params } = first.parameters as { sql: string | null } & Record<string, unknown>;
  const source = first.kind === 'scan' ? { sql, sorted } : { dataset: first.dataset, sql, sorted };
  if (first.kind === 'backtest' && counts.bars === 0) throw fail(`cannot merge: the source returned no bars in any shard${sql ? ` (SQL: ${sql})` : ''}: nothing to backtest`);
  if (first.kind !== 'backtest' && counts.symbols === 0) throw fail(`cannot merge: the source returned no bars in any shard${sql ? ` (SQL: ${sql})` : ''}`);
  return {
    format: FORMAT[first.kind],
    barstream: first.barstream,
    duckdb: first.duckdb,
    ...params,
    source,
    counts,
    files,
    // The work of every shard (they may have run at once on N machines).
    elapsedMs: records.reduce((t, r) => t + r.elapsedMs, 0),
    createdAt: new Date().toISOString(),
    shards: {
      count: records.length,
      mergeMs,
      records: records.map((r) => ({
        index: r.index, buckets: r.buckets.length, files: r.files.length, elapsedMs: r.elapsedMs, host: r.host, pid: r.pid, scheduler: r.scheduler, startedAt: r.startedAt, finishedAt: r.finishedAt,
      })),
    },
  };
}

/**
 * Checks the shards of the sharded job in `out` and writes `out/_manifest.json`.
 * @throws BarstreamError `BARSTREAM_BAD_INPUT` naming the missing shard indices, the mismatching
 * field or the file at fault (and no manifest is written); `BARSTREAM_IO` when `out` is no folder.
 * @example
 * const r = await merge('results/run1'); // after `barstream backtest --shard i/3` for i = 0, 1, 2
 * console.log(r.manifest.counts);
 */
export async function merge(out: string): Promise<MergeResult> {
  const t0 = performance.now();
  if (typeof out !== 'string' || out === '') throw new BarstreamError('BARSTREAM_INVALID_PARAM', 'merge needs the output folder of a sharded job');
  const dir = resolve(out);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new BarstreamError('BARSTREAM_IO', `output ${out} is not a folder`);
  if (!readdirSync(dir).includes(SHARDS) && existsSync(join(dir, '_manifest.json'))) {
    throw fail(`${out} is the output of a single run (it has _manifest.json and no ${SHARDS}/): nothing to merge`);
  }
  return withOutputLock(dir, 'merge', async () => {
    await rollForward(dir);
    const records = await check(dir);
    const manifest = manifestOf(records, performance.now() - t0);
    const path = join(dir, '_manifest.json');
    const tmp = join(dir, `._manifest.json.tmp-${process.pid}`);
    await writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(tmp, path);
    return { out: dir, kind: records[0].kind, manifest, shards: records.length, files: (manifest.files as FileEntry[]).length, elapsedMs: performance.now() - t0 };
  });
}
