//! Compile errors: where (line and column, counted in characters from 1) and what.
//!
//! Every compile error is an [`ErrorCode::InvalidFormula`] whose message has three lines:
//! `line L, column C: <what>`, the formula's line L as written, and spaces then `^` under
//! column C. The wording of each kind (one example each):
//!
//! | kind | first line |
//! |---|---|
//! | syntax | `line 1, column 14: expected ',' or ')', got end of formula` |
//! | `=` where `==` was meant | `line 1, column 11: expected an operator or the end of the statement, got '=': compare with '=='` |
//! | unexpected character | `line 1, column 7: unexpected character '$'` |
//! | chained comparison | `line 1, column 7: comparisons cannot be chained: join them with 'and', e.g. a < b and b < c` |
//! | number too large | `line 1, column 9: the number '1e999' is too large` |
//! | unknown name | `line 2, column 5: unknown name 'clsoe' (did you mean 'close'?)` |
//! | unknown function | `line 1, column 1: unknown function 'smaa' (did you mean 'sma'?)` |
//! | name used before it is assigned | `line 1, column 5: 'b' is used before it is assigned (on line 2)` |
//! | a function used as a value | `line 1, column 9: 'sma' is a function: call it, e.g. sma(x, L)` |
//! | a field or name called | `line 1, column 1: 'close' is a bar field, not a function` |
//! | argument count | `line 1, column 1: sma takes 2 arguments, sma(x, L), got 3` |
//! | non-literal argument | `line 1, column 12: argument L of sma(x, L) must be a number written in the formula (an integer from 1 to 1000000)` |
//! | out-of-range argument | `line 1, column 12: argument L of sma(x, L) must be an integer from 1 to 1000000, got 0` |
//! | out-of-range offset | `line 1, column 7: the offset in x[n] must be an integer from 0 to 1000000, got 1.5` |
//! | type | ``line 1, column 5: expected a condition, got a number: compare it, e.g. `x > 0` `` |
//! | reserved name | `line 1, column 1: cannot assign 'and': it is a reserved word` |
//! | function or field assigned | `line 1, column 1: cannot assign 'sma': it is a function` (`... it is a bar field`) |
//! | reassigned name | `line 2, column 1: cannot assign 'x' again: it was assigned on line 1` |
//! | bare expression before the end | ``line 1, column 1: only the last statement may be a bare expression: assign it a name, e.g. `x = ...` `` |
//! | no value | ``line 1, column 14: the formula has no value: end it with an expression, or assign `entry` for a strategy`` |
//! | strategy without `entry` | ``line 1, column 1: a strategy needs 'entry': assign it, e.g. `entry = crosses_above(close, sma(close, 20))` `` |
//! | bare expression in a strategy | `line 2, column 1: a strategy has no final expression: assign it a name (entry, exit, short_entry, short_exit or another)` |
//! | nested too deep | `line 1, column 101: the formula is nested too deep: at most 100 levels of parentheses, calls and brackets` |
//! | too long | `line 1, column 1: the formula is too long: 5600009 characters, at most 4194304` |
//! | a screen's value is a number | ``line 2, column 1: a screen needs a condition, got a number: compare it, e.g. `x > 0` `` |
//!
//! `kernels/tests/formula_errors.rs` asserts each of these, all three lines.
//! [`not_a_condition`] gives a screen's "value is not a condition" in the same form.
use crate::{Error, ErrorCode};

/// A place in the formula text: line and column, both from 1, columns in characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// A compile error before it is rendered against the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    pub pos: Pos,
    pub what: String,
}

pub type Checked<T> = std::result::Result<T, Located>;

/// Shorthand for an error at `pos`.
pub fn at<T>(pos: Pos, what: impl Into<String>) -> Checked<T> {
    Err(Located {
        pos,
        what: what.into(),
    })
}

/// The three-line message: `line L, column C: what`, the line, the caret.
pub fn render(text: &str, e: &Located) -> Error {
    let line = text
        .split('\n')
        .nth(e.pos.line.saturating_sub(1) as usize)
        .unwrap_or("");
    let line = line.strip_suffix('\r').unwrap_or(line);
    let caret = " ".repeat(e.pos.col.saturating_sub(1) as usize);
    Error::new(
        ErrorCode::InvalidFormula,
        format!(
            "line {}, column {}: {}\n{line}\n{caret}^",
            e.pos.line, e.pos.col, e.what
        ),
    )
}

/// The error a screen gives when the formula's value is a number: at its final expression.
pub fn not_a_condition(text: &str, pos: Pos) -> Error {
    render(
        text,
        &Located {
            pos,
            what: "a screen needs a condition, got a number: compare it, e.g. `x > 0`".into(),
        },
    )
}

/// The closest of `known` to `name` (optimal string alignment distance: an insertion,
/// deletion, substitution or swap of neighbours costs 1), when it is close enough to be
/// a likely typo: at most 2 edits, and fewer than the name's length.
pub fn closest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for k in known {
        let d = distance(name, k);
        if best.is_none_or(|(b, _)| d < b) {
            best = Some((d, k));
        }
    }
    let n = name.chars().count();
    best.filter(|&(d, _)| d <= 2 && d < n).map(|(_, k)| k)
}

fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len() > 64 || b.len() > 64 {
        return usize::MAX;
    }
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            d[i * w + j] = if i == 0 || j == 0 {
                i + j
            } else {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut v = (d[(i - 1) * w + j] + 1)
                    .min(d[i * w + j - 1] + 1)
                    .min(d[(i - 1) * w + j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    v = v.min(d[(i - 2) * w + j - 2] + 1);
                }
                v
            };
        }
    }
    d[a.len() * w + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_names() {
        let known = ["close", "open", "sma", "ema"];
        assert_eq!(closest("clsoe", known), Some("close"));
        assert_eq!(closest("Close", known), Some("close"));
        assert_eq!(closest("smaa", known), Some("sma"));
        assert_eq!(closest("zzzzzz", known), None);
        assert_eq!(closest("x", known), None);
    }

    #[test]
    fn three_lines() {
        let e = render(
            "a = 1\nx = clsoe > 1",
            &Located {
                pos: Pos { line: 2, col: 5 },
                what: "unknown name 'clsoe' (did you mean 'close'?)".into(),
            },
        );
        assert_eq!(
            e.message,
            "line 2, column 5: unknown name 'clsoe' (did you mean 'close'?)\nx = clsoe > 1\n    ^"
        );
    }
}
