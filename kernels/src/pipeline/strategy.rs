//! What a backtest runs per symbol: a [`Strategy`] turns each run of bars into its own
//! per-bar output columns and a target position per bar. Everything after that
//! (positions one bar late, returns, fees, equity, summary, trades) is the backtest
//! sink's, the same for every strategy.
use super::symbol::{Primed, SymbolAtc};
use super::writer::Col;
use super::Stage;
use crate::atc::{AtcParams, NCOL};
use crate::codec::{decode, encode};
use crate::error::{Error, ErrorCode, Result};
use crate::formula::{Evaluator, Field, Formula, Kind};
use std::sync::Arc;

/// One strategy, fed one symbol at a time.
pub trait Strategy: Send {
    /// The value columns the partition SQL must return (after `symbol, ts`), `close` among them.
    fn inputs(&self) -> &[String];
    /// The per-bar DOUBLE columns written between `close` and `position`.
    fn columns(&self) -> &[Col];
    /// A symbol with fewer bars is skipped.
    fn min_bars(&self) -> u64;
    /// Why a symbol of `bars` bars is skipped.
    fn skip_reason(&self, bars: u64) -> String;
    /// The stage a failure of [`Strategy::step`] is reported at.
    fn stage(&self) -> Stage;
    /// Starts a new symbol.
    fn begin(&mut self) -> Result<()>;
    /// Continues the symbol with `values` (one slice per input, same length n); afterwards
    /// [`Strategy::outputs`] and [`Strategy::targets`] hold exactly these n bars.
    fn step(&mut self, values: &[&[f64]]) -> Result<()>;
    /// The per-bar columns of the last step, in [`Strategy::columns`] order.
    fn outputs(&self) -> Vec<&[f64]>;
    /// The target position after each bar of the last step: +1, -1 or 0.
    fn targets(&self) -> &[f64];
    /// The summary's `last_signal` after the last step.
    fn last_signal(&self) -> f64;
    /// The current symbol's carried state, to continue it later with [`Strategy::restore`].
    ///
    /// # Errors
    /// `InvalidParam` when this strategy cannot save its state.
    fn save(&self) -> Result<Vec<u8>>;
    /// Continues a symbol from [`Strategy::save`]'s bytes instead of [`Strategy::begin`].
    ///
    /// # Errors
    /// `InvalidParam` when the bytes are not a state of this strategy and its parameters.
    fn restore(&mut self, bytes: &[u8]) -> Result<()>;
    /// The ATC parameters when this strategy is the ATC over its first input (its symbols
    /// may then be computed ahead in lane groups: see [`super::lanes`]).
    fn atc_params(&self) -> Option<&AtcParams> {
        None
    }
    /// Gives the next symbol begun its outputs computed ahead (see [`SymbolAtc::prime`]);
    /// only called when [`Strategy::atc_params`] is some.
    fn prime(&mut self, p: Primed) {
        let _ = p;
    }
    /// Drops a prime no symbol took.
    fn unprime(&mut self) {}
    /// The compute time per bar of the current symbol when it was computed ahead, else 0.
    fn primed_ns_per_bar(&self) -> f64 {
        0.0
    }
}

const ATC_TAG: &str = "backtest-atc";
const FORMULA_TAG: &str = "backtest-formula";

/// The ATC's per-bar columns in the `signals` table.
pub const ATC_COLUMNS: [Col; NCOL] = [
    Col::double("average_signal"),
    Col::double("ema_signal"),
    Col::double("hma_signal"),
    Col::double("wma_signal"),
    Col::double("dema_signal"),
    Col::double("lsma_signal"),
    Col::double("kama_signal"),
    Col::double("ema_s"),
    Col::double("hma_s"),
    Col::double("wma_s"),
    Col::double("dema_s"),
    Col::double("lsma_s"),
    Col::double("kama_s"),
    Col::double("event"),
];

/// The ATC: an event > 0 targets long, < 0 short, otherwise the target stays.
pub struct AtcStrategy {
    atc: SymbolAtc,
    inputs: Vec<String>,
    columns: Vec<Col>,
    target: f64,
    targets: Vec<f64>,
}

impl AtcStrategy {
    /// # Errors
    /// `InvalidParam` naming the parameter.
    pub fn new(params: &AtcParams) -> Result<Self> {
        Ok(AtcStrategy {
            atc: SymbolAtc::new(params)?,
            inputs: vec!["close".to_string()],
            columns: ATC_COLUMNS.to_vec(),
            target: 0.0,
            targets: Vec::new(),
        })
    }
}

impl Strategy for AtcStrategy {
    fn inputs(&self) -> &[String] {
        &self.inputs
    }
    fn columns(&self) -> &[Col] {
        &self.columns
    }
    fn min_bars(&self) -> u64 {
        self.atc.longest
    }
    fn skip_reason(&self, bars: u64) -> String {
        format!(
            "{bars} bars, fewer than the longest MA length {}",
            self.atc.longest
        )
    }
    fn stage(&self) -> Stage {
        Stage::Kernel
    }
    fn begin(&mut self) -> Result<()> {
        self.target = 0.0;
        self.atc.begin()
    }
    fn step(&mut self, values: &[&[f64]]) -> Result<()> {
        self.atc.step(values[0])?;
        let event = self.atc.outputs()[NCOL - 1];
        self.targets.clear();
        for &e in event {
            if e > 0.0 {
                self.target = 1.0;
            } else if e < 0.0 {
                self.target = -1.0;
            }
            self.targets.push(self.target);
        }
        Ok(())
    }
    fn outputs(&self) -> Vec<&[f64]> {
        self.atc.outputs().to_vec()
    }
    fn targets(&self) -> &[f64] {
        &self.targets
    }
    fn last_signal(&self) -> f64 {
        self.atc.outputs()[0].last().copied().unwrap_or(f64::NAN)
    }
    fn save(&self) -> Result<Vec<u8>> {
        Ok(encode(ATC_TAG, |e| {
            e.f64(self.target);
            e.blob(&self.atc.save());
        }))
    }
    fn restore(&mut self, bytes: &[u8]) -> Result<()> {
        let (target, atc) = decode(bytes, ATC_TAG, |d| Ok((d.f64()?, d.blob()?.to_vec())))?;
        self.atc.restore(&atc)?;
        self.target = target;
        Ok(())
    }
    fn atc_params(&self) -> Option<&AtcParams> {
        Some(self.atc.params())
    }
    fn prime(&mut self, p: Primed) {
        self.atc.prime(p);
    }
    fn unprime(&mut self) {
        self.atc.unprime();
    }
    fn primed_ns_per_bar(&self) -> f64 {
        self.atc.primed_ns_per_bar()
    }
}

/// A strategy formula (`entry`, `exit`, `short_entry`, `short_exit`): the target `T`
/// (start 0) moves at each bar by the spec's rule, NaN counting as not true:
/// 1. `entry` and not `exit` and not `short_entry`: `T = +1`;
/// 2. else `short_entry` and not `short_exit` and not `entry`: `T = -1`;
/// 3. else if `T = +1` and `exit`, or `T = -1` and `short_exit`: `T = 0`;
/// 4. else `T` is unchanged.
///
/// Its per-bar columns are the formula's named values (the rules among them).
pub struct FormulaStrategy {
    formula: Arc<Formula>,
    ev: Option<Evaluator>,
    inputs: Vec<String>,
    /// Where each of the formula's fields is among `inputs`.
    field_at: Vec<usize>,
    columns: Vec<Col>,
    target: f64,
    targets: Vec<f64>,
}

/// The columns a backtest writes itself: a formula may not assign them.
pub const RESERVED: [&str; 5] = ["symbol", "ts", "position", "strategy_return", "equity"];

impl FormulaStrategy {
    /// # Errors
    /// `InvalidFormula` when the formula is not a strategy or assigns a name the backtest
    /// writes itself.
    pub fn new(formula: &Arc<Formula>) -> Result<Self> {
        if formula.kind != Kind::Strategy {
            return Err(Error::new(
                ErrorCode::InvalidFormula,
                format!(
                    "a backtest needs a strategy formula (one that assigns entry, e.g. entry = crosses_above(close, sma(close, 20))), got a {}",
                    formula.kind.as_str()
                ),
            ));
        }
        if let Some(n) = formula
            .names
            .iter()
            .find(|n| RESERVED.contains(&n.as_str()))
        {
            return Err(Error::new(
                ErrorCode::InvalidFormula,
                format!("the formula assigns '{n}', a column the backtest writes itself ({}): choose another name", RESERVED.join(", ")),
            ));
        }
        let inputs: Vec<Field> = Field::ALL
            .into_iter()
            .filter(|f| *f == Field::Close || formula.fields.contains(f))
            .collect();
        Ok(FormulaStrategy {
            field_at: formula
                .fields
                .iter()
                .map(|f| inputs.iter().position(|i| i == f).expect("an input"))
                .collect(),
            inputs: inputs.iter().map(|f| f.as_str().to_string()).collect(),
            columns: formula
                .names
                .iter()
                .map(|n| Col::Double(n.clone().into()))
                .collect(),
            formula: formula.clone(),
            ev: None,
            target: 0.0,
            targets: Vec::new(),
        })
    }
}

/// Exactly true (NaN and 0 are not).
fn yes(x: Option<&[f64]>, i: usize) -> bool {
    x.is_some_and(|v| v[i] == 1.0)
}

impl Strategy for FormulaStrategy {
    fn inputs(&self) -> &[String] {
        &self.inputs
    }
    fn columns(&self) -> &[Col] {
        &self.columns
    }
    fn min_bars(&self) -> u64 {
        self.formula.warmup + 1
    }
    fn skip_reason(&self, bars: u64) -> String {
        format!(
            "{bars} bars, the formula needs at least {}",
            self.formula.warmup + 1
        )
    }
    fn stage(&self) -> Stage {
        Stage::Formula
    }
    fn begin(&mut self) -> Result<()> {
        self.target = 0.0;
        self.ev = Some(Evaluator::new(&self.formula));
        Ok(())
    }
    fn step(&mut self, values: &[&[f64]]) -> Result<()> {
        let bars: Vec<&[f64]> = self.field_at.iter().map(|&k| values[k]).collect();
        let ev = self.ev.as_mut().expect("begin() before step()");
        if let Err(e) = ev.push(&bars) {
            // A failed evaluator is not used again.
            self.ev = None;
            return Err(e);
        }
        let ev = self.ev.as_ref().expect("evaluator");
        let [entry, exit, short_entry, short_exit] =
            self.formula.rules().map(|r| r.map(|i| ev.named(i)));
        self.targets.clear();
        for i in 0..values[0].len() {
            let (en, ex) = (yes(entry, i), yes(exit, i));
            let (sen, sex) = (yes(short_entry, i), yes(short_exit, i));
            if en && !ex && !sen {
                self.target = 1.0;
            } else if sen && !sex && !en {
                self.target = -1.0;
            } else if (self.target == 1.0 && ex) || (self.target == -1.0 && sex) {
                self.target = 0.0;
            }
            self.targets.push(self.target);
        }
        Ok(())
    }
    fn outputs(&self) -> Vec<&[f64]> {
        let ev = self.ev.as_ref().expect("a stepped evaluator");
        (0..self.formula.names.len()).map(|i| ev.named(i)).collect()
    }
    fn targets(&self) -> &[f64] {
        &self.targets
    }
    /// The target after the last bar (the position of the next bar, before long-only).
    fn last_signal(&self) -> f64 {
        self.target
    }
    fn save(&self) -> Result<Vec<u8>> {
        let ev = self
            .ev
            .as_ref()
            .ok_or_else(|| Error::param("no formula symbol to save"))?;
        Ok(encode(FORMULA_TAG, |e| {
            e.f64(self.target);
            e.blob(&ev.state());
        }))
    }
    fn restore(&mut self, bytes: &[u8]) -> Result<()> {
        let (target, ev) = decode(bytes, FORMULA_TAG, |d| Ok((d.f64()?, d.blob()?.to_vec())))?;
        self.ev = Some(Evaluator::from_state(&self.formula, &ev)?);
        self.target = target;
        Ok(())
    }
}

/// Which strategy a backtest runs; builds one per partition.
#[derive(Clone, Debug)]
pub enum StrategySpec {
    Atc(AtcParams),
    Formula(Arc<Formula>),
}

impl StrategySpec {
    /// # Errors
    /// `InvalidParam` naming the parameter; `InvalidFormula` for a formula that is not a
    /// strategy.
    pub fn build(&self) -> Result<Box<dyn Strategy>> {
        Ok(match self {
            StrategySpec::Atc(p) => Box::new(AtcStrategy::new(p)?),
            StrategySpec::Formula(f) => Box::new(FormulaStrategy::new(f)?),
        })
    }
}
