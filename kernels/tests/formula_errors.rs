//! Every compile error kind, with its exact three-line message (place, the line as
//! written, a caret under the column), and the code `BARSTREAM_INVALID_FORMULA`.
use barstream_kernels::formula::Formula;
use barstream_kernels::ErrorCode;

/// `(formula, first line)`: the second and third lines are derived from the first's
/// place and checked too.
const CASES: &[(&str, &str)] = &[
    // syntax: what was expected
    ("sma(close, 20", "line 1, column 14: expected ',' or ')', got end of formula"),
    ("(close", "line 1, column 7: expected ')', got end of formula"),
    ("close + ", "line 1, column 9: expected a number, a name or '(', got end of formula"),
    ("close > 1 close", "line 1, column 11: expected an operator or the end of the statement, got 'close'"),
    ("close > 1 = 2", "line 1, column 11: expected an operator or the end of the statement, got '=': compare with '=='"),
    ("close[close]", "line 1, column 7: expected a whole number of bars inside [ ], e.g. close[1], got 'close'"),
    ("close $ 1", "line 1, column 7: unexpected character '$'"),
    ("a < b < c", "line 1, column 7: comparisons cannot be chained: join them with 'and', e.g. a < b and b < c"),
    ("close > 1e999", "line 1, column 9: the number '1e999' is too large"),
    // unknown names, with the closest known name
    ("x = 1\ny = clsoe > 1", "line 2, column 5: unknown name 'clsoe' (did you mean 'close'?)"),
    ("Close > 1", "line 1, column 1: unknown name 'Close' (did you mean 'close'?)"),
    ("fast = ema(close, 12)\nclose > fsat", "line 2, column 9: unknown name 'fsat' (did you mean 'fast'?)"),
    ("x == 1", "line 1, column 1: unknown name 'x'"),
    ("smaa(close, 3) > 1", "line 1, column 1: unknown function 'smaa' (did you mean 'sma'?)"),
    ("a = b + 1\nb = 2\na > 1", "line 1, column 5: 'b' is used before it is assigned (on line 2)"),
    ("close > sma", "line 1, column 9: 'sma' is a function: call it, e.g. sma(x, L)"),
    ("close(1) > 1", "line 1, column 1: 'close' is a bar field, not a function"),
    ("a = close\na(1) > 1", "line 2, column 1: 'a' is a named value, not a function"),
    // argument counts, naming the function and its parameters
    ("sma(close, 20, 3) > 1", "line 1, column 1: sma takes 2 arguments, sma(x, L), got 3"),
    ("bb_upper(close) > 1", "line 1, column 1: bb_upper takes 2 or 3 arguments, bb_upper(x, L, k = 2), got 1"),
    ("stoch_k(1, 2) > 1", "line 1, column 1: stoch_k takes at most 1 argument, stoch_k(L = 14), got 2"),
    ("macd_signal() > 1", "line 1, column 1: macd_signal takes 1 to 4 arguments, macd_signal(x, f = 12, s = 26, g = 9), got 0"),
    // literal arguments
    ("sma(close, close) > 1", "line 1, column 12: argument L of sma(x, L) must be a number written in the formula (an integer from 1 to 1000000)"),
    ("sma(close, 0) > 1", "line 1, column 12: argument L of sma(x, L) must be an integer from 1 to 1000000, got 0"),
    ("sma(close, 1000001) > 1", "line 1, column 12: argument L of sma(x, L) must be an integer from 1 to 1000000, got 1000001"),
    ("sma(close, 20.5) > 1", "line 1, column 12: argument L of sma(x, L) must be an integer from 1 to 1000000, got 20.5"),
    ("count(close > 1, 0) > 1", "line 1, column 18: argument n of count(c, n) must be an integer from 1 to 1000000, got 0"),
    ("valuewhen(close > 1, close, -1) > 1", "line 1, column 29: argument k of valuewhen(c, x, k = 0) must be an integer from 0 to 1000000, got -1"),
    ("bb_upper(close, 20, open) > 1", "line 1, column 21: argument k of bb_upper(x, L, k = 2) must be a number written in the formula"),
    ("atc(close, 3) > 0", "line 1, column 12: argument L of atc(x, L = 28) must be an integer from 7 to 999994, got 3"),
    ("close[1.5] > 1", "line 1, column 7: the offset in x[n] must be an integer from 0 to 1000000, got 1.5"),
    ("close[1000001] > 1", "line 1, column 7: the offset in x[n] must be an integer from 0 to 1000000, got 1000001"),
    // types
    ("close and close > 1", "line 1, column 1: expected a condition, got a number: compare it, e.g. `x > 0`"),
    ("not close", "line 1, column 5: expected a condition, got a number: compare it, e.g. `x > 0`"),
    ("iff(close, 1, 2) > 1", "line 1, column 5: expected a condition, got a number: compare it, e.g. `x > 0`"),
    ("barssince(volume) > 1", "line 1, column 11: expected a condition, got a number: compare it, e.g. `x > 0`"),
    ("entry = close", "line 1, column 9: expected a condition, got a number: compare it, e.g. `x > 0`"),
    // names
    ("and = 1\nclose > 1", "line 1, column 1: cannot assign 'and': it is a reserved word"),
    ("true = 1\nclose > 1", "line 1, column 1: cannot assign 'true': it is a reserved word"),
    ("sma = 1\nclose > 1", "line 1, column 1: cannot assign 'sma': it is a function"),
    ("close = 1\nclose > 1", "line 1, column 1: cannot assign 'close': it is a bar field"),
    ("hl2 = 1\nclose > 1", "line 1, column 1: cannot assign 'hl2': it is a bar field"),
    ("x = 1\nx = 2\nx > 1", "line 2, column 1: cannot assign 'x' again: it was assigned on line 1"),
    // statements
    ("close > 1\nopen > 1", "line 1, column 1: only the last statement may be a bare expression: assign it a name, e.g. `x = ...`"),
    ("a = close > 1", "line 1, column 14: the formula has no value: end it with an expression, or assign `entry` for a strategy"),
    ("# nothing", "line 1, column 10: the formula has no value: end it with an expression, or assign `entry` for a strategy"),
    // strategies
    ("exit = close > 1", "line 1, column 1: a strategy needs 'entry': assign it, e.g. `entry = crosses_above(close, sma(close, 20))`"),
    ("x = sma(close, 5)\nshort_exit = close > x", "line 2, column 1: a strategy needs 'entry': assign it, e.g. `entry = crosses_above(close, sma(close, 20))`"),
    ("entry = close > 1\nclose > 2", "line 2, column 1: a strategy has no final expression: assign it a name (entry, exit, short_entry, short_exit or another)"),
];

fn place(first: &str) -> (usize, usize) {
    let rest = first.strip_prefix("line ").expect("line");
    let (l, rest) = rest.split_once(", column ").expect("column");
    let (c, _) = rest.split_once(':').expect(":");
    (l.parse().expect("l"), c.parse().expect("c"))
}

#[test]
fn every_error_kind_has_its_exact_message() {
    for (text, first) in CASES {
        let e = Formula::compile(text).expect_err(text);
        assert_eq!(e.code, ErrorCode::InvalidFormula, "{text}");
        assert_eq!(e.code.as_str(), "BARSTREAM_INVALID_FORMULA");
        let (l, c) = place(first);
        let line = text.split('\n').nth(l - 1).expect("the line");
        let want = format!("{first}\n{line}\n{}^", " ".repeat(c - 1));
        assert_eq!(e.message, want, "{text:?}");
    }
}

#[test]
fn carets_count_characters_and_ignore_carriage_returns() {
    let e = Formula::compile("x = 1 # é ü\r\ny = \"").unwrap_err();
    assert_eq!(
        e.message,
        "line 2, column 5: unexpected character '\"'\ny = \"\n    ^"
    );
    let e = Formula::compile("é > 1").unwrap_err();
    assert_eq!(
        e.message,
        "line 1, column 1: unexpected character 'é'\né > 1\n^"
    );
}

#[test]
fn a_screen_refuses_a_number() {
    let f = Formula::compile("x = 1\nsma(close, 5)").unwrap();
    let e = f.require_condition().unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidFormula);
    assert_eq!(
        e.message,
        "line 2, column 1: a screen needs a condition, got a number: compare it, e.g. `x > 0`\nsma(close, 5)\n^"
    );
    assert!(Formula::compile("close > 1")
        .unwrap()
        .require_condition()
        .is_ok());
}
