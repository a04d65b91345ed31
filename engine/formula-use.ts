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
export function lastStatement(text: string): { line: number; column: number } {
  const lines = text.split('\n');
  for (let l = lines.length - 1; l >= 0; l--) {
    const chars = Array.from(lines[l]);
    const hash = chars.indexOf('#');
    const code = hash < 0 ? chars : chars.slice(0, hash);
    // Statements on one line are separated by ';': the last one with something in it.
    let end = code.length;
    for (let k = code.length - 1; k >= -1; k--) {
      if (k >= 0 && code[k] !== ';') continue;
      const first = code.slice(k + 1, end).findIndex((c) => !/\s/.test(c));
      if (first >= 0) return { line: l + 1, column: k + 2 + first };
      end = k;
    }
  }
  return { line: 1, column: 1 };
}

/** A compile error of `text` at its last statement: `line L, column C: <what>`, the line, a caret. */
export function errorAtEnd(text: string, what: string): BarstreamError {
  const { line, column } = lastStatement(text);
  return errorAt(text, line, column, what);
}

/** A compile error of `text` at `line`, `column` (from 1): the message, the line as written, a caret. */
export function errorAt(text: string, line: number, column: number, what: string): BarstreamError {
  const source = (text.split('\n')[line - 1] ?? '').replace(/\r$/, '');
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
  // Worded as the Rust core words them (`Formula::require_condition`), which checks again.
  if (use === 'screen' && info.kind === 'number') throw errorAtEnd(text, 'a screen needs a condition, got a number: compare it, e.g. x > 0');
  if (use === 'screen' && info.kind === 'strategy') throw errorAt(text, 1, 1, "a screen needs a condition as the formula's value, got a strategy");
  if (use === 'backtest' && info.kind !== 'strategy') {
    throw errorAtEnd(
      text,
      `a backtest needs a strategy: assign entry (and optionally exit, short_entry, short_exit), with no bare last line; this formula's value is a ${info.kind}`,
    );
  }
  return info;
}
