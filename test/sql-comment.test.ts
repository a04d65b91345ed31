/**
 * A user's SQL ending in a comment, or in `;` and a comment, runs as the same SQL without
 * them: through scan and backtest (API), the built CLI, and query.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine, generate } from '../engine/index.js';
import { packageRoot } from '../engine/native.js';
import { embeddable, readsBars, scanSql } from '../engine/partitions.js';
import { query } from '../engine/query.js';
import { withTempDir } from './util/tmp.js';

const cli = join(packageRoot(), 'dist', 'engine', 'cli', 'main.js');

const PLAIN = `SELECT * FROM bars WHERE ts >= '2005-06-01'`;
/** The same SQL, with the endings that broke the wrapper. */
const ENDINGS = [`${PLAIN} -- recent`, `${PLAIN}; -- recent`, `${PLAIN};\n-- recent\n`, `${PLAIN} /* recent */ ;`, `-- recent bars\n${PLAIN}\n;`];

describe('embeddable / scanSql', () => {
  it('drop only a trailing semicolon outside strings and comments', () => {
    expect(embeddable('SELECT 1;')).toBe('SELECT 1');
    expect(embeddable('SELECT 1; -- c')).toBe('SELECT 1 -- c');
    expect(embeddable(`SELECT ';' AS s -- ;`)).toBe(`SELECT ';' AS s -- ;`);
    expect(embeddable(`SELECT '--' AS s;`)).toBe(`SELECT '--' AS s`);
    expect(embeddable('SELECT $$;$$ AS s /* ; */')).toBe('SELECT $$;$$ AS s /* ; */');
    expect(embeddable('SELECT 1;; /* a /* nested */ comment */')).toBe('SELECT 1 /* a /* nested */ comment */');
    expect(scanSql('-- only a comment\n  ').end).toBe(0);
  });

  it('see bars only outside comments and string literals', () => {
    expect(readsBars('SELECT * FROM bars')).toBe(true);
    expect(readsBars('SELECT * FROM "bars"')).toBe(true);
    expect(readsBars(`SELECT * FROM read_parquet('/x/bars.parquet') -- all bars`)).toBe(false);
  });
});

describe('a trailing comment in the SQL source', () => {
  it('scan and backtest give the same results as without it', async () => {
    await withTempDir(async (tmp) => {
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 6, bars: 300, seed: 5, buckets: 2 });
      const engine = await Engine.open({ dataset: data, threads: 2 });
      const want = await engine.scan({ sql: PLAIN, minSignal: 0 });
      expect(want.processed).toBe(6);
      for (const sql of ENDINGS) {
        const got = await engine.scan({ sql, minSignal: 0 });
        expect(got.symbols, sql).toEqual(want.symbols);
      }
      const base = await engine.backtest({ out: join(tmp, 'bt-plain'), sql: PLAIN });
      for (const [i, sql] of ENDINGS.entries()) {
        const r = await engine.backtest({ out: join(tmp, `bt-${i}`), sql });
        expect(r.manifest.counts, sql).toEqual(base.manifest.counts);
        expect(r.manifest.files.map((f) => f.sha256)).toEqual(base.manifest.files.map((f) => f.sha256));
      }
      // SQL that does not read bars (a comment naming bars does not make it) runs once.
      const file = engine.files[0];
      const once = await engine.scan({ sql: `SELECT * FROM read_parquet('${file}') -- bars of one file`, minSignal: 0 });
      const direct = await engine.scan({ sql: `SELECT * FROM read_parquet('${file}')`, minSignal: 0 });
      expect(once.symbols).toEqual(direct.symbols);
      engine.close();

      if (existsSync(cli)) {
        const r = spawnSync(process.execPath, [cli, 'scan', '--data', data, '--json', '--min-signal', '0', '--sql', `${PLAIN} -- recent`], { encoding: 'utf8' });
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        expect(JSON.parse(r.stdout).processed).toBe(6);
      }

      const manifest = JSON.parse(await readFile(join(tmp, 'bt-plain', '_manifest.json'), 'utf8'));
      for (const sql of ['SELECT count(*) AS n FROM signals -- all of them', 'SELECT count(*) AS n FROM signals; -- all of them']) {
        const t = await query(sql, { results: join(tmp, 'bt-plain') });
        expect(Number(t.getChild('n')!.get(0)), sql).toBe(manifest.counts.signalRows);
      }
    });
  });
});
