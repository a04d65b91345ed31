/**
 * Formulas through the public TypeScript API: every golden case of `shared/golden/formula`
 * through `kernels.formula`, streams in chunks and resumed from bytes equal to one call bit for
 * bit, the async twin equal to the sync call, every compile error kind's exact three-line message
 * with its code, and the bars checked (a missing field, arrays of different lengths).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kernels } from '../engine/kernels.js';
import { BarstreamError } from '../engine/errors.js';
import type { BarField, FormulaBars, FormulaResult } from '../engine/formula.js';
import { goldenDir } from './util/golden.js';
import { cat } from './util/arrays.js';

interface Case {
  formula: string;
  value: (number | null)[];
  values: Record<string, (number | null)[]>;
}
interface GoldenFormulas {
  file: string;
  bars: Required<FormulaBars>;
  formulas: Case[];
}

const FIELDS: BarField[] = ['open', 'high', 'low', 'close', 'volume'];
const f64 = (v: (number | null)[]): Float64Array => Float64Array.from(v, (x) => (x === null ? NaN : x));

const dir = join(goldenDir, 'formula');
const golden: GoldenFormulas[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => {
    const g = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const bars = Object.fromEntries(FIELDS.map((f) => [f, f64(g[f])])) as Required<FormulaBars>;
    return { file, bars, formulas: g.formulas };
  });

/** Within `1e-9 * max(1, |expected|)`, NaN exactly where null; `exact` for conditions. */
function agree(what: string, got: Float64Array, want: (number | null)[], exact: boolean): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    const g = got[i];
    if (w === null) {
      if (!Number.isNaN(g)) expect.fail(`${what}[${i}]: got ${g}, want NaN`);
    } else if (exact ? g !== w : !(Math.abs(g - w) <= 1e-9 * Math.max(1, Math.abs(w)))) {
      expect.fail(`${what}[${i}]: got ${g}, want ${w}`);
    }
  }
}

/** Bit-identical (every NaN equal). */
function sameBits(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  const x = new BigUint64Array(a.buffer, a.byteOffset, a.length);
  const y = new BigUint64Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (x[i] !== y[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}


function slice(bars: Required<FormulaBars>, lo: number, hi: number): FormulaBars {
  return Object.fromEntries(FIELDS.map((f) => [f, bars[f].subarray(lo, hi)]));
}

/** Pushes the bars in chunks of `sizes()`, re-creating the stream from its state when `resume`. */
function chunked(text: string, bars: Required<FormulaBars>, sizes: () => number, resume: boolean): FormulaResult {
  const n = bars.close.length;
  let s = kernels.formulaStream(text);
  const parts: FormulaResult[] = [];
  for (let lo = 0; lo < n; ) {
    const hi = Math.min(n, lo + Math.max(1, sizes()));
    parts.push(s.push(slice(bars, lo, hi)));
    if (resume) s = kernels.formulaStream(text, s.state());
    lo = hi;
  }
  const names = Object.keys(parts[0]?.values ?? {});
  return {
    value: cat(parts.map((p) => p.value)),
    values: Object.fromEntries(names.map((k) => [k, cat(parts.map((p) => p.values[k]))])),
  };
}

function expectSame(what: string, got: FormulaResult, want: FormulaResult): void {
  expect(sameBits(got.value, want.value), `${what}: value`).toBe(true);
  expect(Object.keys(got.values)).toEqual(Object.keys(want.values));
  for (const k of Object.keys(want.values)) expect(sameBits(got.values[k], want.values[k]), `${what}: ${k}`).toBe(true);
}

describe('golden formula cases through kernels.formula', () => {
  it('has the 84 public cases', () => {
    expect(golden.reduce((n, g) => n + g.formulas.length, 0)).toBe(84);
  });
  describe.each(golden)('$file', (g) => {
    it.each(g.formulas.map((c, i) => ({ i, c })))('case $i', ({ c }) => {
      const info = kernels.compileFormula(c.formula);
      const bars = Object.fromEntries(info.fields.map((f) => [f, g.bars[f]])) as FormulaBars;
      const out = kernels.formula(c.formula, bars);
      agree('value', out.value, c.value, info.kind === 'condition');
      expect(Object.keys(out.values)).toEqual(info.names);
      expect(Object.keys(out.values).sort()).toEqual(Object.keys(c.values).sort());
      for (const [k, want] of Object.entries(c.values)) agree(k, out.values[k], want, false);
    });
  });
});

describe('formulaStream', () => {
  const g = golden.find((x) => x.file.includes('flat_jump'))!;
  const texts = [
    g.formulas[2].formula,
    'a = atc(close, 10)\nk = stoch_d(5, 3)\nm = macd_hist(close, 5, 13, 4)\nv = valuewhen(crosses(close, sma(close, 9)), close, 2)\nc = count(close > close[1], 6)\na > 0 or k > 50',
  ];
  it.each(texts)('in steps 1, 2, 3, 5, 7, 13, 100, all and random, resumed or not, equals one call: %s', (text) => {
    const whole = kernels.formula(text, g.bars);
    for (const step of [1, 2, 3, 5, 7, 13, 100, g.bars.close.length]) {
      for (const resume of [false, true]) expectSame(`step ${step} resume ${resume}`, chunked(text, g.bars, () => step, resume), whole);
    }
    let seed = 7;
    const random = () => {
      seed = (seed * 48271) % 2147483647;
      return 1 + (seed % 211);
    };
    for (let round = 0; round < 5; round++) expectSame(`random ${round}`, chunked(text, g.bars, random, round % 2 === 0), whole);
  });

  it('reports its shape and refuses a state saved by another formula', () => {
    const s = kernels.formulaStream('m = sma(close, 3)\nclose > m');
    expect(s.info).toEqual({ kind: 'condition', fields: ['close'], names: ['m'], warmup: 2 });
    s.push({ close: new Float64Array([1, 2, 3]) });
    const bytes = s.state();
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(() => kernels.formulaStream('m = sma(close, 4)\nclose > m', bytes)).toThrow(
      expect.objectContaining({ code: 'BARSTREAM_INVALID_PARAM', message: 'state: saved by another formula; resume with the same formula text' }),
    );
  });
});

describe('formulaAsync', () => {
  it('equals the sync call and leaves the caller free to change the arrays', async () => {
    for (const g of golden) {
      for (const c of g.formulas.slice(0, 6)) {
        const bars = { ...g.bars, close: g.bars.close.slice() };
        const p = kernels.formulaAsync(c.formula, bars);
        bars.close.fill(1);
        expectSame(c.formula, await p, kernels.formula(c.formula, g.bars));
      }
    }
  });

  it('rejects with the same errors', async () => {
    await expect(kernels.formulaAsync('close >', { close: new Float64Array(3) })).rejects.toMatchObject({ code: 'BARSTREAM_INVALID_FORMULA' });
    await expect(kernels.formulaAsync('atc(close) > 0', { close: new Float64Array([1, 2, -1]) })).rejects.toMatchObject({
      code: 'BARSTREAM_BAD_INPUT',
      message: 'atc(x, 28): its input is -1 at bar 2; atc needs values > 0',
    });
  });
});

/** `[formula, first line]`: the line and the caret are derived from the place and checked too. */
const ERRORS: [string, string][] = [
  ['sma(close, 20', "line 1, column 14: expected ',' or ')', got end of formula"],
  ['close $ 1', "line 1, column 7: unexpected character '$'"],
  ['a < b < c', "line 1, column 7: comparisons cannot be chained: join them with 'and', e.g. a < b and b < c"],
  ['close > 1e999', "line 1, column 9: the number '1e999' is too large"],
  ['x = 1\ny = clsoe > 1', "line 2, column 5: unknown name 'clsoe' (did you mean 'close'?)"],
  ['smaa(close, 3) > 1', "line 1, column 1: unknown function 'smaa' (did you mean 'sma'?)"],
  ['a = b + 1\nb = 2\na > 1', "line 1, column 5: 'b' is used before it is assigned (on line 2)"],
  ['close > sma', "line 1, column 9: 'sma' is a function: call it, e.g. sma(x, L)"],
  ['close(1) > 1', "line 1, column 1: 'close' is a bar field, not a function"],
  ['sma(close, 20, 3) > 1', 'line 1, column 1: sma takes 2 arguments, sma(x, L), got 3'],
  ['bb_upper(close) > 1', 'line 1, column 1: bb_upper takes 2 or 3 arguments, bb_upper(x, L, k = 2), got 1'],
  ['sma(close, close) > 1', 'line 1, column 12: argument L of sma(x, L) must be a number written in the formula (an integer from 1 to 1000000)'],
  ['sma(close, 0) > 1', 'line 1, column 12: argument L of sma(x, L) must be an integer from 1 to 1000000, got 0'],
  ['bb_upper(close, 20, open) > 1', 'line 1, column 21: argument k of bb_upper(x, L, k = 2) must be a number written in the formula'],
  ['close[1.5] > 1', 'line 1, column 7: the offset in x[n] must be an integer from 0 to 1000000, got 1.5'],
  ['close and close > 1', 'line 1, column 1: expected a condition, got a number: compare it, e.g. `x > 0`'],
  ['and = 1\nclose > 1', "line 1, column 1: cannot assign 'and': it is a reserved word"],
  ['sma = 1\nclose > 1', "line 1, column 1: cannot assign 'sma': it is a function"],
  ['close = 1\nclose > 1', "line 1, column 1: cannot assign 'close': it is a bar field"],
  ['x = 1\nx = 2\nx > 1', "line 2, column 1: cannot assign 'x' again: it was assigned on line 1"],
  ['close > 1\nopen > 1', 'line 1, column 1: only the last statement may be a bare expression: assign it a name, e.g. `x = ...`'],
  ['a = close > 1', 'line 1, column 14: the formula has no value: end it with an expression, or assign `entry` for a strategy'],
  ['exit = close > 1', "line 1, column 1: a strategy needs 'entry': assign it, e.g. `entry = crosses_above(close, sma(close, 20))`"],
  ['entry = close > 1\nclose > 2', 'line 2, column 1: a strategy has no final expression: assign it a name (entry, exit, short_entry, short_exit or another)'],
  [`${'('.repeat(10_000)}close${')'.repeat(10_000)} > 1`, 'line 1, column 101: the formula is nested too deep: at most 100 levels of parentheses, calls and brackets'],
];

describe('compile errors', () => {
  it.each(ERRORS.map(([text, first]) => ({ text, first, short: text.slice(0, 40) })))('$short', ({ text, first }) => {
    const m = /^line (\d+), column (\d+): /.exec(first)!;
    const line = text.split('\n')[Number(m[1]) - 1];
    const want = `${first}\n${line}\n${' '.repeat(Number(m[2]) - 1)}^`;
    let thrown: unknown;
    try {
      kernels.compileFormula(text);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(BarstreamError);
    expect((thrown as BarstreamError).code).toBe('BARSTREAM_INVALID_FORMULA');
    expect((thrown as BarstreamError).message).toBe(want);
    expect(() => kernels.formula(text, { close: new Float64Array(2), open: new Float64Array(2) })).toThrow(want);
    expect(() => kernels.formulaStream(text)).toThrow(want);
  });

  it('a 1 MB formula gives its result', () => {
    const lines = ['x0 = close'];
    for (let i = 1, size = 0; size < 1 << 20; i++) {
      lines.push(`x${i} = x${i - 1} * 1.0001 + sma(close, ${1 + (i % 50)})`);
      size += lines[i].length + 1;
    }
    const text = `${lines.join('\n')}\nx${lines.length - 1} > 0`;
    expect(text.length).toBeGreaterThan(1 << 20);
    const out = kernels.formula(text, { close: new Float64Array(64).fill(2) });
    expect(Object.keys(out.values).length).toBe(lines.length);
    expect(out.value.length).toBe(64);
  });

  it('a 100,000-term sum gives its result', () => {
    const close = new Float64Array([1, 2, 3]);
    const out = kernels.formula(`${Array(100_000).fill('close').join(' + ')} > 0`, { close });
    expect(Array.from(out.value)).toEqual([1, 1, 1]);
  });
});

describe('bars', () => {
  it('needs only the fields the formula reads, and names a missing one', () => {
    const close = new Float64Array([1, 2, 3]);
    expect(Array.from(kernels.formula('close > 1', { close }).value)).toEqual([0, 1, 1]);
    expect(kernels.compileFormula('hl2 > atr(2)').fields).toEqual(['high', 'low', 'close']);
    expect(() => kernels.formula('hl2 > 1', { close, high: close })).toThrow(
      expect.objectContaining({ code: 'BARSTREAM_INVALID_PARAM', message: 'formula: bars.low is missing: the formula reads low' }),
    );
  });

  it('refuses arrays of different lengths, naming them', () => {
    expect(() => kernels.formula('close > open', { open: new Float64Array(3), close: new Float64Array(2) })).toThrow(
      expect.objectContaining({
        code: 'BARSTREAM_INVALID_PARAM',
        message: 'formula: bars.close has 2 values but bars.open has 3: every field must have one value per bar',
      }),
    );
    expect(() => kernels.formula('close > 1', { close: [1, 2] as unknown as Float64Array })).toThrow('formula: bars.close must be a Float64Array');
  });

  it('names the field and bar of an infinite value', () => {
    expect(() => kernels.formula('close > 1', { close: new Float64Array([1, Infinity]) })).toThrow(
      expect.objectContaining({ code: 'BARSTREAM_BAD_INPUT', message: 'close[1] is inf: values must be finite or NaN' }),
    );
  });

  it('gives a strategy an empty value and its rules as named values', () => {
    const close = new Float64Array([1, 3, 2, 4]);
    const out = kernels.formula('entry = close > close[1]\nexit = close < close[1]', { close });
    expect(out.value.length).toBe(0);
    expect(Array.from(out.values.entry)).toEqual([NaN, 1, 0, 1]);
    expect(Array.from(out.values.exit)).toEqual([NaN, 0, 1, 0]);
    expect(kernels.compileFormula('entry = close > close[1]\nexit = close < close[1]')).toEqual({
      kind: 'strategy',
      fields: ['close'],
      names: ['entry', 'exit'],
      warmup: 1,
    });
  });
});
