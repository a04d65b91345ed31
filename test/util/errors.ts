/** Catching what a call throws, for tests of its message and code. */
import { expect } from 'vitest';
import { BarstreamError } from '../../engine/errors.js';

/** The `BarstreamError` that `f` throws (the test fails when it throws something else, or nothing). */
export function thrown(f: () => unknown): BarstreamError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(BarstreamError);
    return e as BarstreamError;
  }
  throw new Error('expected an error');
}
