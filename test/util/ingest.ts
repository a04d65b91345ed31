/** Ingest helpers shared by the ingest tests. */
import { expect } from 'vitest';
import { BarstreamError, ingest, IngestOptions } from '../../engine/index.js';

/** Runs `ingest` expecting a BarstreamError; returns it. */
export async function ingestError(opts: IngestOptions): Promise<BarstreamError> {
  const e = await ingest(opts).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(BarstreamError);
  return e as BarstreamError;
}
