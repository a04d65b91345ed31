/**
 * Issue 8 through the built cliPath in real processes: resume refuses changed inputs (item 3),
 * every failure is one line with a code (items 10, 14), `--sql-file` and runs that fail as a
 * whole (item 16), sources with no bars (item 18), stopped runs leave nothing behind (item 15).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate } from '../engine/index.js';
import { LIMITS } from '../engine/limits.js';
import { lockPath } from '../engine/outputs.js';
import { cli, cliPath, failureCode, cliBuilt, start } from './util/cli.js';
import { withTempDir } from './util/tmp.js';

const isRoot = process.getuid?.() === 0;
const canDropPrivileges = isRoot && existsSync('/usr/bin/setpriv');

const waitFor = async (ok: () => boolean) => {
  while (!ok()) await new Promise((r) => setTimeout(r, 10));
};
const markers = async (out: string) => (existsSync(join(out, '_state')) ? (await readdir(join(out, '_state'))).filter((f) => f.startsWith('bucket-')) : []);

describe.skipIf(!cliBuilt)('--resume refuses inputs that changed (item 3)', () => {
  it('a killed backtest, its dataset regenerated at the same paths: resume names the changed file', async () => {
    await withTempDir(async (tmp) => {
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 40, bars: 3000, seed: 1, buckets: 8 });
      const out = join(tmp, 'bt');
      const run = start(['backtest', '--data', data, '--out', out, '--threads', '1']);
      let done: string[] = [];
      await waitFor(() => {
        void markers(out).then((m) => (done = m));
        return done.length > 0;
      });
      run.kill('SIGKILL');
      await run.done;
      expect((await markers(out)).length).toBeLessThan(8);

      expect(cli(['generate', '--out', data, '--symbols', '40', '--bars', '3000', '--seed', '2', '--buckets', '8', '--overwrite']).status).toBe(0);
      const r = cli(['backtest', '--data', data, '--out', out, '--resume']);
      expect(r.status).toBe(1);
      expect(failureCode(r.stderr)).toBe('BARSTREAM_INVALID_PARAM');
      expect(r.stderr).toMatch(new RegExp(`cannot resume: input file ${data}/bucket=\\d+/part-0\\.parquet changed`));
      expect(existsSync(join(out, '_manifest.json'))).toBe(false);
    });
  });

  it('the same bytes with a new modification time are a change too; unchanged inputs resume', async () => {
    await withTempDir(async (tmp) => {
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 12, bars: 2000, seed: 3, buckets: 6 });
      const out = join(tmp, 'bt');
      const run = start(['backtest', '--data', data, '--out', out, '--threads', '1']);
      await waitFor(() => existsSync(join(out, '_state', 'job.json')));
      run.kill('SIGKILL');
      await run.done;
      const file = join(data, 'bucket=3', 'part-0.parquet');
      await utimes(file, new Date(), new Date(Date.now() + 5000));
      const r = cli(['backtest', '--data', data, '--out', out, '--resume']);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`input file ${file} changed (modified `);
      expect(cli(['backtest', '--data', data, '--out', out, '--overwrite']).status).toBe(0);
    });
  });
});

describe.skipIf(!cliBuilt)('every failure is one line with a code (items 10, 14)', () => {
  it('each option is checked against its range, named in the message and in --help', async () => {
    await withTempDir(async (tmp) => {
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 3, bars: 80, seed: 1 });
      const cases: [string[], RegExp][] = [
        [['scan', '--length', '1e9'], /--length must be an integer from 1 to 1000000, got 1000000000/],
        [['scan', '--length', '4294967296'], /--length must be an integer from 1 to 1000000/],
        [['trend', '--length', '4294967297'], /--length must be an integer from 1 to 1000000/],
        [['scan', '--length', '1.5'], /--length must be an integer/],
        [['backtest', '--out', join(tmp, 'o'), '--fee-bps', 'abc'], /--fee-bps must be a number from 0 to 10000, got 'abc'/],
        [['backtest', '--out', join(tmp, 'o'), '--fee-bps', ''], /--fee-bps must be a number from 0 to 10000, got ''/],
        [['backtest', '--out', join(tmp, 'o'), '--fee-bps', '1e6'], /--fee-bps must be a number from 0 to 10000/],
        [['scan', '--decay', '-5'], /--decay must be a number from 0 to 100, got -5/],
        [['scan', '--decay', '1e308'], /--decay must be a number from 0 to 100/],
        [['scan', '--lambda', '1e308'], /--lambda must be a number from 0 to 1/],
        [['scan', '--lambda', 'abc'], /--lambda must be a number from 0 to 1, got 'abc'/],
        [['scan', '--min-signal', '2'], /--min-signal must be a number from 0 to 1, got 2/],
        [['scan', '--cutout', '-1'], /--cutout must be an integer from 0 to 1000000/],
        [['scan', '--threads', '0'], /--threads must be an integer from 1 to 1024/],
        [['scan', '--top', 'NaN'], /--top must be an integer from 1 to 1000000, got 'NaN'/],
        [['scan', '--memory-limit', 'lots'], /--memory-limit must be a size such as 512MB/],
        [['scan', '--robustness', 'Huge'], /--robustness.*Huge.*Narrow, Medium, Wide/],
        [['scan', '--frobnicate'], /unknown option '--frobnicate'/],
        [['backtest'], /required option '--out <dir>' not specified/],
      ];
      for (const [args, message] of cases) {
        const r = cli([...args, '--data', data]);
        expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(1);
        expect(failureCode(r.stderr), `${args.join(' ')}: ${r.stderr}`).toBe('BARSTREAM_INVALID_PARAM');
        expect(r.stderr).toMatch(message);
      }
      const help = cli(['scan', '--help']).stdout.replace(/\s+/g, ' ');
      for (const [opt, range] of [['--length', LIMITS.length], ['--lambda', LIMITS.lambda], ['--decay', LIMITS.decay], ['--min-signal', LIMITS.minSignal]] as const) {
        expect(help).toMatch(new RegExp(`${opt} <\\w+> .*?from ${range.min} to ${range.max}`));
      }
      expect(cli(['backtest', '--help']).stdout.replace(/\s+/g, ' ')).toMatch(/--fee-bps <x> .*?a number from 0 to 10000/);
    });
  });

  it('an output that is a file, and folders the user may not write: one line, no stack', async () => {
    await withTempDir(async (tmp) => {
      chmodSync(tmp, 0o755);
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 3, bars: 80, seed: 1 });
      await writeFile(join(tmp, 'afile'), 'x');
      for (const cmd of [['backtest'], ['scan']]) {
        const r = cli([...cmd, '--data', data, '--out', join(tmp, 'afile')]);
        expect(r.status).toBe(1);
        expect(r.stderr).toBe(`barstream: output ${join(tmp, 'afile')} is a file, not a folder (BARSTREAM_IO)\n`);
      }
      const under = cli(['backtest', '--data', data, '--out', join(tmp, 'afile', 'sub')]);
      expect(under.status).toBe(1);
      expect(failureCode(under.stderr), under.stderr).toBe('BARSTREAM_IO');
    });
  });

  it.skipIf(!canDropPrivileges)('as a user without write permission: backtest, scan, ingest, generate fail in one line', async () => {
    await withTempDir(async (tmp) => {
      chmodSync(tmp, 0o755);
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 3, bars: 80, seed: 1 });
      const ro = join(tmp, 'ro');
      await mkdir(ro, { mode: 0o755 });
      await writeFile(join(tmp, 'in.csv'), 'symbol,ts,open,high,low,close,volume\nA,2020-01-02,1,2,0.5,1.5,10\n');
      chmodSync(join(tmp, 'in.csv'), 0o644);
      const asNobody = (args: string[]) => {
        try {
          execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, cliPath, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: tmp });
          return { status: 0, stderr: '' };
        } catch (e) {
          const err = e as { status: number; stderr: string };
          return { status: err.status, stderr: err.stderr };
        }
      };
      for (const args of [
        ['backtest', '--data', data, '--out', join(ro, 'bt')],
        ['scan', '--data', data, '--out', join(ro, 'scan')],
        ['ingest', '--in', join(tmp, 'in.csv'), '--out', join(ro, 'ds')],
        ['generate', '--out', join(ro, 'gen'), '--symbols', '2', '--bars', '10'],
      ]) {
        const r = asNobody(args);
        expect(r.status, `${args[0]}: ${r.stderr}`).toBe(1);
        expect(failureCode(r.stderr), `${args[0]}: ${r.stderr}`).toBe('BARSTREAM_IO');
        expect(r.stderr).toMatch(/permission denied/);
      }
      expect(await readdir(ro)).toEqual([]);
    });
  });
});

describe.skipIf(!cliBuilt)('--sql-file, and runs that fail as a whole (item 16), sources with no bars (item 18)', () => {
  it('a 200 KB SQL from a file or stdin gives the same scan as the short SQL', async () => {
    await withTempDir(async (tmp) => {
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 6, bars: 200, seed: 4 });
      const names = Array.from({ length: 25_000 }, (_, i) => `'Z${i.toString().padStart(6, '0')}'`);
      const long = `SELECT * FROM bars WHERE symbol NOT IN (${names.join(', ')})\n-- trailing comment`;
      expect(long.length).toBeGreaterThan(200_000);
      await writeFile(join(tmp, 'long.sql'), long);
      const short = cli(['scan', '--data', data, '--json', '--sql', 'SELECT * FROM bars']);
      expect(short.status, short.stderr).toBe(0);
      const strip = (s: string) => ({ ...JSON.parse(s), elapsedMs: 0 });
      const fromFile = cli(['scan', '--data', data, '--json', '--sql-file', join(tmp, 'long.sql')]);
      expect(fromFile.status, fromFile.stderr).toBe(0);
      expect(strip(fromFile.stdout)).toEqual(strip(short.stdout));
      const fromStdin = cli(['scan', '--data', data, '--json', '--sql-file', '-'], { input: long });
      expect(fromStdin.status, fromStdin.stderr).toBe(0);
      expect(strip(fromStdin.stdout)).toEqual(strip(short.stdout));
      const both = cli(['scan', '--data', data, '--sql', 'SELECT * FROM bars', '--sql-file', join(tmp, 'long.sql')]);
      expect(both.stderr).toBe('barstream: give --sql or --sql-file, not both (BARSTREAM_INVALID_PARAM)\n');
      const missing = cli(['backtest', '--data', data, '--out', join(tmp, 'o'), '--sql-file', join(tmp, 'nope.sql')]);
      expect(missing.stderr).toBe(`barstream: --sql-file ${join(tmp, 'nope.sql')} does not exist (BARSTREAM_IO)\n`);
    });
  });

  it('a backtest whose SQL fails only while running leaves nothing that blocks the corrected rerun', async () => {
    await withTempDir(async (tmp) => {
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 6, bars: 300, seed: 5, buckets: 3 });
      const out = join(tmp, 'bt');
      // the cast fails on rows the LIMIT 0 check never sees
      const bad = `SELECT symbol, ts, CASE WHEN ts > TIMESTAMP '2005-06-01' THEN CAST('x' || symbol AS DOUBLE) ELSE close END AS close FROM bars`;
      const r = cli(['backtest', '--data', data, '--out', out, '--sql', bad]);
      expect(r.status).toBe(1);
      expect(failureCode(r.stderr), r.stderr).toBeDefined();
      expect(existsSync(out)).toBe(false);
      expect(existsSync(lockPath(out))).toBe(false);
      const good = cli(['backtest', '--data', data, '--out', out, '--sql', 'SELECT * FROM bars', '--json']);
      expect(good.status, good.stderr).toBe(0);
      expect(JSON.parse(good.stdout).symbols).toBe(6);
    });
  });

  it('a source that returns no bars says so, and writes nothing', async () => {
    await withTempDir(async (tmp) => {
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 3, bars: 80, seed: 1 });
      const none = 'SELECT * FROM bars WHERE ts < TIMESTAMP \'1900-01-01\'';
      for (const cmd of [['scan'], ['trend'], ['backtest', '--out', join(tmp, 'bt')]]) {
        const r = cli([...cmd, '--data', data, '--sql', none]);
        expect(r.status, r.stderr).toBe(1);
        expect(r.stderr).toMatch(/^barstream: the source returned no bars \(SQL: .*\): nothing to (scan|backtest) \(BARSTREAM_BAD_INPUT\)\n$/);
      }
      expect(existsSync(join(tmp, 'bt'))).toBe(false);
    });
  });
});

describe.skipIf(!cliBuilt)('results that SQL wrote over are not trusted (item 7)', () => {
  it('a query that writes over summary/ makes later queries refuse the folder, naming the file', async () => {
    await withTempDir(async (tmp) => {
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 5, bars: 200, seed: 2, buckets: 1 });
      const out = join(tmp, 'bt');
      expect(cli(['backtest', '--data', data, '--out', out]).status).toBe(0);
      const count = ['query', '--results', out, '--csv', 'SELECT count(*) AS n FROM summary'];
      expect(cli(count).stdout).toBe('n\n5\n');
      const target = join(out, 'summary', 'part-0.parquet');
      const w = cli(['query', '--results', out, `COPY (SELECT * FROM summary LIMIT 1) TO '${target}' (FORMAT parquet)`]);
      expect(w.status, w.stderr).toBe(0);
      const r = cli(count);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^barstream: results folder .* changed after it was written: summary\/part-0\.parquet has \d+ bytes, _manifest\.json recorded \d+; pass --allow-incomplete to read it anyway \(BARSTREAM_BAD_INPUT\)\n$/);
      const anyway = cli([...count, '--allow-incomplete']);
      expect(anyway.stdout).toBe('n\n1\n');
      expect(anyway.stderr).toMatch(/^barstream: warning: .*changed after it was written/);
    });
  });
});

describe.skipIf(!cliBuilt)('a stopped run leaves nothing behind (item 15)', () => {
  it('SIGTERM during generate and ingest removes the staging folder and the lock', async () => {
    await withTempDir(async (tmp) => {
      const gen = start(['generate', '--out', join(tmp, 'g'), '--symbols', '3000', '--bars', '3000', '--seed', '1']);
      await waitFor(() => existsSync(lockPath(join(tmp, 'g'))));
      await new Promise((r) => setTimeout(r, 300));
      gen.kill('SIGTERM');
      const g = await gen.done;
      expect(g.code).toBe(143);
      expect(await readdir(tmp)).toEqual([]);

      const rows = ['symbol,ts,open,high,low,close,volume'];
      for (let s = 0; s < 200; s++) for (let d = 0; d < 1500; d++) rows.push(`S${s},${new Date(Date.UTC(2000, 0, 1 + d)).toISOString().slice(0, 10)},1,2,0.5,1.5,10`);
      await writeFile(join(tmp, 'in.csv'), `${rows.join('\n')}\n`);
      const ing = start(['ingest', '--in', join(tmp, 'in.csv'), '--out', join(tmp, 'ds')]);
      await waitFor(() => existsSync(lockPath(join(tmp, 'ds'))));
      await new Promise((r) => setTimeout(r, 300));
      ing.kill('SIGTERM');
      const i = await ing.done;
      expect(i.code).toBe(143);
      expect(await readdir(tmp)).toEqual(['in.csv']);
    });
  });

  it('SIGTERM during a backtest releases the lock; --resume then completes it', async () => {
    await withTempDir(async (tmp) => {
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 40, bars: 3000, seed: 8, buckets: 8 });
      const out = join(tmp, 'bt');
      const run = start(['backtest', '--data', data, '--out', out, '--threads', '1']);
      await waitFor(() => existsSync(join(out, '_state', 'job.json')));
      run.kill('SIGTERM');
      expect((await run.done).code).toBe(143);
      expect(existsSync(lockPath(out))).toBe(false);
      const r = cli(['backtest', '--data', data, '--out', out, '--resume', '--json']);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ symbols: 40, signalRows: 40 * 3000 });
      expect(JSON.parse(await readFile(join(out, '_manifest.json'), 'utf8')).counts.signalRows).toBe(40 * 3000);
    });
  });
});
