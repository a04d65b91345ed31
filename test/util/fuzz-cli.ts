/** Running the built CLI (`dist/engine/cli/main.js`) as a real process, and judging what it printed. */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../engine/native.js';

/** The built CLI; tests that spawn it skip when it is missing (`npm run build:ts`). */
export const cliPath = join(packageRoot(), 'dist', 'engine', 'cli', 'main.js');
export const cliBuilt = (): boolean => existsSync(cliPath);

export interface CliRun {
  args: string[];
  cwd: string;
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the test killed it for running past its time limit. */
  timedOut: boolean;
  ms: number;
  /** Peak resident memory (VmHWM, KiB) as last read from /proc while it ran; undefined where /proc is not readable. */
  peakRssKb?: number;
}

/** The process's peak resident memory so far (KiB), from /proc/<pid>/status. */
function peakRss(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Spawns `node main.js ...args` in `cwd` with `env` added to the environment, stdin closed,
 * and kills it (SIGKILL) after `timeoutMs`. Its peak memory is sampled every 50 ms (the
 * kernel's high-water mark, so a short peak between samples still counts).
 */
export function runCli(args: string[], opts: { cwd: string; env?: Record<string, string>; timeoutMs: number }): Promise<CliRun> {
  const t0 = performance.now();
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let timedOut = false;
    let peakRssKb: number | undefined;
    const sample = setInterval(() => {
      const kb = peakRss(child.pid);
      if (kb !== undefined) peakRssKb = Math.max(peakRssKb ?? 0, kb);
    }, 50);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      clearInterval(sample);
      reject(e);
    });
    child.on('exit', () => clearInterval(sample));
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      clearInterval(sample);
      resolveRun({
        args,
        cwd: opts.cwd,
        status,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
        ms: performance.now() - t0,
        peakRssKb,
      });
    });
  });
}

/** The one-line error every failure must end with: `barstream: <what> (<CODE>)`. */
export const ERROR_LINE = /^barstream: .+ \((BARSTREAM_[A-Z_]+)\)$/;

/** The last non-empty line of a text, trimmed of the line end only. */
export function lastLine(text: string): string {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  return lines.length === 0 ? '' : lines[lines.length - 1];
}

/** What stderr must never hold, each with the name of the rule it breaks. */
const FORBIDDEN: [string, RegExp][] = [
  ['stack-trace', /^\s+at\s/],
  ['stack-trace', /^Node\.js v\d+/],
  ['stack-trace', /^node:internal/],
  ['error-prefix', /^[A-Za-z][A-Za-z ]*Error:/],
  ['duckdb-caret', /^LINE \d+:/],
  ['panic', /panicked at|memory allocation of|stack backtrace:|RUST_BACKTRACE/],
];

/** Rule names broken by stderr lines, each with the first line that breaks it. */
export function forbiddenLines(stderr: string): { rule: string; line: string }[] {
  const found = new Map<string, string>();
  for (const line of stderr.split(/\r?\n/)) {
    for (const [rule, re] of FORBIDDEN) if (!found.has(rule) && re.test(line)) found.set(rule, line);
  }
  return [...found].map(([rule, line]) => ({ rule, line }));
}

/** Runs `tasks` with at most `width` of them at once; resolves when all are done (errors propagate). */
export async function pool(width: number, tasks: (() => Promise<void>)[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, worker));
}

/** A command line a person can paste: each argument quoted for a POSIX shell when needed. */
export function shellLine(args: string[]): string {
  const q = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`);
  return ['barstream', ...args.map(q)].join(' ');
}
