/**
 * `--shard i/N` and `--shard auto`: parsing, the variables of every scheduler, the refusals
 * (each one line naming what it looked at), and which buckets a shard takes.
 */
import { describe, expect, it } from 'vitest';
import { ofShard, parseShard, resolveShard, schedulerIds, shardFromEnv } from '../engine/shard.js';
import { cli, cliBuilt, failureCode } from './util/cli.js';

describe('--shard i/N', () => {
  it('reads 0-based i/N', () => {
    expect(parseShard('0/1').shard).toEqual({ index: 0, count: 1 });
    expect(parseShard(' 2/3 ').shard).toEqual({ index: 2, count: 3 });
    expect(parseShard('0/3', {}).scheduler).toBeUndefined();
  });

  it('refuses an index out of range naming both numbers', () => {
    expect(() => parseShard('3/3')).toThrow(/--shard 3\/3: shard index 3 is out of range for 3 shards: shards are numbered 0 to 2/);
    expect(() => parseShard('7/3')).toThrow(/shard index 7 is out of range for 3 shards/);
    expect(() => parseShard('0/0')).toThrow(/--shard 0\/0: the shard count must be an integer from 1 to 1000000, got 0/);
  });

  it('refuses what is not i/N or auto', () => {
    for (const bad of ['', '1', '1/', '/3', '-1/3', '1.5/3', 'a/b', '1/3/4', 'AUTO']) {
      expect(() => parseShard(bad), bad).toThrow(/--shard must be i\/N \(0-based, e\.g\. 0\/4\) or auto/);
    }
  });

  it('the API checks { index, count } the same way', () => {
    expect(resolveShard({ index: 1, count: 2 }, {}).shard).toEqual({ index: 1, count: 2 });
    expect(() => resolveShard({ index: 2, count: 2 }, {})).toThrow(/shard index 2 is out of range for 2 shards/);
    expect(() => resolveShard({ index: 0.5, count: 2 }, {})).toThrow(/shard index 0\.5 is out of range/);
    expect(() => resolveShard({ index: 0, count: Number.NaN }, {})).toThrow(/the shard count must be/);
  });

  it('takes the buckets with bucket % N == i, disjoint and covering every bucket', () => {
    const parts = [0, 1, 2, 3, 4, 5, 6, 9].map((bucket) => ({ bucket }));
    const taken = [0, 1, 2].map((index) => ofShard(parts, { index, count: 3 }).map((p) => p.bucket));
    expect(taken).toEqual([[0, 3, 6, 9], [1, 4], [2, 5]]);
    expect(taken.flat().sort((a, b) => a - b)).toEqual(parts.map((p) => p.bucket));
    expect(ofShard(parts, undefined)).toBe(parts);
    expect(ofShard(parts, { index: 10, count: 11 })).toEqual([]);
  });
});

describe('--shard auto', () => {
  const cases: [string, Record<string, string>, { index: number; count: number }, { name: string; jobId: string | null; taskId: string | null }][] = [
    [
      'Slurm job arrays',
      { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_STEP: '1', SLURM_ARRAY_JOB_ID: '812', SLURM_JOB_ID: '815' },
      { index: 2, count: 4 },
      { name: 'slurm', jobId: '812', taskId: '812_2' },
    ],
    ['Kubernetes Indexed Jobs', { JOB_COMPLETION_INDEX: '5', BARSTREAM_SHARD_COUNT: '8', HOSTNAME: 'bt-5-x7k2p' }, { index: 5, count: 8 }, { name: 'kubernetes', jobId: null, taskId: 'bt-5-x7k2p' }],
    ['AWS Batch array jobs', { AWS_BATCH_JOB_ARRAY_INDEX: '0', AWS_BATCH_JOB_ARRAY_SIZE: '10', AWS_BATCH_JOB_ID: 'abc-123:0' }, { index: 0, count: 10 }, { name: 'aws-batch', jobId: 'abc-123:0', taskId: 'abc-123:0:0' }],
    ['Google Cloud Batch', { BATCH_TASK_INDEX: '3', BATCH_TASK_COUNT: '6', BATCH_JOB_UID: 'j-9f' }, { index: 3, count: 6 }, { name: 'gcp-batch', jobId: 'j-9f', taskId: '3' }],
    ['Cloud Run jobs', { CLOUD_RUN_TASK_INDEX: '1', CLOUD_RUN_TASK_COUNT: '2', CLOUD_RUN_EXECUTION: 'bt-exec-1' }, { index: 1, count: 2 }, { name: 'cloud-run', jobId: 'bt-exec-1', taskId: '1' }],
    ['anything else (BARSTREAM_SHARD_*)', { BARSTREAM_SHARD_INDEX: '0', BARSTREAM_SHARD_COUNT: '1' }, { index: 0, count: 1 }, { name: 'barstream', jobId: null, taskId: null }],
  ];
  for (const [name, env, shard, scheduler] of cases) {
    it(`reads ${name}`, () => {
      expect(shardFromEnv(env)).toEqual({ shard, scheduler });
      expect(parseShard('auto', env)).toEqual({ shard, scheduler });
      // An explicit i/N under the same scheduler still records its ids.
      expect(resolveShard(shard, env).scheduler).toEqual(scheduler);
    });
  }

  it('a Slurm array without MIN/STEP variables (older Slurm) is read as 0-based', () => {
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '2' }).shard).toEqual({ index: 1, count: 2 });
  });

  it('refuses a Slurm array that does not start at 0 or steps by more than 1', () => {
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_STEP: '1' })).toThrow(
      /the Slurm array starts at 1 \(SLURM_ARRAY_TASK_MIN\); submit it as --array=0-<N-1>/,
    );
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_STEP: '2' })).toThrow(
      /the Slurm array steps by 2 \(SLURM_ARRAY_TASK_STEP\)/,
    );
  });

  it('with no scheduler variables, lists every variable it looked for', () => {
    let message = '';
    try {
      shardFromEnv({ PATH: '/usr/bin' });
    } catch (e) {
      message = (e as Error).message;
    }
    for (const v of ['SLURM_ARRAY_TASK_ID', 'SLURM_ARRAY_TASK_COUNT', 'JOB_COMPLETION_INDEX', 'AWS_BATCH_JOB_ARRAY_INDEX', 'AWS_BATCH_JOB_ARRAY_SIZE', 'BATCH_TASK_INDEX', 'BATCH_TASK_COUNT', 'CLOUD_RUN_TASK_INDEX', 'CLOUD_RUN_TASK_COUNT', 'BARSTREAM_SHARD_INDEX', 'BARSTREAM_SHARD_COUNT']) {
      expect(message).toContain(v);
    }
    expect(schedulerIds({})).toBeNull();
  });

  it("refuses two schedulers' variables at once, naming both", () => {
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '2', AWS_BATCH_JOB_ARRAY_INDEX: '1', AWS_BATCH_JOB_ARRAY_SIZE: '2' })).toThrow(
      /found the variables of two schedulers at once: SLURM_ARRAY_TASK_ID \(slurm\) and AWS_BATCH_JOB_ARRAY_INDEX \(aws-batch\)/,
    );
  });

  it('refuses an index without its count, and values that are not whole numbers or out of range', () => {
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '0' })).toThrow(/JOB_COMPLETION_INDEX is set but BARSTREAM_SHARD_COUNT is not \(Kubernetes does not expose the completions count/);
    expect(() => shardFromEnv({ BATCH_TASK_INDEX: 'x', BATCH_TASK_COUNT: '2' })).toThrow(/BATCH_TASK_INDEX must be a whole number, got 'x'/);
    expect(() => shardFromEnv({ CLOUD_RUN_TASK_INDEX: '2', CLOUD_RUN_TASK_COUNT: '2' })).toThrow(/--shard auto \(CLOUD_RUN_TASK_INDEX=2, CLOUD_RUN_TASK_COUNT=2\): shard index 2 is out of range for 2 shards/);
  });
});

describe.skipIf(!cliBuilt)('--shard on the command line', () => {
  const run = (args: string[], env: Record<string, string> = {}) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(SLURM_|JOB_COMPLETION_INDEX|AWS_BATCH_|BATCH_TASK_|CLOUD_RUN_|BARSTREAM_SHARD_)/.test(k)));
    return cli(args, { env: { ...clean, ...env } });
  };

  it('every refusal is one line with a code and exit 1, before any data is read', () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['backtest', '--data', 'nowhere', '--out', 'x', '--shard', '3/3'], {}, /--shard 3\/3: shard index 3 is out of range for 3 shards/],
      [['scan', '--data', 'nowhere', '--out', 'x', '--shard', 'auto'], {}, /--shard auto found no scheduler's shard variables; it looks for SLURM_ARRAY_TASK_ID/],
      [['screen', '--data', 'nowhere', '--formula', 'close > 1', '--out', 'x', '--shard', 'auto'], { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '2', BATCH_TASK_INDEX: '0', BATCH_TASK_COUNT: '2' }, /two schedulers at once: SLURM_ARRAY_TASK_ID \(slurm\) and BATCH_TASK_INDEX \(gcp-batch\)/],
      [['backtest', '--data', 'nowhere', '--out', 'x', '--shard', 'auto'], { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_STEP: '1' }, /the Slurm array starts at 1/],
    ];
    for (const [args, env, message] of cases) {
      const r = run(args, env);
      expect(r.status, r.stderr).toBe(1);
      expect(failureCode(r.stderr), r.stderr).toBe('BARSTREAM_INVALID_PARAM');
      expect(r.stderr).toMatch(message);
    }
  });
});
