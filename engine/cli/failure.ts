/**
 * Every way a command can fail becomes one line on stderr, `barstream: <what> (<CODE>)`, and
 * exit status 1: barstream's own errors, file-system errors from Node (with the path and the
 * reason in words), argument errors from the option parser, and anything unexpected. A stack
 * trace is printed only with `BARSTREAM_DEBUG=1`.
 */
import { CommanderError } from 'commander';
import { BarstreamError, ErrorCode, fromNative, oneLine } from '../errors.js';

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder, not a file',
  ENOENT: 'no such file or folder',
  EEXIST: 'it already exists',
  ENOTEMPTY: 'the folder is not empty (is another run writing it?)',
  EMFILE: 'too many open files',
  EBUSY: 'the file or folder is busy',
  EIO: 'input/output error',
};

const VERBS: Record<string, string> = {
  open: 'open',
  mkdir: 'create folder',
  rmdir: 'remove folder',
  rm: 'remove',
  unlink: 'remove',
  rename: 'rename',
  write: 'write',
  read: 'read',
  scandir: 'list folder',
  stat: 'read',
  lstat: 'read',
  copyfile: 'copy',
  mkdtemp: 'create folder',
};

/** The message and code a failure is reported with. */
export function describeFailure(e: unknown): { message: string; code: ErrorCode } {
  const err = fromNative(e);
  if (err instanceof BarstreamError) return { message: oneLine(err.message), code: err.code };
  if (err instanceof CommanderError) {
    // "error: option '--x <n>' argument 'abc' is invalid. --x must be ..." -> the parser's own
    // message when it names the option; the whole text otherwise (choices, missing values).
    const inner = /argument '.*' is invalid\. (--.*)$/s.exec(err.message);
    return { message: oneLine(inner ? inner[1] : err.message.replace(/^error: /, '')), code: 'BARSTREAM_INVALID_PARAM' };
  }
  const sys = err as NodeJS.ErrnoException;
  if (sys instanceof Error && typeof sys.code === 'string' && /^E[A-Z]+$/.test(sys.code)) {
    const reason = REASONS[sys.code] ?? sys.code;
    const verb = (sys.syscall && VERBS[sys.syscall]) ?? sys.syscall ?? 'access';
    const where = sys.path ? ` ${sys.path}${(sys as { dest?: string }).dest ? ` -> ${(sys as { dest?: string }).dest}` : ''}` : '';
    return { message: `cannot ${verb}${where}: ${reason}`, code: 'BARSTREAM_IO' };
  }
  if (err instanceof RangeError && /allocation failed|Invalid (typed )?array length|heap out of memory/i.test(err.message)) {
    return { message: `out of memory: ${oneLine(err.message)}`, code: 'BARSTREAM_INTERNAL' };
  }
  const msg = err instanceof Error ? err.message : String(err);
  return { message: `internal error: ${oneLine(msg)}`, code: 'BARSTREAM_INTERNAL' };
}

/**
 * Prints the failure as one line on stderr and sets exit status 1. A formula's compile
 * error is that line (`barstream: formula: line L, column C: ... (BARSTREAM_INVALID_FORMULA)`)
 * followed by the formula's line and a caret under the place.
 */
export function reportFailure(e: unknown): void {
  const err = fromNative(e);
  if (err instanceof BarstreamError && err.code === 'BARSTREAM_INVALID_FORMULA') {
    const [first, ...rest] = err.message.split('\n');
    process.stderr.write(`barstream: formula: ${oneLine(first)} (${err.code})\n${rest.map((l) => `${l}\n`).join('')}`);
    process.exitCode = 1;
    return;
  }
  const { message, code } = describeFailure(e);
  process.stderr.write(`barstream: ${message} (${code})\n`);
  if (process.env.BARSTREAM_DEBUG === '1' && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  process.exitCode = 1;
}

/** True for the parser's "help or version was shown" exits, which are not failures. */
export function isCleanExit(e: unknown): boolean {
  return e instanceof CommanderError && ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(e.code);
}
