/**
 * What a run may write, replace and lock (issue 8, items 2, 4, 5, 17): real datasets on disk,
 * the built cliPath in real processes.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate } from '../engine/index.js';
import { checkReplace, folderKind, lockPath } from '../engine/outputs.js';
import { query, lit } from './util/duck.js';
import { cli, failureCode, cliBuilt, start } from './util/cli.js';
import { withTempDir } from './util/tmp.js';

const CSV = 'symbol,ts,open,high,low,close,volume\nAAA,2020-01-02,10,11,9,10.5,100\nAAA,2020-01-03,10.5,11,10,10.8,120\n';

/** Every file under `dir` with its contents, to prove nothing changed. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (f.isFile()) out[join(f.parentPath, f.name)] = (await readFile(join(f.parentPath, f.name))).toString('base64');
  }
  return out;
}

describe.skipIf(!cliBuilt)('--overwrite replaces only what barstream wrote (item 2)', () => {
  it('ingest and generate refuse a folder they did not write, even with --overwrite', async () => {
    await withTempDir(async (tmp) => {
      const victim = join(tmp, 'victim');
      await mkdir(victim);
      await writeFile(join(victim, 'notes.txt'), 'x');
      await writeFile(join(tmp, 'in.csv'), CSV);
      for (const args of [
        ['ingest', '--in', join(tmp, 'in.csv'), '--out', victim, '--overwrite'],
        ['generate', '--out', victim, '--symbols', '2', '--bars', '50', '--overwrite'],
        ['backtest', '--data', join(tmp, 'nope'), '--out', victim, '--overwrite'],
      ]) {
        const r = cli(args);
        expect(r.status, r.stderr).toBe(1);
        expect(failureCode(r.stderr), r.stderr).toMatch(/BARSTREAM_(IO|INVALID_PARAM)/);
      }
      expect(await readFile(join(victim, 'notes.txt'), 'utf8')).toBe('x');
      expect(await readdir(victim)).toEqual(['notes.txt']);
    });
  });

  it('ingest never replaces a folder holding its own input; a barstream dataset is replaced', async () => {
    await withTempDir(async (tmp) => {
      const dir = join(tmp, 'dir');
      await mkdir(dir);
      await writeFile(join(dir, 'a.csv'), CSV);
      const before = await snapshot(dir);
      const r = cli(['ingest', '--in', join(dir, '*.csv'), '--out', dir, '--overwrite']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/output .*dir (is|holds) input/);
      expect(await snapshot(dir)).toEqual(before);

      const ds = join(tmp, 'ds');
      expect(cli(['generate', '--out', ds, '--symbols', '2', '--bars', '50', '--seed', '1']).status).toBe(0);
      const again = cli(['generate', '--out', ds, '--symbols', '3', '--bars', '50', '--seed', '2']);
      expect(again.status).toBe(1);
      expect(again.stderr).toMatch(/already exists \(a barstream dataset.*--overwrite/);
      expect(cli(['generate', '--out', ds, '--symbols', '3', '--bars', '50', '--seed', '2', '--overwrite']).status).toBe(0);
      expect(JSON.parse(await readFile(join(ds, 'metadata.json'), 'utf8')).symbols).toBe(3);
      // a barstream dataset that holds an input of the run is not replaced either
      await writeFile(join(ds, 'extra.csv'), CSV);
      const own = await snapshot(ds);
      const self = cli(['ingest', '--in', join(ds, 'extra.csv'), '--out', ds, '--overwrite']);
      expect(self.status).toBe(1);
      expect(self.stderr).toMatch(/output .*ds holds input .*extra\.csv/);
      expect(await snapshot(ds)).toEqual(own);
      expect((await readdir(tmp)).filter((f) => f.startsWith('.'))).toEqual([]);
    });
  });
});

describe.skipIf(!cliBuilt)('outputs and inputs never nest (item 17), inputs are disjoint (item 5)', () => {
  it('refuses an output inside an input, an input inside the output, and the same symbols twice', async () => {
    await withTempDir(async (tmp) => {
      const d = join(tmp, 'd');
      await generate({ out: d, symbols: 4, bars: 120, seed: 3 });
      const before = await snapshot(d);
      const cases = [
        ['backtest', '--data', d, '--out', join(d, 'inside')],
        ['scan', '--data', d, '--out', d],
        ['backtest', '--data', join(tmp, 'res', 'ds'), '--out', join(tmp, 'res')],
        ['backtest', '--data', d, '--data', d, '--out', join(tmp, 'twice')],
      ];
      await generate({ out: join(tmp, 'res', 'ds'), symbols: 2, bars: 60, seed: 4 });
      for (const args of cases) {
        const r = cli(args);
        expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(1);
        expect(failureCode(r.stderr), r.stderr).toBe('BARSTREAM_INVALID_PARAM');
      }
      expect(await snapshot(d)).toEqual(before);
      expect(existsSync(join(tmp, 'twice'))).toBe(false);
      // two datasets generated alike hold the same symbol names: refused by every job
      const e = join(tmp, 'e');
      await generate({ out: e, symbols: 4, bars: 120, seed: 9 });
      for (const cmd of [['backtest', '--out', join(tmp, 'bt')], ['scan'], ['trend']]) {
        const r = cli([...cmd, '--data', d, '--data', e]);
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/symbol 'AAA[A-Z]' appears in more than one input/);
      }
      expect(existsSync(join(tmp, 'bt'))).toBe(false);
    });
  });
});

describe.skipIf(!cliBuilt)('one writer per output (item 4)', () => {
  it('a second writer is refused while the first runs; the first finishes whole; stale locks are taken over', async () => {
    await withTempDir(async (tmp) => {
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 120, bars: 5000, seed: 5, buckets: 12 });
      const out = join(tmp, 'bt');
      const a = start(['backtest', '--data', data, '--out', out, '--threads', '1', '--json']);
      while (!existsSync(join(out, '_state', 'job.json'))) await new Promise((r) => setTimeout(r, 10));
      // held mid-run (as a slow disk or a busy machine would), so B surely meets A at work
      a.kill('SIGSTOP');
      for (const flag of ['--overwrite', '--resume']) {
        const b = cli(['backtest', '--data', data, '--out', out, flag]);
        expect(b.status).toBe(1);
        expect(b.stderr).toMatch(new RegExp(`^barstream: output ${out} is being written by barstream backtest \\(pid ${a.pid} `));
      }
      a.kill('SIGCONT');
      const ra = await a.done;
      expect(ra.code, ra.stderr).toBe(0);
      const manifest = JSON.parse(await readFile(join(out, '_manifest.json'), 'utf8'));
      expect(manifest.counts.signalRows).toBe(120 * 5000);
      const [{ n }] = await query(`SELECT count(*) AS n FROM read_parquet(${lit(join(out, 'signals', '*', '*.parquet'))})`);
      expect(n).toBe(120 * 5000);
      expect(existsSync(lockPath(out))).toBe(false);

      // a lock left by a process that is gone (kill -9) is taken over, with a note
      const dead = start(['backtest', '--data', data, '--out', join(tmp, 'bt2'), '--threads', '1']);
      while (!existsSync(lockPath(join(tmp, 'bt2')))) await new Promise((r) => setTimeout(r, 10));
      dead.kill('SIGKILL');
      await dead.done;
      expect(existsSync(lockPath(join(tmp, 'bt2')))).toBe(true);
      const r = cli(['backtest', '--data', data, '--out', join(tmp, 'bt2'), '--overwrite', '--json']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`taking over the lock of .*bt2 left by pid ${dead.pid}`));
      expect(existsSync(lockPath(join(tmp, 'bt2')))).toBe(false);
    });
  });
});

describe('screen outputs are recognised (issue 9 item 3)', () => {
  it('by their manifest, or as matches/ beside nothing but what a screen writes; a backtest is not replaced by a screen', async () => {
    await withTempDir(async (tmp) => {
      const done = join(tmp, 'done');
      await mkdir(join(done, 'matches', 'bucket=0'), { recursive: true });
      await writeFile(join(done, '_manifest.json'), JSON.stringify({ format: 'barstream-screen/1' }));
      expect(folderKind(done)).toBe('screen');
      const killed = join(tmp, 'killed');
      await mkdir(join(killed, 'matches', 'bucket=0'), { recursive: true });
      await mkdir(join(killed, '_errors'));
      expect(folderKind(killed)).toBe('screen');
      expect(checkReplace(killed, 'screen', true)).toBe('replace');
      await writeFile(join(killed, 'notes.txt'), 'mine');
      expect(folderKind(killed)).toBe('foreign');
      const bt = join(tmp, 'bt');
      await mkdir(join(bt, '_state'), { recursive: true });
      await mkdir(join(bt, 'trades'));
      expect(folderKind(bt)).toBe('backtest');
      expect(() => checkReplace(bt, 'screen', true)).toThrow(/holds a barstream backtest output .*not a barstream screen output/);
      expect(() => checkReplace(done, 'backtest', true)).toThrow(/holds a barstream screen output/);
    });
  });
});
