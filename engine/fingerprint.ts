/**
 * Input fingerprints: each input file's size and modification time, recorded by the first
 * run of a job so that `--resume` (and every later incremental path) can refuse inputs that
 * changed in between, naming the file. A rewrite of a file with other contents changes its
 * modification time even when its size happens to stay the same.
 */
import { statSync } from 'node:fs';

export interface InputFingerprint {
  path: string;
  bytes: number;
  /** Modification time, milliseconds since the epoch (with the file system's sub-ms part). */
  mtimeMs: number;
}

/**
 * The fingerprints of `files`, in the given order.
 * @example
 * const fp = fingerprint(engine.files);
 */
export function fingerprint(files: string[]): InputFingerprint[] {
  return files.map((path) => {
    const s = statSync(path);
    return { path, bytes: s.size, mtimeMs: s.mtimeMs };
  });
}

/**
 * What changed between the recorded fingerprints and the files as they are now, as a phrase
 * naming the first changed, missing or new file; `undefined` when nothing changed.
 * @example
 * const change = inputChange(job.inputs, fingerprint(engine.files));
 * if (change) throw new Error(`cannot resume: ${change}`);
 */
export function inputChange(recorded: InputFingerprint[], now: InputFingerprint[]): string | undefined {
  const current = new Map(now.map((f) => [f.path, f]));
  for (const r of recorded) {
    const c = current.get(r.path);
    if (!c) return `input file ${r.path} is gone`;
    if (c.bytes !== r.bytes) return `input file ${r.path} changed (${r.bytes} -> ${c.bytes} bytes)`;
    if (c.mtimeMs !== r.mtimeMs) {
      return `input file ${r.path} changed (modified ${new Date(r.mtimeMs).toISOString()} -> ${new Date(c.mtimeMs).toISOString()})`;
    }
  }
  const known = new Set(recorded.map((f) => f.path));
  const added = now.find((f) => !known.has(f.path));
  return added ? `input file ${added.path} is new` : undefined;
}
