/**
 * Output folders: what a folder holds (recognised from barstream's own metadata, never
 * assumed), who is writing it (one advisory lock per output), and how a run's outputs and
 * inputs must not nest. Every command that writes goes through here.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, realpathSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { readDatasetMeta } from '../datasets/dataset-info.js';
import { onExit } from './cleanup.js';
import { BarstreamError } from './errors.js';

/** What barstream writes: a dataset (`metadata.json`) or a job's output (`_manifest.json`). */
export type OutputKind = 'dataset' | 'backtest' | 'scan' | 'screen';

/** What a folder is, as far as barstream can tell. */
export type FolderKind = 'missing' | 'empty' | OutputKind | 'foreign';

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8'));
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function format(path: string): string {
  const f = readJson(path)?.format;
  return typeof f === 'string' ? f : '';
}

/**
 * Recognises a folder by barstream's own files: a dataset by its `metadata.json`
 * (`readDatasetMeta`), a backtest by `_manifest.json` (`barstream-backtest/*`) or its
 * `_state/job.json`, a scan output by `_manifest.json` (`barstream-scan/*`), a screen output
 * by `_manifest.json` (`barstream-screen/*`) or, left by a killed run, a `matches/` folder
 * beside nothing but what a screen writes.
 *
 * @throws BarstreamError `BARSTREAM_IO` when `dir` exists and is not a folder.
 * @example
 * if (folderKind('results/run1') === 'backtest') console.log('a backtest output');
 */
export function folderKind(dir: string, label = 'output'): FolderKind {
  if (!existsSync(dir)) return 'missing';
  if (!statSync(dir).isDirectory()) throw new BarstreamError('BARSTREAM_IO', `${label} ${dir} is a file, not a folder`);
  if (readdirSync(dir).length === 0) return 'empty';
  if (readDatasetMeta(dir) !== undefined) return 'dataset';
  const manifest = format(join(dir, '_manifest.json'));
  if (manifest.startsWith('barstream-backtest/')) return 'backtest';
  if (manifest.startsWith('barstream-scan/')) return 'scan';
  if (manifest.startsWith('barstream-screen/')) return 'screen';
  const sharded = shardKind(dir);
  if (sharded !== undefined) return sharded;
  // `_state/` is made first and `job.json` written into it: a run killed in between leaves it empty
  if (readJson(join(dir, '_state', 'job.json')) !== undefined || (existsSync(join(dir, '_state')) && readdirSync(dir).every((f) => BACKTEST_FILES.includes(f)))) return 'backtest';
  const entries = readdirSync(dir);
  if (entries.includes('matches') && entries.every((f) => SCREEN_FILES.includes(f))) return 'screen';
  return 'foreign';
}

/** What a backtest writes in its folder (and `barstream report` beside it); `--overwrite` and a failed run remove only these. */
export const BACKTEST_FILES = ['signals', 'summary', 'trades', '_errors', '_state', '_shards', '_staging', '_manifest.json', 'report.html'];

/** What a screen writes in its folder (and `barstream report` beside it); `--overwrite` and a failed run remove only these. */
export const SCREEN_FILES = ['matches', '_errors', '_state', '_shards', '_staging', '_manifest.json', 'report.html'];

/** What a scan writes in its folder: `scan.parquet`, or one `scan-<i>-of-<N>.parquet` per shard. */
export const SCAN_FILES = ['scan.parquet', '_state', '_shards', '_staging', '_manifest.json'];
const SCAN_SHARD_FILE = /^scan-\d+-of-\d+\.parquet$/;

/** True when `name`, an entry of an output folder, is one a `kind` job writes. */
export function writtenBy(kind: 'backtest' | 'scan' | 'screen', name: string): boolean {
  if (kind === 'scan') return SCAN_FILES.includes(name) || SCAN_SHARD_FILE.test(name);
  return (kind === 'backtest' ? BACKTEST_FILES : SCREEN_FILES).includes(name);
}

/** The job kind the shard records under `dir/_shards` name (the first readable one), if any. */
export function shardKind(dir: string): 'backtest' | 'scan' | 'screen' | undefined {
  const shards = join(dir, '_shards');
  if (!existsSync(shards)) return undefined;
  for (const name of readdirSync(shards)) {
    if (!/^shard-\d+-of-\d+\.json$/.test(name)) continue;
    const kind = readJson(join(shards, name))?.kind;
    if (kind === 'backtest' || kind === 'scan' || kind === 'screen') return kind;
  }
  return undefined;
}

/**
 * Whether shard runs of a `kind` job may write in `dir`: a missing or empty folder, an output of
 * that kind, or a folder holding only what such a job writes (shards started, none recorded).
 * @throws BarstreamError `BARSTREAM_IO` naming the folder and what it holds.
 */
export function checkShardFolder(dir: string, kind: 'backtest' | 'scan' | 'screen'): void {
  const found = folderKind(dir);
  if (found === 'missing' || found === 'empty' || found === kind) return;
  if (found === 'foreign' && readdirSync(dir).every((f) => writtenBy(kind, f))) return;
  const what = found === 'foreign' ? 'files barstream did not write' : DESCRIBE[found];
  throw new BarstreamError('BARSTREAM_IO', `refusing to write shards of a ${kind} to ${dir}: it holds ${what}; choose a new or empty folder (or the folder of the other shards of this ${kind})`);
}

const DESCRIBE: Record<OutputKind, string> = {
  dataset: 'a barstream dataset (metadata.json)',
  backtest: 'a barstream backtest output (_manifest.json or _state/job.json)',
  scan: 'a barstream scan output (_manifest.json)',
  screen: 'a barstream screen output (_manifest.json)',
};

/**
 * Decides whether `dir` may be written as a `kind` output: a missing or empty folder always;
 * an existing output of the same kind only with `overwrite`; anything else never, not even
 * with `overwrite` (it is not barstream's to delete).
 *
 * @returns `'fresh'` for a missing or empty folder, `'replace'` for an output to replace.
 * @throws BarstreamError `BARSTREAM_IO` naming the folder and what it holds.
 */
export function checkReplace(dir: string, kind: OutputKind, overwrite: boolean, hint = 'pass --overwrite to replace it'): 'fresh' | 'replace' {
  const found = folderKind(dir);
  if (found === 'missing' || found === 'empty') return 'fresh';
  if (found !== kind) {
    const what = found === 'foreign' ? 'files barstream did not write' : DESCRIBE[found];
    throw new BarstreamError(
      'BARSTREAM_IO',
      `refusing to write to ${dir}: it holds ${what}, not ${DESCRIBE[kind]}; --overwrite replaces only such an output (choose a new or empty folder)`,
    );
  }
  if (!overwrite) throw new BarstreamError('BARSTREAM_IO', `output ${dir} already exists (${DESCRIBE[kind]}); ${hint}`);
  return 'replace';
}

/** The real path of `p`, or of its nearest existing ancestor joined with the rest. */
function realish(p: string): string {
  const abs = resolve(p);
  const rest: string[] = [];
  let dir = abs;
  while (!existsSync(dir)) {
    const up = dirname(dir);
    if (up === dir) break;
    rest.unshift(basename(dir));
    dir = up;
  }
  try {
    return join(realpathSync(dir), ...rest);
  } catch {
    return abs;
  }
}

/** True when `inner` is `outer` or lies under it. */
export function isWithin(inner: string, outer: string): boolean {
  const rel = relative(outer, inner);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel));
}

/** The folder a glob starts from (`data/2020/*.csv` -> `data/2020`), and whether it recurses. */
function globRoot(input: string): { root: string; recursive: boolean } {
  const parts = input.split(/[\\/]/);
  const first = parts.findIndex((s) => /[*?[{]/.test(s));
  if (first < 0) return { root: input, recursive: true };
  return { root: parts.slice(0, first).join('/') || '.', recursive: parts.slice(first).some((s) => s.includes('**')) || parts.length - first > 1 };
}

/**
 * Refuses an output inside any input, an input inside the output, and an output that is an
 * input: a run never writes where it reads. `inputs` are what the user gave (folders, files,
 * globs); `files` the files they resolved to, when known.
 *
 * @throws BarstreamError `BARSTREAM_INVALID_PARAM` naming the input and the output.
 */
export function checkNesting(out: string, inputs: string[], files: string[] = []): void {
  const o = realish(out);
  for (const input of inputs) {
    const { root, recursive } = globRoot(input);
    const r = realish(root);
    const isFolder = existsSync(r) && statSync(r).isDirectory();
    if (o === r || (isFolder && recursive && isWithin(o, r)) || isWithin(r, o)) {
      const how = o === r ? 'is' : isWithin(r, o) ? 'holds' : 'lies inside';
      throw new BarstreamError('BARSTREAM_INVALID_PARAM', `output ${out} ${how} input ${input}: a run never writes where it reads; choose an output outside the inputs`);
    }
  }
  for (const f of files) {
    if (isWithin(realish(f), o)) {
      throw new BarstreamError('BARSTREAM_INVALID_PARAM', `input file ${f} lies inside output ${out}: a run never writes where it reads`);
    }
  }
}

/** An advisory lock on an output folder, held for the length of a run. */
export interface OutputLock {
  /** The lock file: `.<name>.lock` next to the folder. */
  readonly path: string;
  /** Removes the lock file (harmless twice). */
  release(): void;
}

interface LockInfo {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock file of an output folder. */
export function lockPath(dir: string): string {
  const abs = resolve(dir);
  return join(dirname(abs), `.${basename(abs)}.lock`);
}

/**
 * Takes the output folder `dir` for this process: creates `.<name>.lock` next to it with the
 * pid, host, command and start time (exclusive create, so two runs cannot both succeed). A
 * lock left by a dead process on this host is taken over, with a note on stderr; a live one
 * (or one from another host) refuses the run. The lock is released by `release()`, and on
 * exit, SIGINT or SIGTERM.
 *
 * @throws BarstreamError `BARSTREAM_IO` naming the folder, the holder and the lock file.
 * @example
 * const lock = await lockOutput('results/run1', 'backtest');
 * try { ... } finally { lock.release(); }
 */
export async function lockOutput(dir: string, command: string): Promise<OutputLock> {
  const path = lockPath(dir);
  await mkdir(dirname(path), { recursive: true });
  const me: LockInfo = { pid: process.pid, host: hostname(), command, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const held = readJson(path) as Partial<LockInfo> | undefined;
      const ageMs = existsSync(path) ? Date.now() - statSync(path).mtimeMs : 0;
      const stale = held?.pid !== undefined ? held.host === me.host && held.pid !== process.pid && !alive(held.pid) : ageMs > 60_000;
      if (stale) {
        const who = held?.pid !== undefined ? `pid ${held.pid} (${held.command ?? 'barstream'}), which is no longer running` : 'an unreadable lock';
        process.stderr.write(`barstream: taking over the lock of ${resolve(dir)} left by ${who}\n`);
        try {
          unlinkSync(path);
        } catch {
          // another run removed it first; the next attempt decides
        }
        continue;
      }
      const who = held?.pid !== undefined ? `barstream ${held.command ?? 'run'} (pid ${held.pid} on ${held.host}, since ${held.startedAt})` : 'another barstream run';
      throw new BarstreamError('BARSTREAM_IO', `output ${resolve(dir)} is being written by ${who}; one writer at a time (if that run is gone, remove ${path})`);
    }
    try {
      writeSync(fd, `${JSON.stringify(me)}\n`);
    } finally {
      closeSync(fd);
    }
    let released = false;
    let forget = () => {};
    const release = () => {
      if (released) return;
      released = true;
      forget();
      try {
        const now = readJson(path) as Partial<LockInfo> | undefined;
        if (now?.pid === me.pid && now.startedAt === me.startedAt) unlinkSync(path);
      } catch {
        // already gone
      }
    };
    forget = onExit(release);
    return { path, release };
  }
  throw new BarstreamError('BARSTREAM_IO', `cannot take the lock ${path} of output ${resolve(dir)}`);
}

/**
 * Runs `body` holding the lock of `dir`, releasing it however `body` ends.
 * @example
 * await withOutputLock('data/mine', 'ingest', async () => { ... });
 */
export async function withOutputLock<T>(dir: string, command: string, body: () => Promise<T>): Promise<T> {
  const lock = await lockOutput(dir, command);
  try {
    return await body();
  } finally {
    lock.release();
  }
}
