/**
 * Named points where a test can stop a run to kill it at a known step (a kill -9 between two
 * renames, say): with `BARSTREAM_TEST_PAUSE_AT=<point>` in its environment the process says
 * `barstream: test pause at <point>` on stderr and waits there until it is killed. Unset (as
 * always outside tests) a point costs one comparison.
 *
 * Points: `append-staged`, `append-moved` (`ingest --append`); `update-staged` (an update's
 * files all written under `_staging/g<g>/`, nothing decided), `update-decided`
 * (`_commit.json` written, nothing moved), `update-moved` (every file moved into place, the
 * manifest not yet replaced); see `engine/update.ts`.
 */
export async function pauseAt(point: string): Promise<void> {
  if (process.env.BARSTREAM_TEST_PAUSE_AT !== point) return;
  process.stderr.write(`barstream: test pause at ${point}\n`);
  await new Promise(() => undefined); // until killed
}
