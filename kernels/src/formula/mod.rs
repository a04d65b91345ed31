//! Formulas: the language of `shared/docs/formula-spec.md`, compiled once and evaluated
//! per symbol, column at a time, resumable bar for bar.
//!
//! - [`lexer`], [`parser`] (recursive descent with a depth limit) -> [`ast`] (an arena);
//! - [`check`]: names, types, literal arguments and the warm-up `W`, building the
//!   [`plan`] (one node per distinct subexpression) through [`lower`] and the
//!   [`functions`] table;
//! - [`eval`]: the [`Evaluator`], blocks of bars through the nodes in order, with the
//!   operators of [`elementwise`], the bar-based state of [`bars`], and the kernels of
//!   [`stateful`] behind the skip rule of [`skip`]; [`state`] saves and restores it;
//! - [`error`]: the three-line compile errors and their wording.
pub mod ast;
pub mod bars;
pub mod check;
pub mod elementwise;
pub mod error;
pub mod eval;
pub mod functions;
pub mod lexer;
pub mod lower;
pub mod parser;
pub mod plan;
pub mod skip;
pub mod state;
pub mod stateful;

pub use check::Kind;
pub use error::Pos;
pub use eval::Evaluator;
pub use plan::Field;

use crate::Result;
use plan::Plan;

/// A compiled formula. `Send + Sync`: share it by `Arc` between evaluators.
#[derive(Clone, Debug)]
pub struct Formula {
    pub text: String,
    pub kind: Kind,
    /// Bar fields read, in [`Field::ALL`] order (`hl2` reads high and low; `tr`, `atr`
    /// and `stoch_*` read high, low and close). A formula naming none reads close.
    pub fields: Vec<Field>,
    /// Assigned names, in the order assigned.
    pub names: Vec<String>,
    /// The warm-up `W` of the spec (for a strategy, the largest of its rules).
    pub warmup: u64,
    rules: [Option<usize>; 4],
    value_pos: Option<Pos>,
    pub(crate) plan: Plan,
    /// A hash of the text, written into saved states.
    pub(crate) id: u64,
}

impl Formula {
    /// Parses and checks `text`.
    ///
    /// # Errors
    /// `InvalidFormula` with the three-line message of [`error`].
    pub fn compile(text: &str) -> Result<Formula> {
        let ast = parser::parse(text).map_err(|e| error::render(text, &e))?;
        let c = check::check(text, &ast).map_err(|e| error::render(text, &e))?;
        Ok(Formula {
            text: text.to_string(),
            kind: c.kind,
            fields: c.plan.fields.clone(),
            names: c.names,
            warmup: c.warmup,
            rules: c.rules,
            value_pos: c.value_pos,
            plan: c.plan,
            id: text_id(text),
        })
    }

    /// Indices in `names` of `entry`, `exit`, `short_entry`, `short_exit` (a strategy
    /// always has `entry`; other kinds have none).
    pub fn rules(&self) -> [Option<usize>; 4] {
        self.rules
    }

    /// Nodes of the plan (each distinct subexpression once): for tests and diagnostics.
    pub fn node_count(&self) -> usize {
        self.plan.ops.len()
    }

    /// Ok for a condition; for a number or a strategy, the `InvalidFormula` error a
    /// screen gives ("a screen needs a condition, got a number"), at the final expression.
    ///
    /// # Errors
    /// As above.
    pub fn require_condition(&self) -> Result<()> {
        match (self.kind, self.value_pos) {
            (Kind::Condition, _) => Ok(()),
            (_, Some(pos)) => Err(error::not_a_condition(&self.text, pos)),
            (_, None) => Err(error::render(
                &self.text,
                &error::Located {
                    pos: Pos { line: 1, col: 1 },
                    what: "a screen needs a condition as the formula's value, got a strategy"
                        .into(),
                },
            )),
        }
    }
}

/// The first 8 bytes of the SHA-256 of `text`.
fn text_id(text: &str) -> u64 {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(text.as_bytes());
    u64::from_le_bytes(h[..8].try_into().expect("8 bytes"))
}
