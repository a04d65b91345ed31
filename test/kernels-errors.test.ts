import { describe, expect, it } from 'vitest';
import { kernels } from '../engine/kernels.js';
import { thrown } from './util/errors.js';

const x = Float64Array.from({ length: 50 }, (_, i) => 100 + Math.sin(i));


describe('parameter errors', () => {
  it('length below 1 or not an integer', () => {
    const e = thrown(() => kernels.ema(x, 0));
    expect(e.code).toBe('BARSTREAM_INVALID_PARAM');
    expect(e.message).toBe('ema: length must be an integer from 1 to 1000000, got 0');
    expect(thrown(() => kernels.rsi(x, 2.5)).message).toBe('rsi: length must be an integer from 1 to 1000000, got 2.5');
    expect(thrown(() => kernels.bollinger(x, -1, 2)).message).toBe('bollinger: length must be an integer from 1 to 1000000, got -1');
    expect(thrown(() => kernels.smaStream(0)).message).toBe('sma: length must be an integer from 1 to 1000000, got 0');
  });

  it('an ATC length that falls below 1 after the robustness offset', () => {
    const e = thrown(() => kernels.atc(x, { length: 6, robustness: 'Medium' }));
    expect(e.code).toBe('BARSTREAM_INVALID_PARAM');
    expect(e.message).toBe('atc: lengths.EMA = 6 with robustness Medium gives length 0; every length must be an integer from 1 to 1000000');
    expect(thrown(() => kernels.atc(x, { lengths: { KAMA: 4 }, robustness: 'Narrow' })).message).toBe(
      'atc: lengths.KAMA = 4 with robustness Narrow gives length 0; every length must be an integer from 1 to 1000000',
    );
  });

  it('negative cutout, unknown robustness, unknown type, hma kind', () => {
    expect(thrown(() => kernels.atc(x, { cutout: -1 })).message).toBe('atc: cutout must be an integer from 0 to 1000000, got -1');
    expect(thrown(() => kernels.equity(1, x, x, { lambda: 0.02, decay: 0.03, cutout: -2 })).message).toBe(
      'equity: cutout must be an integer from 0 to 1000000, got -2',
    );
    expect(thrown(() => kernels.atc(x, { robustness: 'Tight' as 'Wide' })).message).toBe(
      "atc: robustness must be 'Narrow', 'Medium' or 'Wide', got 'Tight'",
    );
    expect(thrown(() => kernels.atc(x, { lengths: { FOO: 3 } as never })).message).toBe(
      "atc: lengths has unknown type 'FOO'; types are EMA, HMA, WMA, DEMA, LSMA, KAMA",
    );
    expect(thrown(() => kernels.atcStream({ hma: 'ema' as 'sma' })).message).toBe("atc: hma must be 'hull' or 'sma', got 'ema'");
  });

  it('bad offsets for atcBatch', async () => {
    expect(thrown(() => kernels.atcBatch(x, Int32Array.from([0, 30, 20, 50]))).message).toBe(
      'atcBatch: offsets[2] = 20 is below offsets[1] = 30',
    );
    await expect(kernels.atcBatchAsync(x, Int32Array.from([0, 40]))).rejects.toThrow(
      'atcBatch: the last offset must be closes.length (50), got 40',
    );
  });

  it('state bytes from another kernel or other parameters', () => {
    const saved = kernels.emaStream(5).state();
    expect(thrown(() => kernels.emaStream(6, saved)).message).toBe('state: saved with length 5, resumed with 6');
    expect(thrown(() => kernels.smaStream(5, saved)).message).toBe(
      'state: saved by `ema`, not `sma`; pass bytes returned by state() of the same kernel and parameters',
    );
    const atc = kernels.atcStream().state();
    expect(thrown(() => kernels.atcStream({ cutout: 3 }, atc)).message).toBe(
      'state: saved with other atc parameters than the ones given now',
    );
  });
});

describe('input errors name the index', () => {
  it('non-finite prices', () => {
    const bad = x.slice();
    bad[17] = NaN;
    const e = thrown(() => kernels.sma(bad, 5));
    expect(e.code).toBe('BARSTREAM_BAD_INPUT');
    expect(e.message).toBe('x[17] is NaN: prices must be finite');
  });

  it('ROC and ATC require prices > 0; the stream index is global', () => {
    const bad = x.slice();
    bad[3] = 0;
    expect(thrown(() => kernels.roc(bad)).message).toBe('x[3] is 0: prices must be finite and > 0');
    const s = kernels.atcStream();
    s.push(x.subarray(0, 10));
    expect(thrown(() => s.push(Float64Array.from([1, -2]))).message).toBe('x[11] is -2: prices must be finite and > 0');
    const all = x.slice();
    all[40] = -1;
    expect(thrown(() => kernels.atcBatch(all, Int32Array.from([0, 25, 50]))).message).toBe(
      'symbol 1: x[15] is -1: prices must be finite and > 0',
    );
  });

  it('trend line and equity inputs may hold NaN but not infinity', () => {
    const line = new Float64Array(x.length).fill(NaN);
    expect(kernels.trendState(x, line).every((v) => v === 0)).toBe(true);
    line[5] = Infinity;
    expect(thrown(() => kernels.trendState(x, line)).message).toBe('line[5] is inf: values must be finite or NaN');
  });
});
