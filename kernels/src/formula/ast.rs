//! The parsed formula: expressions in an arena, children before their parents.
//!
//! Parsing appends an expression after its operands, so index order is a bottom-up
//! order: every pass after the parser walks the arena with a loop, never recursion,
//! however deep the tree (a 100,000-term sum is a 100,000-deep left spine).
use super::error::Pos;

pub type ExprId = u32;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    /// A comparison, as the plan computes it.
    Cmp(super::plan::Cmp),
    And,
    Or,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Num(f64),
    Bool(bool),
    /// A bar field, a function name used as a value, or an assigned name.
    Name(Box<str>),
    Call {
        name: Box<str>,
        args: Vec<ExprId>,
    },
    Neg(ExprId),
    Not(ExprId),
    Bin(BinOp, ExprId, ExprId),
    /// `x[n]`; `n` as written and where it is.
    Index(ExprId, f64, Pos),
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    /// Where the expression starts.
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub struct Stmt {
    /// `NAME = expr`: the name and where it is; `None` for a bare expression.
    pub name: Option<(Box<str>, Pos)>,
    pub expr: ExprId,
    /// The arena range of this statement's expressions.
    pub first: ExprId,
}

#[derive(Clone, Debug, Default)]
pub struct Ast {
    pub exprs: Vec<Expr>,
    pub stmts: Vec<Stmt>,
}
