import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate } from '../engine/index.js';
import { packageRoot } from '../engine/native.js';
import { withTempDir } from './util/tmp.js';

const cli = join(packageRoot(), 'dist', 'engine', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

describe.skipIf(!existsSync(cli))('barstream CLI (built dist)', () => {
  it('scan --json prints one object with the documented keys, strongest first', async () => {
    await withTempDir(async (tmp) => {
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 30, bars: 400, seed: 12, buckets: 2 });
      const r = run('scan', '--data', data, '--json', '--top', '3', '--min-signal', '0.2');
      expect(r.status).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines.length).toBe(1);
      const out = JSON.parse(lines[0]);
      expect(Object.keys(out).sort()).toEqual(['barsRead', 'elapsedMs', 'failed', 'long', 'processed', 'rejectedRows', 'short', 'skipped']);
      expect(out.processed).toBe(30);
      expect(out.barsRead).toBe(30 * 400);
      expect(out.long.length).toBeLessThanOrEqual(3);
      for (const side of [out.long, out.short]) {
        for (const e of side) expect(Object.keys(e).sort()).toEqual(['close', 'signal', 'symbol', 'ts']);
        const strength = side.map((e: { signal: number }) => Math.abs(e.signal));
        expect(strength).toEqual([...strength].sort((a, b) => b - a));
        expect(strength.every((x: number) => x >= 0.2)).toBe(true);
      }
      expect(r.stderr).toBe('');
    });
  });

  it('backtest --json, then query over its results; bad options name themselves', async () => {
    await withTempDir(async (tmp) => {
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 8, bars: 300, seed: 3 });
      const out = join(tmp, 'bt');
      const b = run('backtest', '--data', data, '--out', out, '--json', '--fee-bps', '2');
      expect(b.status).toBe(0);
      expect(JSON.parse(b.stdout)).toMatchObject({ symbols: 8, processed: 8, signalRows: 8 * 300 });
      const q = run('query', '--results', out, '--json', 'SELECT count(*) AS n FROM signals');
      expect(q.stdout).toBe('{"n":2400}\n'); // JSON Lines: one object per row
      const bad = run('scan', '--data', data, '--robustness', 'Huge');
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toMatch(/--robustness.*Huge|Huge.*Narrow, Medium, Wide/);
      const none = run('scan');
      expect(none.status).toBe(1);
      expect(none.stderr).toMatch(/--data is required/);
    });
  });
});
