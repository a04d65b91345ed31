//! The scan sink: each symbol's ATC run to its last bar, keeping only the latest
//! `Average_Signal`, close and timestamp. Nothing per bar is kept.
//!
//! A symbol whose bars arrive whole in one run waits, with up to [`W`]` - 1` others
//! like it, and they run together in one lane group ([`crate::atc::symbols`]); a symbol
//! that spans runs steps run by run with its carried state as before. Both give the
//! same values bit for bit, and outcomes keep the symbols' order.
use super::symbol::SymbolAtc;
use super::{keep_first_failure, Outcome, Progress, Stage};
use crate::atc::symbols::{lane_safe, run_group, W};
use crate::atc::{AtcParams, NCOL};
use crate::error::Result;
use crate::kernel::check_prices;
use crate::read::{RunSink, SymbolRun};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The latest state of one processed symbol.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanRow {
    pub symbol: String,
    pub bars: u64,
    pub signal: f64,
    pub close: f64,
    pub ts: i64,
}

impl super::Named for ScanRow {
    fn symbol(&self) -> &str {
        &self.symbol
    }
}

struct Current {
    row: ScanRow,
    failed: Option<(Stage, String)>,
    /// The closes of its one run so far, not yet through the ATC (`None` once it steps
    /// run by run).
    whole: Option<Vec<f64>>,
}

pub struct ScanSink {
    atc: SymbolAtc,
    current: Option<Current>,
    /// Whole symbols that ended, waiting to fill a lane group (in symbol order).
    waiting: Vec<Current>,
    /// A lane group's output columns, per member.
    group_out: Vec<Vec<f64>>,
    pub outcomes: Vec<Outcome<ScanRow>>,
    progress: Arc<Progress>,
}

impl ScanSink {
    /// # Errors
    /// `InvalidParam` naming the parameter.
    pub fn new(params: &AtcParams, progress: Arc<Progress>) -> Result<Self> {
        Ok(ScanSink {
            atc: SymbolAtc::new(params)?,
            current: None,
            waiting: Vec::new(),
            group_out: Vec::new(),
            outcomes: Vec::new(),
            progress,
        })
    }

    fn push_outcome(&mut self, c: Current) {
        self.outcomes.push(Outcome::classify(
            c.row.symbol.clone(),
            c.row.bars,
            self.atc.longest,
            c.failed,
            c.row,
        ));
        self.progress.symbols.fetch_add(1, Ordering::Relaxed);
    }

    /// Ends the symbol in progress: a whole one waits for a lane group; any other goes
    /// out after the waiting ones (outcomes stay in symbol order).
    fn end_symbol(&mut self) -> Result<()> {
        if let Some(c) = self.current.take() {
            if c.whole.is_some() && c.failed.is_none() {
                self.waiting.push(c);
                if self.waiting.len() == W {
                    self.flush()?;
                }
            } else {
                self.flush()?;
                self.push_outcome(c);
            }
        }
        Ok(())
    }

    /// Runs the waiting whole symbols, in one lane group those that can (checked prices
    /// at most `LANE_MAX`, enough bars to count), each other alone as a run-by-run symbol
    /// would; then their outcomes, in order.
    fn flush(&mut self) -> Result<()> {
        let mut waiting = std::mem::take(&mut self.waiting);
        let mut lanes = Vec::new();
        for (k, c) in waiting.iter_mut().enumerate() {
            let x = c.whole.as_deref().expect("whole");
            if let Err(e) = check_prices(x, 0, true) {
                c.failed = Some((Stage::Kernel, e.message));
            } else if c.row.bars >= self.atc.longest && lane_safe(x) {
                lanes.push(k);
            }
        }
        if lanes.len() < 2 {
            lanes.clear();
        }
        for (k, c) in waiting.iter_mut().enumerate() {
            if lanes.contains(&k) || c.failed.is_some() || c.row.bars < self.atc.longest {
                continue;
            }
            let x = c.whole.take().expect("whole");
            self.atc.begin()?;
            match self.atc.step(&x) {
                Ok(()) => c.row.signal = self.atc.outputs()[0][x.len() - 1],
                Err(e) => c.failed = Some((Stage::Kernel, e.message)),
            }
        }
        if !lanes.is_empty() {
            let xs: Vec<&[f64]> = lanes
                .iter()
                .map(|&k| waiting[k].whole.as_deref().expect("whole"))
                .collect();
            self.group_out.resize_with(lanes.len(), Vec::new);
            for (o, x) in self.group_out.iter_mut().zip(&xs) {
                o.resize(NCOL * x.len(), 0.0);
            }
            let mut cols: Vec<[&mut [f64]; NCOL]> = self
                .group_out
                .iter_mut()
                .zip(&xs)
                .map(|(o, x)| {
                    let mut it = o.chunks_mut(x.len());
                    std::array::from_fn(|_| it.next().expect("NCOL columns"))
                })
                .collect();
            let mut outs: Vec<&mut [&mut [f64]; NCOL]> = cols.iter_mut().collect();
            run_group(self.atc.params(), &xs, &mut outs);
            for (&k, o) in lanes.iter().zip(&self.group_out) {
                // `Average_Signal` (column 0) at the last bar.
                let n = waiting[k].whole.as_ref().expect("whole").len();
                waiting[k].row.signal = o[n - 1];
            }
        }
        for c in waiting {
            self.push_outcome(c);
        }
        Ok(())
    }

    /// Ends the symbol in progress and starts `symbol`.
    fn begin(&mut self, symbol: &str) -> Result<()> {
        self.end_symbol()?;
        let row = ScanRow {
            symbol: symbol.to_string(),
            bars: 0,
            signal: f64::NAN,
            close: f64::NAN,
            ts: 0,
        };
        self.current = Some(Current {
            row,
            failed: None,
            whole: None,
        });
        Ok(())
    }
}

impl RunSink for ScanSink {
    fn on_run(&mut self, run: &SymbolRun<'_>) -> Result<()> {
        if !run.continues {
            self.begin(run.symbol)?;
        }
        let n = run.ts.len();
        self.progress.bars.fetch_add(n as u64, Ordering::Relaxed);
        let cur = self.current.as_mut().expect("a run belongs to a symbol");
        cur.row.bars += n as u64;
        if cur.failed.is_some() {
            return Ok(());
        }
        let close = run.values[0];
        if !run.continues {
            // Its first run: it waits to see whether the symbol goes on in another run.
            cur.whole = Some(close.to_vec());
            cur.row.close = close[n - 1];
            cur.row.ts = run.ts[n - 1];
            return Ok(());
        }
        if let Some(first) = cur.whole.take() {
            // It spans runs: step it run by run from its first run on.
            self.atc.begin()?;
            if let Err(e) = self.atc.step(&first) {
                cur.failed = Some((Stage::Kernel, e.message));
                return Ok(());
            }
        }
        match self.atc.step(close) {
            Ok(()) => {
                cur.row.signal = self.atc.outputs()[0][n - 1];
                cur.row.close = close[n - 1];
                cur.row.ts = run.ts[n - 1];
            }
            Err(e) => cur.failed = Some((Stage::Kernel, e.message)),
        }
        Ok(())
    }

    /// The symbol fails at stage `input` (the first failure of a symbol is the one kept);
    /// its signal so far is dropped.
    fn fail_symbol(&mut self, symbol: &str, message: &str) -> Result<()> {
        if self.current.as_ref().is_none_or(|c| c.row.symbol != symbol) {
            self.begin(symbol)?;
        }
        let cur = self.current.as_mut().expect("begun");
        keep_first_failure(&mut cur.failed, Stage::Input, message);
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        self.end_symbol()?;
        self.flush()
    }
}
