/**
 * What a job asks of a compiled formula: a screen needs a condition for its value, a
 * backtest needs a strategy (`entry`, ...). The language itself is compiled by
 * `kernels.compileFormula` (engine/formula.ts); this file only checks the use, and words
 * its refusal as a compile error (`BARSTREAM_INVALID_FORMULA`: the message, the formula's
 * line, a caret), pointing at the formula's last statement.
 */
import { BarstreamError } from './errors.js';
import { kernels } from './kernels.js';

/** What `kernels.compileFormula` tells of a formula. */
export interface FormulaInfo {
  kind: 'condition' | 'number' | 'strategy';
  fields: string[];
  names: string[];
  warmup: number;
}

/** The bar fields a formula can read, in the order partitions read them. */
export const FIELDS = ['open', 'high', 'low', 'close', 'volume'] as const;

/**
 * Where the formula's last statement starts: its line and column (both from 1, columns
 * counting characters), skipping comments (`#` to the end of the line) and blank statements.
 */
export function lastStatement(text: string): { line: number; column: number; source: string } {
  const lines = text.split(/\r?\n/);
  for (let l = lines.length - 1; l >= 0; l--) {
    const chars = Array.from(lines[l]);
    const hash = chars.indexOf('#');
    const code = hash < 0 ? chars : chars.slice(0, hash);
    // Statements on one line are separated by ';': the last one with something in it.
    let end = code.length;
    for (let k = code.length - 1; k >= -1; k--) {
      if (k >= 0 && code[k] !== ';') continue;
      const first = code.slice(k + 1, end).findIndex((c) => !/\s/.test(c));
      if (first >= 0) return { line: l + 1, column: k + 2 + first, source: lines[l] };
      end = k;
    }
  }
  return { line: 1, column: 1, source: lines[0] ?? '' };
}

/** A compile error of `text` at its last statement: `line L, column C: <what>`, the line, a caret. */
export function errorAtEnd(text: string, what: string): BarstreamError {
  const { line, column, source } = lastStatement(text);
  return new BarstreamError('BARSTREAM_INVALID_FORMULA', `line ${line}, column ${column}: ${what}\n${source}\n${' '.repeat(column - 1)}^`);
}

/**
 * Compiles `text` for a use: a `'screen'` needs a condition as its value, a `'backtest'` a
 * strategy. Throws the compiler's error as it is, or the use's as a compile error.
 * @throws BarstreamError `BARSTREAM_INVALID_FORMULA`, or `BARSTREAM_INVALID_PARAM` when `text` is not a string.
 * @example
 * const info = compileFor('close > sma(close, 50)', 'screen'); // { kind: 'condition', fields: ['close'], ... }
 */
export function compileFor(text: unknown, use: 'screen' | 'backtest'): FormulaInfo {
  if (typeof text !== 'string' || text.trim() === '') throw new BarstreamError('BARSTREAM_INVALID_PARAM', 'formula must be non-empty text');
  const info = kernels.compileFormula(text) as FormulaInfo;
  if (use === 'screen' && info.kind !== 'condition') {
    throw errorAtEnd(
      text,
      info.kind === 'strategy'
        ? 'a screen needs a condition as the formula\'s last line (e.g. `close > sma(close, 50)`); this formula is a strategy (entry/exit rules) with no value'
        : 'a screen needs a condition as the formula\'s value, got a number: compare it, e.g. `x > 0`',
    );
  }
  if (use === 'backtest' && info.kind !== 'strategy') {
    throw errorAtEnd(
      text,
      `a backtest needs a strategy: assign entry (and optionally exit, short_entry, short_exit), with no bare last line; this formula's value is a ${info.kind}`,
    );
  }
  return info;
}
