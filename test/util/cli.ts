/** Runs the built CLI (`dist/engine/cli/main.js`) as a process. */
import { spawnSync } from 'node:child_process';
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
