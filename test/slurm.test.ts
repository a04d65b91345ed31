/**
 * Shards run by a real scheduler: a single-node Slurm cluster brought up on this machine runs
 * `deploy/slurm/backtest-array.sbatch` as a 3-task job array and `deploy/slurm/merge.sbatch` as
 * a dependent job, and the merged output must equal a single-process run row for row. Then one
 * task fails (its shard's lock is held by a live process), merge refuses naming the shard, the
 * task is requeued and merge passes. Where Slurm cannot run, the test says so and is skipped.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, query } from '../engine/index.js';
import { packageRoot } from '../engine/native.js';
import { cliBuilt, cliPath, runCli } from './util/cli.js';
import { rowDiff } from './util/shards.js';
import { SlurmCluster, slurmMissing, startSlurm } from './util/slurm.js';

const why = slurmMissing() ?? (cliBuilt ? undefined : 'the CLI is not built (npm run build:ts)');
if (why) console.warn(`test/slurm.test.ts skipped: ${why}`);

const SBATCH = join(packageRoot(), 'deploy', 'slurm');
const PARAMS = ['--length', '14', '--fee-bps', '5'];

describe.skipIf(why !== undefined)(`shards on a real Slurm cluster${why ? ` (skipped: ${why})` : ''}`, () => {
  let slurm: SlurmCluster;
  let tmp: string;

  beforeAll(async () => {
    slurm = await startSlurm();
    tmp = await mkdtemp(join(tmpdir(), 'barstream-slurm-jobs-'));
    await generate({ out: join(tmp, 'ds'), symbols: 30, bars: 300, seed: 11, buckets: 6 });
    // The single-process run: the same command line without --shard.
    const single = runCli(tmp, 'backtest', '--data', join(tmp, 'ds'), '--out', join(tmp, 'single'), '--threads', '1', ...PARAMS);
    expect(single.status, single.stderr).toBe(0);
  });

  afterAll(async () => {
    await slurm?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const env = () => ({ BARSTREAM: `${process.execPath} ${cliPath}` });
  /** Submits the array of 3 shards; its job id. */
  const array = (out: string, indices = '0-2') => slurm.run('sbatch', ['--parsable', `--array=${indices}`, join(SBATCH, 'backtest-array.sbatch'), join(tmp, 'ds'), out, ...PARAMS], { cwd: tmp, env: env() }).trim();
  /** Runs the merge job (after `after` when given) and waits for it: its exit status and output. */
  const mergeJob = (out: string, after?: string) => {
    const id = slurm.run('sbatch', ['--parsable', ...(after ? [`--dependency=afterok:${after}`] : []), join(SBATCH, 'merge.sbatch'), out], { cwd: tmp, env: env() }).trim();
    return id;
  };
  const output = (pattern: RegExp) => readdirSync(tmp).filter((f) => pattern.test(f)).map((f) => readFileSync(join(tmp, f), 'utf8')).join('\n');

  it('a 3-task array of backtest --shard auto, then merge as a dependent job, equals a single-process run', async () => {
    const out = join(tmp, 'sharded');
    const jid = array(out);
    const mid = mergeJob(out, jid);
    await slurm.idle(60_000);
    expect([0, 1, 2].map((i) => slurm.state(`${jid}_${i}`))).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    expect(slurm.state(mid), output(new RegExp(`^barstream-merge-${mid}\\.out$`))).toBe('COMPLETED');
    const manifest = JSON.parse(readFileSync(join(out, '_manifest.json'), 'utf8'));
    const single = JSON.parse(readFileSync(join(tmp, 'single', '_manifest.json'), 'utf8'));
    expect(manifest.format).toBe(single.format);
    expect(manifest.counts).toEqual(single.counts);
    expect(manifest.strategy).toEqual(single.strategy);
    // Every record names the Slurm job and task that wrote it.
    expect(manifest.shards.records.map((r: { scheduler: { name: string; taskId: string } }) => r.scheduler.taskId)).toEqual([0, 1, 2].map((i) => `${jid}_${i}`));
    for (const view of ['signals', 'summary', 'trades', 'errors'] as const) {
      const d = await rowDiff(out, join(tmp, 'single'), view);
      expect(d, view).toMatchObject({ onlyA: 0, onlyB: 0 });
      expect(d.rowsA, view).toBe(d.rowsB);
    }
    expect((await rowDiff(out, join(tmp, 'single'), 'signals')).rowsA).toBe(9000);
    // The query views read the merged output as they read a single run's.
    const t = await query('SELECT count(*) AS n, count(DISTINCT symbol) AS s FROM summary', { results: out });
    expect([Number(t.getChild('n')!.get(0)), Number(t.getChild('s')!.get(0))]).toEqual([30, 30]);
  });

  it('a failed task makes merge refuse naming the shard; requeued, the task completes and merge passes', async () => {
    const out = join(tmp, 'retried');
    // A live process holds shard 1's lock: that task fails as a second writer would.
    await mkdir(join(out, '_shards'), { recursive: true });
    const lock = join(out, '_shards', '.shard-1-of-3.lock');
    await writeFile(lock, `${JSON.stringify({ pid: process.pid, host: hostname(), command: 'test', startedAt: new Date().toISOString() })}\n`);
    const jid = array(out);
    await slurm.idle(60_000);
    expect([0, 1, 2].map((i) => slurm.state(`${jid}_${i}`))).toEqual(['COMPLETED', 'FAILED', 'COMPLETED']);
    expect(output(new RegExp(`^barstream-backtest-${jid}_1\\.out$`))).toMatch(/is being written by barstream test/);
    const refused = mergeJob(out);
    await slurm.idle(60_000);
    expect(slurm.state(refused)).toBe('FAILED');
    expect(output(new RegExp(`^barstream-merge-${refused}\\.out$`))).toMatch(/shard 1 of 3 is missing \(found 2: 0, 2\)/);
    expect(existsSync(join(out, '_manifest.json'))).toBe(false);

    rmSync(lock);
    // Requeued, a task waits for a begin time (two minutes on): start it now.
    slurm.run('scontrol', ['requeue', `${jid}_1`]);
    slurm.run('scontrol', ['update', `JobId=${jid}_1`, 'StartTime=now']);
    await slurm.idle(60_000);
    expect(slurm.state(`${jid}_1`)).toBe('COMPLETED');
    const passed = mergeJob(out);
    await slurm.idle(60_000);
    expect(slurm.state(passed), output(new RegExp(`^barstream-merge-${passed}\\.out$`))).toBe('COMPLETED');
    for (const view of ['signals', 'summary', 'trades'] as const) expect(await rowDiff(out, join(tmp, 'single'), view), view).toMatchObject({ onlyA: 0, onlyB: 0 });
  });
});
