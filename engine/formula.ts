/**
 * Formulas over in-memory bars (see `shared/docs/formula-spec.md` and `docs/formulas.md`):
 * compile one, evaluate it over a symbol's `Float64Array`s (read in place), continue it in
 * chunks with a saved state. Spread into `kernels` (`engine/kernels.ts`).
 */
import { addon } from './native.js';
import { fromNative, invalidParam } from './errors.js';

/** The bar fields a formula reads. */
export type BarField = 'open' | 'high' | 'low' | 'close' | 'volume';

const FIELDS: readonly BarField[] = ['open', 'high', 'low', 'close', 'volume'];

/** What a formula is: a screen's condition, a number (an indicator), or a strategy's rules. */
export type FormulaKind = 'condition' | 'number' | 'strategy';

/** A compiled formula's shape. */
export interface FormulaInfo {
  kind: FormulaKind;
  /** Bar fields read, in open, high, low, close, volume order. */
  fields: BarField[];
  /** Assigned names, in the order assigned (the named values). */
  names: string[];
  /** The warm-up `W`: a symbol with at most `W` bars cannot define the value. */
  warmup: number;
}

/** One symbol's bars: only the fields the formula reads are required; all of one length. */
export type FormulaBars = Partial<Record<BarField, Float64Array>>;

/** Per bar: the value (conditions as 1/0/NaN; empty for a strategy) and every named value. */
export interface FormulaResult {
  value: Float64Array;
  values: Record<string, Float64Array>;
}

/** A formula continued across calls; `state()` bytes resume it later with the same text. */
export interface FormulaStream {
  readonly info: FormulaInfo;
  /** The outputs for exactly these bars. */
  push(bars: FormulaBars): FormulaResult;
  /** The carried state: every stateful node, lookback and the bars seen. */
  state(): Uint8Array;
}

function call<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw fromNative(e);
  }
}

/**
 * Compiles `text`.
 * @throws BarstreamError `BARSTREAM_INVALID_FORMULA` whose message has three lines: the place
 * (`line L, column C: ...`), the line as written, and a caret under the column.
 * @example
 * kernels.compileFormula('fast = ema(close, 12)\nslow = ema(close, 26)\ncrosses_above(fast, slow)');
 * // { kind: 'condition', fields: ['close'], names: ['fast', 'slow'], warmup: 26 }
 */
export function compileFormula(text: string): FormulaInfo {
  if (typeof text !== 'string') throw invalidParam('formula: the text must be a string');
  return call(() => addon.compileFormula(text)) as FormulaInfo;
}

/** The series of `fields` from `bars`, checked: present, Float64Array, one length. */
function columns(fields: BarField[], bars: FormulaBars): { cols: Float64Array[]; n: number } {
  if (bars === null || typeof bars !== 'object') {
    throw invalidParam('formula: bars must be an object { open?, high?, low?, close?, volume? } of Float64Array');
  }
  let first: BarField | undefined;
  for (const f of FIELDS) {
    const a = bars[f];
    if (a === undefined) continue;
    if (!(a instanceof Float64Array)) throw invalidParam(`formula: bars.${f} must be a Float64Array`);
    if (first === undefined) first = f;
    else if (a.length !== bars[first]!.length) {
      throw invalidParam(
        `formula: bars.${f} has ${a.length} values but bars.${first} has ${bars[first]!.length}: every field must have one value per bar`,
      );
    }
  }
  const cols = fields.map((f) => {
    const a = bars[f];
    if (a === undefined) throw invalidParam(`formula: bars.${f} is missing: the formula reads ${f}`);
    return a;
  });
  return { cols, n: cols[0].length };
}

function named(names: string[], arrays: Float64Array[]): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  names.forEach((name, i) => {
    out[name] = arrays[i];
  });
  return out;
}

/**
 * Evaluates `text` over one symbol's bars, read in place; outputs are allocated on the JS heap.
 * @throws BarstreamError `BARSTREAM_INVALID_FORMULA` (does not compile), `BARSTREAM_INVALID_PARAM`
 * (a field missing, arrays of different lengths), `BARSTREAM_BAD_INPUT` (an infinite value, an
 * `atc` input <= 0, naming the bar).
 * @example
 * const { value, values } = kernels.formula('m = sma(close, 50)\nclose > m', { close });
 */
export function formula(text: string, bars: FormulaBars): FormulaResult {
  const info = compileFormula(text);
  const { cols, n } = columns(info.fields, bars);
  const value = new Float64Array(info.kind === 'strategy' ? 0 : n);
  const outs = info.names.map(() => new Float64Array(n));
  call(() => addon.formulaInto(text, cols, value, outs));
  return { value, values: named(info.names, outs) };
}

/**
 * As `formula`, off the JS thread (for long series): the bars are copied first, so the arrays
 * may change as soon as it returns.
 */
export async function formulaAsync(text: string, bars: FormulaBars): Promise<FormulaResult> {
  const info = compileFormula(text);
  const { cols } = columns(info.fields, bars);
  try {
    const out = await addon.formulaAsync(text, cols);
    return { value: out.value, values: named(info.names, out.named) };
  } catch (e) {
    throw fromNative(e);
  }
}

/**
 * A formula over one symbol's bars in chunks, resumable from `state` (bytes from `state()` of a
 * stream of the same text): the outputs equal one `formula` call, bit for bit.
 * @example
 * const s = kernels.formulaStream('close > sma(close, 20)');
 * const a = s.push({ close: close.subarray(0, 1000) });
 * const rest = kernels.formulaStream('close > sma(close, 20)', s.state()).push({ close: close.subarray(1000) });
 */
export function formulaStream(text: string, state?: Uint8Array): FormulaStream {
  if (typeof text !== 'string') throw invalidParam('formula: the text must be a string');
  const s = call(() => new addon.FormulaStream(text, state));
  const info = s.info() as FormulaInfo;
  return {
    info,
    push: (bars) => {
      const { cols } = columns(info.fields, bars);
      const out = call(() => s.push(cols));
      return { value: out.value, values: named(info.names, out.named) };
    },
    state: () => s.state(),
  };
}

/** The formula functions, spread into `kernels`. */
export const formulaKernels = { formula, formulaAsync, formulaStream, compileFormula };


