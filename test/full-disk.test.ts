/**
 * A backtest whose output folder fills up (a 3 MB tmpfs, mounted for the test: needs root)
 * fails as a whole with one line naming the file and the operating system's reason, code
 * BARSTREAM_IO, and leaves no temporary file anywhere under the output, hidden ones
 * included, and no empty bucket folder.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate } from '../engine/index.js';
import { packageRoot } from '../engine/native.js';

const notRoot = process.getuid?.() !== 0 ? 'mounting a tmpfs needs root' : undefined;

/** Every file and folder under `dir`, hidden ones included, as paths relative to it. */
async function walk(dir: string, rel = ''): Promise<{ files: string[]; dirs: string[] }> {
  const files: string[] = [];
  const dirs: string[] = [];
  for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      dirs.push(p);
      const sub = await walk(dir, p);
      files.push(...sub.files);
      dirs.push(...sub.dirs);
    } else files.push(p);
  }
  return { files, dirs };
}

describe.skipIf(notRoot)(`backtest on a full disk${notRoot ? ` (skipped: ${notRoot})` : ''}`, () => {
  it('exits 1 with one BARSTREAM_IO line naming the file, and leaves no .tmp file or empty bucket folder', async (ctx) => {
    const tmp = await mkdtemp(join(tmpdir(), 'barstream-full-'));
    const mnt = join(tmp, 'mnt');
    await mkdir(mnt);
    try {
      const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mnt], { encoding: 'utf8' });
      if (mounted.status !== 0) {
        ctx.skip(`cannot mount a tmpfs: ${(mounted.stderr || String(mounted.error)).trim()}`);
        return;
      }
      try {
        // About 8 MB of signals: more than the tmpfs holds.
        const data = join(tmp, 'data');
        await generate({ out: data, symbols: 40, bars: 2500, seed: 3, buckets: 4 });
        const out = join(mnt, 'out');
        const cli = join(packageRoot(), 'dist', 'engine', 'cli', 'main.js');
        const r = spawnSync(process.execPath, [cli, 'backtest', '--data', data, '--out', out, '--threads', '2', '--json'], { encoding: 'utf8' });
        const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
        expect(r.status, r.stderr).toBe(1);
        expect(lines, r.stderr).toHaveLength(1);
        const escaped = out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        expect(lines[0]).toMatch(new RegExp(`^barstream: cannot write ${escaped}/\\S+: No space left on device \\(os error 28\\) \\(BARSTREAM_IO\\)$`));
        expect(lines[0], 'the message names the file, not its temporary name').not.toMatch(/\.tmp/);
        // the whole tmpfs: no temporary file, and (a fresh run that failed as a whole removes
        // what it wrote, so the same command can run again) no output and no lock either
        const { files, dirs } = await walk(mnt);
        expect(files.filter((f) => f.includes('.tmp')), 'temporary files left behind').toEqual([]);
        expect({ files, dirs }).toEqual({ files: [], dirs: [] });
      } finally {
        spawnSync('umount', [mnt]);
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }, 120_000);
});
