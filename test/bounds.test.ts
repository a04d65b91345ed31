/**
 * Lengths are bounded (1 to 1,000,000; cutout 0 to 1,000,000) and checked before any
 * conversion, so nothing wraps (4294967297 is not 1) and nothing allocates by the length:
 * a long length over short series holds only the bars seen. Through `kernels.*`, the
 * built CLI and `engine.scan` in a child process whose RSS is measured.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generate } from '../engine/index.js';
import { BarstreamError } from '../engine/errors.js';
import { kernels } from '../engine/kernels.js';
import { packageRoot } from '../engine/native.js';
import { withTempDir } from './util/tmp.js';
import { thrown as error } from './util/errors.js';

const cli = join(packageRoot(), 'dist', 'engine', 'cli', 'main.js');
const x = Float64Array.from({ length: 300 }, (_, i) => 100 + 10 * Math.sin(i / 9));

const range = (kernel: string, name: string, got: string, lo = 1) => `${kernel}: ${name} must be an integer from ${lo} to 1000000, got ${got}`;

describe('lengths are bounded', () => {
  it('every kernel refuses a length above 1,000,000, naming it and the range, without wrapping', () => {
    for (const [kind, f] of [
      ['sma', (n: number) => kernels.sma(x, n)],
      ['ema', (n: number) => kernels.ema(x, n)],
      ['wma', (n: number) => kernels.wma(x, n)],
      ['hma', (n: number) => kernels.hma(x, n)],
      ['kama', (n: number) => kernels.kama(x, n)],
      ['rsi', (n: number) => kernels.rsi(x, n)],
      ['lsma', (n: number) => kernels.lsmaStream(n).push(x)],
    ] as const) {
      for (const [n, text] of [
        [4294967297, '4294967297'],
        [1e9, '1000000000'],
        [1_000_001, '1000001'],
        [2 ** 64, '18446744073709552000'],
      ] as const) {
        const e = error(() => f(n));
        expect(e.code).toBe('BARSTREAM_INVALID_PARAM');
        expect(e.message).toBe(range(kind, 'length', text));
      }
    }
    expect(error(() => kernels.bollinger(x, 4294967297, 2)).message).toBe(range('bollinger', 'length', '4294967297'));
    expect(error(() => kernels.atc(x, { length: 4294967297 })).message).toBe(range('atc', 'length', '4294967297'));
    expect(error(() => kernels.atc(x, { lengths: { HMA: 1e9 } })).message).toBe(range('atc', 'lengths.HMA', '1000000000'));
    expect(error(() => kernels.atc(x, { cutout: 4294967296 })).message).toBe(range('atc', 'cutout', '4294967296', 0));
    expect(error(() => kernels.equity(1, x, x, { lambda: 0.02, decay: 0.03, cutout: 1e12 })).message).toBe(range('equity', 'cutout', '1000000000000', 0));
    // After the robustness offsets too.
    expect(error(() => kernels.atc(x, { length: 1_000_000 })).message).toBe(
      'atc: lengths.EMA = 1000000 with robustness Medium gives length 1000006; every length must be an integer from 1 to 1000000',
    );
  });

  it('a length of 1,000,000 over 300 bars holds 300 values, not a million', () => {
    for (const make of [kernels.smaStream, kernels.wmaStream, kernels.hmaStream, kernels.kamaStream]) {
      const s = make(1_000_000);
      s.push(x);
      expect(s.state().byteLength).toBeLessThan(3 * 300 * 8 + 1024);
    }
    const a = kernels.atcStream({ length: 999_994 });
    const cols = a.push(x);
    expect(cols.Average_Signal).toEqual(kernels.atc(x, { length: 999_994 }).Average_Signal);
    expect(a.state().byteLength).toBeLessThan(1 << 20);
    expect(kernels.sma(x, 1_000_000).every(Number.isNaN)).toBe(true);
  });
});

describe.skipIf(!existsSync(cli))('bounded lengths through the CLI and the engine', () => {
  it('scan --length 1000000000 and trend --length 4294967297 exit 1 with one line naming the range', async () => {
    await withTempDir(async (tmp) => {
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 4, bars: 200, seed: 8, buckets: 2 });
      for (const args of [
        ['scan', '--data', data, '--length', '1000000000'],
        ['trend', '--data', data, '--length', '4294967297'],
        ['backtest', '--data', data, '--out', join(tmp, 'bt'), '--length', '4294967296'],
      ]) {
        const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
        expect(r.status, args.join(' ')).toBe(1);
        expect(r.signal).toBeNull();
        const lines = r.stderr.trim().split('\n');
        expect(lines, r.stderr).toHaveLength(1);
        expect(lines[0]).toMatch(/^barstream: .*length.*\b1000000\b.*\(BARSTREAM_INVALID_PARAM\)$/);
        expect(r.stdout).toBe('');
      }
    });
  });

  it('engine.scan with a length near 1,000,000 skips every symbol quickly, RSS growing little', async () => {
    await withTempDir(async (tmp) => {
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 24, bars: 300, seed: 9, buckets: 4 });
      const index = pathToFileURL(join(packageRoot(), 'dist', 'engine', 'index.js')).href;
      const script = `
        import { Engine } from ${JSON.stringify(index)};
        const e = await Engine.open({ dataset: ${JSON.stringify(data)}, threads: 2 });
        await e.scan({ minSignal: 0 });
        const before = process.memoryUsage().rss;
        const t0 = performance.now();
        const r = await e.scan({ strategy: { length: 999_994 } });
        const ms = performance.now() - t0;
        const after = process.memoryUsage().rss;
        console.log(JSON.stringify({ before, after, ms, processed: r.processed, skipped: r.skipped, failed: r.failed.length }));
      `;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.processed).toBe(0);
      expect(out.failed).toBe(0);
      expect(out.skipped).toHaveLength(24);
      expect(out.skipped[0].reason).toMatch(/300 bars, fewer than the longest MA length 1000000/);
      expect(out.after - out.before).toBeLessThan(200 * 2 ** 20);
      expect(out.ms).toBeLessThan(10_000);
    });
  });
});
