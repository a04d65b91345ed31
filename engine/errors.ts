/**
 * One error type for everything barstream throws. `code` is stable and machine-readable;
 * the message names the parameter, file or symbol at fault.
 */
export type ErrorCode =
  | 'BARSTREAM_INVALID_PARAM'
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

/** Turns an error thrown by the addon (`[CODE] message`) into a `BarstreamError`; others pass through. */
export function fromNative(e: unknown): unknown {
  if (e instanceof Error && !(e instanceof BarstreamError)) {
    const m = NATIVE.exec(e.message);
    if (m) return new BarstreamError(m[1] as ErrorCode, m[2], { cause: e });
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
