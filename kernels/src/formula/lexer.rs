//! Tokens of the formula language, each with its place in the text.
//!
//! Names are letters, digits and `_` (not starting with a digit); a name with capitals is
//! still a name, so `Close` is reported as an unknown name with its likely spelling.
//! `#` comments run to the end of the line. A newline inside parentheses or brackets
//! continues the statement; elsewhere a newline or `;` ends it.
use super::error::{at, Checked, Pos};

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Num(f64),
    /// Byte range of the name in the text.
    Name(u32, u32),
    And,
    Or,
    Not,
    True,
    False,
    /// One of `+ - * / > >= < <= == != = ( ) [ ] ,`.
    Op(&'static str),
    /// A newline or `;` ending a statement.
    Sep,
    Eof,
}

#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub pos: Pos,
}

/// The reserved words, as they are written.
pub const RESERVED: [&str; 5] = ["and", "or", "not", "true", "false"];

const OPS: [&str; 16] = [
    ">=", "<=", "==", "!=", "+", "-", "*", "/", ">", "<", "=", "(", ")", "[", "]", ",",
];

/// Splits `text` into tokens, ending with [`Tok::Eof`].
///
/// # Errors
/// An unexpected character, or a number too large for an f64.
pub fn lex(text: &str) -> Checked<Vec<Token>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line, mut col) = (0usize, 1u32, 1u32);
    let mut depth = 0i64;
    while i < b.len() {
        let c = b[i];
        let pos = Pos { line, col };
        if c == b'\n' {
            if depth <= 0 {
                out.push(Token { tok: Tok::Sep, pos });
            }
            i += 1;
            line += 1;
            col = 1;
            continue;
        }
        if c == b' ' || c == b'\t' || c == b'\r' {
            i += 1;
            col += 1;
            continue;
        }
        if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += utf8_len(b[i]);
                col += 1;
            }
            continue;
        }
        let start = i;
        let tok = if c == b';' {
            i += 1;
            Tok::Sep
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            match &text[start..i] {
                "and" => Tok::And,
                "or" => Tok::Or,
                "not" => Tok::Not,
                "true" => Tok::True,
                "false" => Tok::False,
                _ => Tok::Name(start as u32, i as u32),
            }
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            i = number_end(b, i);
            let s = &text[start..i];
            let v: f64 = match s.parse() {
                Ok(v) => v,
                Err(_) => return at(pos, format!("'{s}' is not a number")),
            };
            if !v.is_finite() {
                return at(pos, format!("the number '{s}' is too large"));
            }
            Tok::Num(v)
        } else if let Some(op) = OPS.iter().find(|o| b[i..].starts_with(o.as_bytes())) {
            i += op.len();
            match *op {
                "(" | "[" => depth += 1,
                ")" | "]" => depth -= 1,
                _ => {}
            }
            Tok::Op(op)
        } else {
            let ch = text[i..].chars().next().expect("a character");
            return at(pos, format!("unexpected character '{ch}'"));
        };
        col += (i - start) as u32;
        out.push(Token { tok, pos });
    }
    out.push(Token {
        tok: Tok::Eof,
        pos: Pos { line, col },
    });
    Ok(out)
}

/// Digits, an optional fraction, an optional exponent.
fn number_end(b: &[u8], mut i: usize) -> usize {
    let digits = |i: &mut usize| {
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
    };
    digits(&mut i);
    if i < b.len() && b[i] == b'.' {
        i += 1;
        digits(&mut i);
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            i = j;
            digits(&mut i);
        }
    }
    i
}

/// Bytes in the UTF-8 character starting with `b` (comments may hold any text).
fn utf8_len(b: u8) -> usize {
    match b {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_places() {
        let t = lex("x = sma(close, 20) # c\n1.5e2;y").unwrap();
        let toks: Vec<_> = t.iter().map(|t| t.tok.clone()).collect();
        assert_eq!(toks[0], Tok::Name(0, 1));
        assert_eq!(toks[1], Tok::Op("="));
        assert_eq!(toks[8], Tok::Sep);
        assert_eq!(toks[9], Tok::Num(150.0));
        assert_eq!(t[9].pos, Pos { line: 2, col: 1 });
        assert_eq!(t[11].pos, Pos { line: 2, col: 7 });
        assert_eq!(toks.last(), Some(&Tok::Eof));
    }

    #[test]
    fn newline_inside_parentheses_continues() {
        let t = lex("sma(close,\n 20)").unwrap();
        assert!(!t.iter().any(|t| t.tok == Tok::Sep));
    }

    #[test]
    fn bad_character() {
        let e = lex("close $ 1").unwrap_err();
        assert_eq!(e.pos, Pos { line: 1, col: 7 });
        assert_eq!(e.what, "unexpected character '$'");
    }
}
