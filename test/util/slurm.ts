/**
 * A single-node Slurm cluster on this machine for tests: munged run as the `munge` user with
 * its own key and socket, then `slurmctld -i` and `slurmd`, each started in the foreground
 * (`-D`) as a child of the test and stopped by its pid. Everything (config, state, spool, logs,
 * the munge key) lives in one temporary folder. Needs root (slurmd runs jobs as the submitter,
 * munged as `munge`); `slurmMissing()` says why it cannot run here.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

const BINARIES = ['slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol', 'munged', 'munge'];

function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Why a Slurm cluster cannot be brought up here, or undefined when it can. */
export function slurmMissing(): string | undefined {
  const missing = BINARIES.filter((b) => which(b) === undefined);
  if (missing.length > 0) return `Slurm/munge binaries not installed (${missing.join(', ')}); .ci/run installs slurmctld slurmd slurm-client munge`;
  if (process.getuid?.() !== 0) return 'not running as root (slurmd and munged need it)';
  if (spawnSync('id', ['munge']).status !== 0) return 'no munge user (the munge package creates it)';
  return undefined;
}

function freePort(base: number): number {
  // Two ports per cluster, picked from the pid so parallel test files do not collide.
  return base + (process.pid % 500) * 2;
}

export interface SlurmCluster {
  dir: string;
  /** The environment for sbatch, squeue, scontrol (SLURM_CONF). */
  env: NodeJS.ProcessEnv;
  /** Runs a Slurm client command; throws with its stderr when it fails. */
  run(cmd: string, args: string[], opts?: { cwd?: string; env?: NodeJS.ProcessEnv }): string;
  /** Waits until no job is queued or running (or `timeoutMs` passes). */
  idle(timeoutMs: number): Promise<void>;
  /** The state of a job (`COMPLETED`, `FAILED`, ...), from scontrol. */
  state(jobId: string): string;
  stop(): Promise<void>;
}

async function until(what: string, timeoutMs: number, ok: () => boolean, log: () => string): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what} within ${timeoutMs} ms; log:\n${log()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Brings up munged, slurmctld and slurmd; `stop()` stops them by pid and removes the folder. */
export async function startSlurm(): Promise<SlurmCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'barstream-slurm-'));
  chmodSync(dir, 0o755);
  const munge = { uid: Number(execFileSync('id', ['-u', 'munge'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'munge'], { encoding: 'utf8' })) };
  // munged refuses a key readable by others and a socket folder not searchable by all.
  const keyDir = join(dir, 'munge');
  const runDir = join(dir, 'munge-run');
  for (const [d, mode] of [[keyDir, 0o700], [runDir, 0o755]] as const) {
    mkdirSync(d);
    chownSync(d, munge.uid, munge.gid);
    chmodSync(d, mode);
  }
  const key = join(keyDir, 'munge.key');
  const keygen = which('mungekey') ? spawnSync(which('mungekey')!, ['--create', `--keyfile=${key}`]) : spawnSync(which('create-munge-key')!, ['-f']);
  if (keygen.status !== 0 || !existsSync(key)) throw new Error(`cannot create a munge key: ${keygen.stderr}`);
  chownSync(key, munge.uid, munge.gid);
  chmodSync(key, 0o600);
  const socket = join(runDir, 'munge.socket');
  const children: ChildProcess[] = [];
  const logs: string[] = [];
  const start = (cmd: string, args: string[], extra: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {}) => {
    const child = spawn(which(cmd)!, args, { stdio: ['ignore', 'pipe', 'pipe'], ...extra });
    child.stdout!.on('data', (d) => logs.push(`${cmd}: ${d}`));
    child.stderr!.on('data', (d) => logs.push(`${cmd}: ${d}`));
    children.push(child);
    return child;
  };
  const log = () => logs.join('').slice(-4000);
  start('munged', ['--foreground', `--socket=${socket}`, `--key-file=${key}`, `--log-file=${join(keyDir, 'munged.log')}`, `--pid-file=${join(keyDir, 'munged.pid')}`, `--seed-file=${join(keyDir, 'munged.seed')}`], munge);
  const stop = async () => {
    for (const c of children.reverse()) {
      if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
        const gone = new Promise((r) => c.once('exit', r));
        process.kill(c.pid, 'SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
        if (c.exitCode === null && c.signalCode === null) process.kill(c.pid, 'SIGKILL');
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until('munged did not start', 10_000, () => existsSync(socket), log);
    const host = execFileSync('hostname', ['-s'], { encoding: 'utf8' }).trim();
    const port = freePort(17000);
    for (const d of ['state', 'spool']) mkdirSync(join(dir, d));
    const conf = join(dir, 'slurm.conf');
    writeFileSync(
      conf,
      [
        'ClusterName=barstream-test',
        `SlurmctldHost=${host}`,
        'SlurmUser=root',
        'SlurmdUser=root',
        'AuthType=auth/munge',
        'CredType=cred/munge',
        `AuthInfo=socket=${socket}`,
        `SlurmctldPort=${port}`,
        `SlurmdPort=${port + 1}`,
        `StateSaveLocation=${join(dir, 'state')}`,
        `SlurmdSpoolDir=${join(dir, 'spool')}`,
        `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
        `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
        `SlurmctldLogFile=${join(dir, 'slurmctld.log')}`,
        `SlurmdLogFile=${join(dir, 'slurmd.log')}`,
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'JobAcctGatherType=jobacct_gather/none',
        'AccountingStorageType=accounting_storage/none',
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_CPU',
        'MpiDefault=none',
        'ReturnToService=2',
        'SchedulerType=sched/builtin',
        // Finished jobs stay visible to scontrol long enough for the test to read their state.
        'MinJobAge=600',
        `NodeName=${host} CPUs=${availableParallelism()} RealMemory=1000 State=UNKNOWN`,
        `PartitionName=test Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
        '',
      ].join('\n'),
    );
    const env = { ...process.env, SLURM_CONF: conf };
    start('slurmctld', ['-D', '-i'], { env });
    start('slurmd', ['-D'], { env });
    const run = (cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) => {
      const r = spawnSync(which(cmd)!, args, { encoding: 'utf8', env: { ...env, ...opts.env }, cwd: opts.cwd, timeout: 120_000 });
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
      return r.stdout;
    };
    const sinfo = () => spawnSync(which('sinfo') ?? 'sinfo', ['-h', '-o', '%t'], { encoding: 'utf8', env }).stdout?.trim();
    await until('the Slurm node did not become idle', 30_000, () => sinfo() === 'idle', () => `${log()}\n${existsSync(join(dir, 'slurmctld.log')) ? readFileSync(join(dir, 'slurmctld.log'), 'utf8').slice(-3000) : ''}`);
    return {
      dir,
      env,
      run,
      state: (jobId) => /JobState=(\w+)/.exec(run('scontrol', ['show', 'job', jobId]))?.[1] ?? 'UNKNOWN',
      idle: (timeoutMs) => until('Slurm jobs did not finish', timeoutMs, () => run('squeue', ['-h']).trim() === '', log),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
