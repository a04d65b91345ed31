/**
 * The pieces of a screen's options that need no data: dates as `from`/`to` bounds, and where
 * a formula's last statement starts (where a use error points its caret).
 */
import { describe, expect, it } from 'vitest';
import { lastStatement } from '../engine/formula-use.js';
import { microsText, toMicros } from '../engine/when.js';

describe('toMicros', () => {
  it('reads a day as its start (from) or its last microsecond (to), a time as given, a Date exactly', () => {
    const day = Date.UTC(2020, 5, 30) * 1000;
    expect(toMicros('from', '2020-06-30', 'start')).toBe(day);
    expect(toMicros('to', '2020-06-30', 'end')).toBe(day + 86_400_000_000 - 1);
    expect(toMicros('to', '2020-06-30T14:30', 'end')).toBe(day + (14 * 60 + 30) * 60_000_000);
    expect(toMicros('to', '2020-06-30 14:30:05.000250Z', 'end')).toBe(day + ((14 * 60 + 30) * 60 + 5) * 1_000_000 + 250);
    expect(toMicros('from', new Date(Date.UTC(2020, 0, 2, 3)), 'start')).toBe(Date.UTC(2020, 0, 2, 3) * 1000);
    expect(microsText(day + 86_400_000_000 - 1)).toBe('2020-06-30T23:59:59.999999Z');
    expect(microsText(day)).toBe('2020-06-30T00:00:00.000Z');
  });

  it('refuses what is not a real date, naming the option and the forms', () => {
    for (const bad of ['2020-02-30', '2020-13-01', '20200101', 'yesterday', '2020-01-01T25:00', '', 7]) {
      expect(() => toMicros('from', bad, 'start')).toThrow(/^from must be a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM\[:SS\[\.ffffff\]\] \(UTC\), got /);
    }
  });
});

describe('lastStatement', () => {
  it('finds the start of the last statement past comments, blank lines and ;', () => {
    expect(lastStatement('close > 1')).toEqual({ line: 1, column: 1 });
    expect(lastStatement('a = sma(close, 5)\n  a > close  # up\n\n# done\n')).toEqual({ line: 2, column: 3 });
    expect(lastStatement('r = rsi(close, 14);  r < 30 ;')).toEqual({ line: 1, column: 22 });
    expect(lastStatement('x = 1 # a; b\nx > 0; ')).toEqual({ line: 2, column: 1 });
    expect(lastStatement('é = 1; é > 0')).toEqual({ line: 1, column: 8 });
  });
});
