/**
 * A snapshot of everything under a folder (path, kind, size, mtime and, for small files, a
 * hash of the contents), and the difference between two snapshots, to prove that a command
 * wrote nothing outside the place it was allowed to write.
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export interface Entry {
  kind: 'file' | 'dir' | 'link' | 'other';
  size: number;
  mtimeMs: number;
  /** sha256 of the contents, for files up to 4 MiB. */
  hash?: string;
}

/** Relative path (with `/`) -> entry, for everything under `root` (not `root` itself). */
export type Snapshot = Map<string, Entry>;

export async function snapshot(root: string): Promise<Snapshot> {
  const out: Snapshot = new Map();
  const walk = async (dir: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return; // removed meanwhile, or unreadable: what is there is compared, not this folder
    }
    for (const name of names) {
      const abs = join(dir, name);
      let st;
      try {
        st = await lstat(abs);
      } catch {
        continue;
      }
      const rel = relative(root, abs).split(sep).join('/');
      const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : 'other';
      const e: Entry = { kind, size: kind === 'dir' ? 0 : st.size, mtimeMs: kind === 'dir' ? 0 : st.mtimeMs };
      if (kind === 'file' && st.size <= 4 * 1024 * 1024) {
        try {
          e.hash = createHash('sha256').update(await readFile(abs)).digest('hex');
        } catch {
          // unreadable (permissions): size and mtime still compare
        }
      }
      out.set(rel, e);
      if (kind === 'dir') await walk(abs);
    }
  };
  await walk(root);
  return out;
}

const under = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);

export interface SnapshotRules {
  /** Folders (relative, `/`-separated) where new entries may appear. */
  allowNew: string[];
  /** Folders whose existing entries may change or go (a barstream output being replaced). */
  allowChange: string[];
  /** Paths whose existing entries never change, even under `allowChange` (the run's inputs). */
  protect: string[];
}

/** Human-readable violations of `rules` between two snapshots (empty when none). */
export function diffSnapshots(before: Snapshot, after: Snapshot, rules: SnapshotRules): string[] {
  const problems: string[] = [];
  const isProtected = (p: string) => rules.protect.some((f) => under(p, f));
  for (const [path, b] of before) {
    const a = after.get(path);
    const mayChange = rules.allowChange.some((f) => under(path, f)) && !isProtected(path);
    if (mayChange) continue;
    if (!a) {
      problems.push(`deleted ${path}`);
    } else if (a.kind !== b.kind) {
      problems.push(`${path} changed from a ${b.kind} to a ${a.kind}`);
    } else if (a.kind !== 'dir' && (a.size !== b.size || a.mtimeMs !== b.mtimeMs || a.hash !== b.hash)) {
      problems.push(`changed ${path} (size ${b.size} -> ${a.size}${a.hash !== b.hash ? ', contents differ' : ''})`);
    }
  }
  for (const path of after.keys()) {
    if (before.has(path)) continue;
    const mayAdd = rules.allowNew.some((f) => under(path, f));
    if (!mayAdd) problems.push(`created ${path}`);
  }
  // One line per top-level cause: a new folder's children add nothing to the report.
  return problems.filter((p, i) => {
    const m = /^created (.+)$/.exec(p);
    return !m || !problems.slice(0, i).some((q) => {
      const n = /^created (.+)$/.exec(q);
      return n !== null && m[1].startsWith(`${n[1]}/`);
    });
  });
}
