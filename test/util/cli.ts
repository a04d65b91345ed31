/** Runs the built CLI (`dist/engine/cli/main.js`) as a process: to completion, or started and watched. */
import { spawn, spawnSync, SpawnSyncReturns } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../engine/native.js';

export const cliPath = join(packageRoot(), 'dist', 'engine', 'cli', 'main.js');

/** True when the CLI is built (tests that spawn it are skipped otherwise). */
export const cliBuilt = existsSync(cliPath);

export interface CliRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `barstream <args>` in `cwd` and waits for it. */
export function runCli(cwd: string, ...args: string[]): CliRun {
  const r = spawnSync(process.execPath, [cliPath, ...args], { cwd, encoding: 'utf8' });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `barstream <args>` to completion (`env`: the whole environment, default this process's). */
export function cli(args: string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', cwd: opts.cwd, input: opts.input, env: opts.env, maxBuffer: 64 * 1024 * 1024 });
}

/** Starts `barstream <args>`; resolves with the exit code and stderr when it ends. */
export function start(args: string[]): { pid: number; kill: (sig: NodeJS.Signals) => void; done: Promise<{ code: number | null; signal: string | null; stderr: string; stdout: string }> } {
  const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => (stdout += d));
  const done = new Promise<{ code: number | null; signal: string | null; stderr: string; stdout: string }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, stderr, stdout })),
  );
  return { pid: child.pid ?? -1, kill: (sig) => child.kill(sig), done };
}

/** Starts `barstream <args>` with `env` added; `stderr()` is what it wrote there so far (for kills at test pause points). */
export function startCli(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.resume();
  const done = new Promise<{ signal: string | null }>((resolve) => child.once('exit', (_code, signal) => resolve({ signal })));
  return { kill: () => child.kill('SIGKILL'), stderr: () => stderr, done };
}

/** The one-line failure every command prints: `barstream: <what> (<CODE>)`. */
export const FAILURE = /^barstream: [^\n]+ \((BARSTREAM_[A-Z_]+)\)\n$/;

/** Asserts-friendly view of a failed run: its code from the one line, or undefined. */
export function failureCode(stderr: string): string | undefined {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '' && !/^barstream: (taking over|note:)/.test(l));
  const m = /^barstream: .+ \((BARSTREAM_[A-Z_]+)\)$/.exec(lines[lines.length - 1] ?? '');
  return lines.length === 1 && m ? m[1] : undefined;
}
