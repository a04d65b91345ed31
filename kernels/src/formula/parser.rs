//! Hand-written recursive descent over the grammar of the spec, with an explicit depth
//! limit: parentheses, calls and brackets nest at most [`MAX_DEPTH`] levels, so parsing
//! never needs more than a small, fixed stack. Chains of `+`, `and`, unary `-` and
//! `not` are loops, not recursion.
use super::ast::{Ast, BinOp, Expr, ExprId, ExprKind, Stmt};
use super::error::{at, Checked, Pos};
use super::lexer::{lex, Tok, Token};
use super::plan::Cmp;

/// How deep parentheses, calls and brackets may nest.
pub const MAX_DEPTH: usize = 100;
/// The longest formula text, in bytes.
pub const MAX_TEXT: usize = 4 << 20;

struct Parser<'a> {
    text: &'a str,
    toks: Vec<Token>,
    at: usize,
    depth: usize,
    ast: Ast,
}

/// Parses `text` into statements.
///
/// # Errors
/// A syntax error at its place, saying what was expected.
pub fn parse(text: &str) -> Checked<Ast> {
    if text.len() > MAX_TEXT {
        return at(
            Pos { line: 1, col: 1 },
            format!(
                "the formula is too long: {} characters, at most {MAX_TEXT}",
                text.chars().count()
            ),
        );
    }
    let toks = lex(text)?;
    let mut p = Parser {
        text,
        toks,
        at: 0,
        depth: 0,
        ast: Ast::default(),
    };
    p.formula()?;
    Ok(p.ast)
}

/// How a token reads in "expected X, got Y".
fn describe(text: &str, t: &Tok) -> String {
    match t {
        Tok::Num(_) => "a number".into(),
        Tok::Name(a, b) => format!("'{}'", &text[*a as usize..*b as usize]),
        Tok::And => "'and'".into(),
        Tok::Or => "'or'".into(),
        Tok::Not => "'not'".into(),
        Tok::True => "'true'".into(),
        Tok::False => "'false'".into(),
        Tok::Op(o) => format!("'{o}'"),
        Tok::Sep => "end of line".into(),
        Tok::Eof => "end of formula".into(),
    }
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.at].tok
    }
    fn pos(&self) -> Pos {
        self.toks[self.at].pos
    }
    fn next(&mut self) -> Token {
        let t = self.toks[self.at].clone();
        if t.tok != Tok::Eof {
            self.at += 1;
        }
        t
    }
    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }
    fn expected<T>(&self, what: &str) -> Checked<T> {
        at(
            self.pos(),
            format!("expected {what}, got {}", describe(self.text, self.peek())),
        )
    }
    fn expect_op(&mut self, op: &str) -> Checked<()> {
        if self.is_op(op) {
            self.next();
            Ok(())
        } else {
            self.expected(&format!("'{op}'"))
        }
    }
    fn push(&mut self, kind: ExprKind, pos: Pos) -> ExprId {
        self.ast.exprs.push(Expr { kind, pos });
        (self.ast.exprs.len() - 1) as ExprId
    }
    fn deeper(&mut self) -> Checked<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return at(
                self.pos(),
                format!(
                    "the formula is nested too deep: at most {MAX_DEPTH} levels of \
                     parentheses, calls and brackets"
                ),
            );
        }
        Ok(())
    }

    fn formula(&mut self) -> Checked<()> {
        loop {
            while *self.peek() == Tok::Sep {
                self.next();
            }
            if *self.peek() == Tok::Eof {
                return Ok(());
            }
            self.statement()?;
            match self.peek() {
                Tok::Sep | Tok::Eof => {}
                Tok::Op("=") => return at(
                    self.pos(),
                    "expected an operator or the end of the statement, got '=': compare with '=='",
                ),
                _ => return self.expected("an operator or the end of the statement"),
            }
        }
    }

    fn statement(&mut self) -> Checked<()> {
        let first = self.ast.exprs.len() as ExprId;
        let pos = self.pos();
        let assigns = matches!(self.toks.get(self.at + 1), Some(t) if t.tok == Tok::Op("="));
        let name = match self.peek().clone() {
            Tok::Name(a, b) if assigns => {
                self.next();
                self.next();
                Some((self.text[a as usize..b as usize].into(), pos))
            }
            t @ (Tok::And | Tok::Or | Tok::Not | Tok::True | Tok::False) if assigns => {
                let word = describe(self.text, &t);
                return at(pos, format!("cannot assign {word}: it is a reserved word"));
            }
            _ => None,
        };
        let expr = self.expr()?;
        self.ast.stmts.push(Stmt { name, expr, first });
        Ok(())
    }

    fn expr(&mut self) -> Checked<ExprId> {
        self.deeper()?;
        let e = self.or();
        self.depth -= 1;
        e
    }

    fn or(&mut self) -> Checked<ExprId> {
        let mut a = self.and()?;
        while *self.peek() == Tok::Or {
            self.next();
            let b = self.and()?;
            a = self.bin(BinOp::Or, a, b);
        }
        Ok(a)
    }

    fn and(&mut self) -> Checked<ExprId> {
        let mut a = self.not()?;
        while *self.peek() == Tok::And {
            self.next();
            let b = self.not()?;
            a = self.bin(BinOp::And, a, b);
        }
        Ok(a)
    }

    fn not(&mut self) -> Checked<ExprId> {
        let mut nots = Vec::new();
        while *self.peek() == Tok::Not {
            nots.push(self.next().pos);
        }
        let mut e = self.compare()?;
        for pos in nots.into_iter().rev() {
            e = self.push(ExprKind::Not(e), pos);
        }
        Ok(e)
    }

    fn compare_op(&self) -> Option<BinOp> {
        match self.peek() {
            Tok::Op(">") => Some(BinOp::Cmp(Cmp::Gt)),
            Tok::Op(">=") => Some(BinOp::Cmp(Cmp::Ge)),
            Tok::Op("<") => Some(BinOp::Cmp(Cmp::Lt)),
            Tok::Op("<=") => Some(BinOp::Cmp(Cmp::Le)),
            Tok::Op("==") => Some(BinOp::Cmp(Cmp::Eq)),
            Tok::Op("!=") => Some(BinOp::Cmp(Cmp::Ne)),
            _ => None,
        }
    }

    fn compare(&mut self) -> Checked<ExprId> {
        let a = self.sum()?;
        let Some(op) = self.compare_op() else {
            return Ok(a);
        };
        self.next();
        let b = self.sum()?;
        if self.compare_op().is_some() {
            return at(
                self.pos(),
                "comparisons cannot be chained: join them with 'and', e.g. a < b and b < c",
            );
        }
        Ok(self.bin(op, a, b))
    }

    fn sum(&mut self) -> Checked<ExprId> {
        let mut a = self.product()?;
        loop {
            let op = match self.peek() {
                Tok::Op("+") => BinOp::Add,
                Tok::Op("-") => BinOp::Sub,
                _ => return Ok(a),
            };
            self.next();
            let b = self.product()?;
            a = self.bin(op, a, b);
        }
    }

    fn product(&mut self) -> Checked<ExprId> {
        let mut a = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Op("*") => BinOp::Mul,
                Tok::Op("/") => BinOp::Div,
                _ => return Ok(a),
            };
            self.next();
            let b = self.unary()?;
            a = self.bin(op, a, b);
        }
    }

    fn unary(&mut self) -> Checked<ExprId> {
        let mut negs = Vec::new();
        while self.is_op("-") {
            negs.push(self.next().pos);
        }
        let mut e = self.postfix()?;
        for pos in negs.into_iter().rev() {
            e = self.push(ExprKind::Neg(e), pos);
        }
        Ok(e)
    }

    fn postfix(&mut self) -> Checked<ExprId> {
        let mut e = self.primary()?;
        while self.is_op("[") {
            self.next();
            let pos = self.pos();
            let Tok::Num(n) = *self.peek() else {
                return self.expected("a whole number of bars inside [ ], e.g. close[1]");
            };
            self.next();
            self.expect_op("]")?;
            let start = self.ast.exprs[e as usize].pos;
            e = self.push(ExprKind::Index(e, n, pos), start);
        }
        Ok(e)
    }

    fn primary(&mut self) -> Checked<ExprId> {
        let t = self.next();
        let pos = t.pos;
        match t.tok {
            Tok::Num(v) => Ok(self.push(ExprKind::Num(v), pos)),
            Tok::True => Ok(self.push(ExprKind::Bool(true), pos)),
            Tok::False => Ok(self.push(ExprKind::Bool(false), pos)),
            Tok::Name(a, b) => {
                let name: Box<str> = self.text[a as usize..b as usize].into();
                if !self.is_op("(") {
                    return Ok(self.push(ExprKind::Name(name), pos));
                }
                self.next();
                let mut args = Vec::new();
                if !self.is_op(")") {
                    loop {
                        args.push(self.expr()?);
                        if self.is_op(",") {
                            self.next();
                        } else {
                            break;
                        }
                    }
                }
                if !self.is_op(")") {
                    return self.expected("',' or ')'");
                }
                self.next();
                Ok(self.push(ExprKind::Call { name, args }, pos))
            }
            Tok::Op("(") => {
                let e = self.expr()?;
                self.expect_op(")")?;
                Ok(e)
            }
            other => {
                self.at -= usize::from(other != Tok::Eof);
                self.expected("a number, a name or '('")
            }
        }
    }

    fn bin(&mut self, op: BinOp, a: ExprId, b: ExprId) -> ExprId {
        let pos = self.ast.exprs[a as usize].pos;
        self.push(ExprKind::Bin(op, a, b), pos)
    }
}
