/**
 * One error type for everything barstream throws. `code` is stable and machine-readable;
 * the message names the parameter, file or symbol at fault.
 */
export type ErrorCode =
  | 'BARSTREAM_INVALID_PARAM'
  | 'BARSTREAM_INVALID_FORMULA'
  | 'BARSTREAM_DUCKDB'
  | 'BARSTREAM_BAD_INPUT'
  | 'BARSTREAM_IO'
  | 'BARSTREAM_CANCELLED'
  | 'BARSTREAM_INTERNAL';

export class BarstreamError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BarstreamError';
    this.code = code;
  }
}

const NATIVE = /^\[(BARSTREAM_[A-Z_]+)\] ([\s\S]*)$/;

/**
 * Turns an error thrown by the addon (`[CODE] message`) into a `BarstreamError` with a
 * one-line message (see `oneLine`; DuckDB's "Failed to read file" becomes
 * `cannot read <file>: ...`); others pass through.
 */
export function fromNative(e: unknown): unknown {
  if (e instanceof Error && !(e instanceof BarstreamError)) {
    const m = NATIVE.exec(e.message);
    if (m) {
      const code = m[1] as ErrorCode;
      // A formula's compile error keeps its three lines (place, the line, a caret).
      let message = code === 'BARSTREAM_INVALID_FORMULA' ? m[2] : oneLine(m[2]);
      if (code === 'BARSTREAM_DUCKDB') {
        message = readFailure(message);
        if (/^Out of Memory Error/.test(message)) message += '; raise --memory-limit or lower --threads';
      }
      return new BarstreamError(code, message, { cause: e });
    }
  }
  return e;
}

/** Awaits a native call, rethrowing its error as a `BarstreamError`. */
export async function native<T>(p: Promise<T> | (() => T)): Promise<T> {
  try {
    return typeof p === 'function' ? p() : await p;
  } catch (e) {
    throw fromNative(e);
  }
}

export function invalidParam(message: string): BarstreamError {
  return new BarstreamError('BARSTREAM_INVALID_PARAM', message);
}

/**
 * A DuckDB message on one line: its first paragraph (the lines before the first blank line,
 * joined), without the `LINE n:` excerpt and caret that point into barstream's own SQL and
 * without DuckDB's "Possible solutions" list.
 * @example
 * oneLine('Binder Error: Referenced column "x" not found\n\nLINE 1: SELECT x\n               ^'); // 'Binder Error: Referenced column "x" not found'
 */
export function oneLine(text: string): string {
  const kept: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const l = raw.trim();
    if (/^LINE \d+:/.test(l) || /^Possible solutions:?$/i.test(l)) break;
    if (l === '') {
      if (kept.length > 0) break;
      continue;
    }
    kept.push(l);
  }
  return kept.length > 0 ? kept.join(' ') : text.replace(/\s+/g, ' ').trim();
}

/**
 * DuckDB's "Failed to read file" as `cannot read <file>: <reason>` (the path is not repeated
 * in the reason); any other message unchanged.
 */
export function readFailure(message: string): string {
  const m = /^(?:([A-Za-z ]+ Error): )?Failed to read file "([^"]+)": ?(.*)$/.exec(message);
  if (!m) return message;
  const [, kind, path, reason] = m;
  return `cannot read ${path}: ${withoutPath(reason, path) || 'unreadable'}${kind ? ` (${kind})` : ''}`;
}

/** `reason` with quoted copies of `path` (as DuckDB quotes it) removed. */
export function withoutPath(reason: string, path: string): string {
  return reason
    .replaceAll(` '${path}'`, '')
    .replaceAll(` "${path}"`, '')
    .trim();
}
