import { describe, expect, it } from 'vitest';
import { kernels } from '../engine/kernels.js';
import { BarstreamError } from '../engine/errors.js';
import { loadGolden } from './util/golden.js';
import { thrown } from './util/errors.js';

/** Golden closes (flat stretches, a jump) then a seeded walk long enough for many ring wraps. */
const golden = loadGolden().find((g) => g.file.startsWith('flat_jump'))!.close;
const x = new Float64Array(golden.length + 5000);
x.set(golden);
let seed = 7;
for (let i = golden.length, p = 100; i < x.length; i++) {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  p *= 1 + 0.01 * (seed / 2 ** 31 - 0.5);
  x[i] = Math.round(p * 100) / 100; // on a cent grid: equal neighbours, short flat runs
}

const withLength = ['sma', 'ema', 'rma', 'wma', 'dema', 'hma', 'lsma', 'kama', 'rsi', 'stdev', 'highest', 'lowest', 'sum'] as const;
type Name = (typeof withLength)[number] | 'roc';
const names: Name[] = [...withLength, 'roc'];

/** `kernels[name]` over `x` (length 14 where it takes one), into `out` when given. */
function run(name: Name, input: Float64Array, out?: Float64Array): Float64Array {
  return name === 'roc' ? kernels.roc(input, out) : kernels[name](input, 14, out);
}

function bytes(a: Float64Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

describe.each(names)('%s(x, ..., out)', (name) => {
  const fresh = run(name, x);

  it('writes the caller\'s buffer and returns it, bit for bit the allocated result', () => {
    const out = new Float64Array(x.length).fill(12345); // stale values must all be overwritten
    expect(run(name, x, out)).toBe(out);
    expect(bytes(out).equals(bytes(fresh))).toBe(true);
    expect(run(name, x, out)).toBe(out); // reused: the same again
    expect(bytes(out).equals(bytes(fresh))).toBe(true);
  });

  it('computes in place when out is x itself', () => {
    const y = x.slice();
    expect(run(name, y, y)).toBe(y);
    expect(bytes(y).equals(bytes(fresh))).toBe(true);
  });

  it('refuses an out that overlaps x without being x, and leaves x alone', () => {
    const buf = new ArrayBuffer((x.length + 1) * 8);
    const input = new Float64Array(buf, 0, x.length);
    input.set(x);
    const e = thrown(() => run(name, input, new Float64Array(buf, 8, x.length)));
    expect(e.code).toBe('BARSTREAM_INVALID_PARAM');
    expect(e.message).toMatch(/^out overlaps x/);
    expect(bytes(input).equals(bytes(x))).toBe(true);
  });

  it('names out when it is not a Float64Array of x.length', () => {
    for (const [bad, what] of [
      [new Float64Array(x.length - 1), `got ${x.length - 1}`],
      [new Float32Array(x.length), 'got Float32Array'],
      [[1, 2, 3], 'got object'],
      [null, 'got null'],
    ] as const) {
      const e = thrown(() => run(name, x, bad as unknown as Float64Array));
      expect(e.code).toBe('BARSTREAM_INVALID_PARAM');
      expect(e.message).toBe(`out must be a Float64Array of ${x.length} values (x.length), ${what}`);
    }
  });

  it('leaves out untouched when the input is refused', () => {
    const bad = x.slice(0, 100);
    bad[60] = NaN;
    const out = new Float64Array(100).fill(7);
    const e = thrown(() => run(name, bad, out));
    expect(e.code).toBe('BARSTREAM_BAD_INPUT');
    expect(e.message).toMatch(/^x\[60\] is NaN/);
    expect(out.every((v) => v === 7)).toBe(true);
    const inPlace = bad.slice();
    thrown(() => run(name, inPlace, inPlace));
    expect(bytes(inPlace).equals(bytes(bad))).toBe(true);
  });
});

describe.each(names)('%sStream push(x, out)', (name) => {
  const make = (state?: Uint8Array) => (name === 'roc' ? kernels.rocStream(state) : kernels[`${name}Stream`](14, state));

  it('fills the buffers given, chunked with state round trips, bit for bit one pass', () => {
    const whole = run(name, x);
    const got = x.slice();
    let s = make();
    for (let lo = 0, step = 1; lo < x.length; lo += step, step = step * 3 + 1) {
      const chunk = got.subarray(lo, lo + step);
      // Alternately a separate buffer and in place.
      const out = step % 2 ? new Float64Array(chunk.length) : chunk;
      expect(s.push(chunk, out)).toBe(out);
      if (out !== chunk) chunk.set(out);
      s = make(s.state());
    }
    expect(bytes(got).equals(bytes(whole))).toBe(true);
  });
});

describe('bollinger(x, length, k, out)', () => {
  const fresh = kernels.bollinger(x, 20, 2);
  const bands = () => ({ mid: new Float64Array(x.length).fill(3), upper: new Float64Array(x.length).fill(3), lower: new Float64Array(x.length).fill(3) });

  it('fills the three buffers given and returns them, bit for bit the allocated bands', () => {
    const out = bands();
    const got = kernels.bollinger(x, 20, 2, out);
    for (const key of ['mid', 'upper', 'lower'] as const) {
      expect(got[key]).toBe(out[key]);
      expect(bytes(out[key]).equals(bytes(fresh[key]))).toBe(true);
    }
    // The stream (fresh outputs) agrees with the whole series too.
    const s = kernels.bollingerStream(20, 2);
    const half = x.length >> 1;
    const a = s.push(x.subarray(0, half));
    const b = kernels.bollingerStream(20, 2, s.state()).push(x.subarray(half));
    expect(Buffer.concat([bytes(a.upper), bytes(b.upper)]).equals(bytes(fresh.upper))).toBe(true);
  });

  it('refuses buffers that share memory, and names a bad or missing one', () => {
    const out = bands();
    let e = thrown(() => kernels.bollinger(x, 20, 2, { ...out, lower: out.mid }));
    expect(e.code).toBe('BARSTREAM_INVALID_PARAM');
    expect(e.message).toBe('out.lower overlaps out.mid: the bands need buffers of their own');
    e = thrown(() => kernels.bollinger(x, 20, 2, { ...out, upper: x }));
    expect(e.message).toBe('out.upper overlaps x: the bands need buffers of their own');
    e = thrown(() => kernels.bollinger(x, 20, 2, { ...out, upper: new Float64Array(3) }));
    expect(e.message).toBe(`out.upper must be a Float64Array of ${x.length} values (x.length), got 3`);
    e = thrown(() => kernels.bollinger(x, 20, 2, { mid: out.mid, upper: out.upper } as never));
    expect(e.message).toBe('out.lower is missing: out must be { mid, upper, lower }');
    expect(out.mid.every((v) => v === 3)).toBe(true);
  });
});
