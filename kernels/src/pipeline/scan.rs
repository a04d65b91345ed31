//! The scan sink: each symbol's ATC run to its last bar, keeping only the latest
//! `Average_Signal`, close and timestamp. Nothing per bar is kept.
use super::symbol::SymbolAtc;
use super::{keep_first_failure, Outcome, Progress, Stage};
use crate::atc::AtcParams;
use crate::error::Result;
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
}

pub struct ScanSink {
    atc: SymbolAtc,
    current: Option<Current>,
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
            outcomes: Vec::new(),
            progress,
        })
    }

    fn end_symbol(&mut self) {
        if let Some(c) = self.current.take() {
            self.outcomes.push(Outcome::classify(
                c.row.symbol.clone(),
                c.row.bars,
                self.atc.longest,
                c.failed,
                c.row,
            ));
            self.progress.symbols.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Ends the symbol in progress and starts `symbol`.
    fn begin(&mut self, symbol: &str) -> Result<()> {
        self.end_symbol();
        self.atc.begin()?;
        let row = ScanRow {
            symbol: symbol.to_string(),
            bars: 0,
            signal: f64::NAN,
            close: f64::NAN,
            ts: 0,
        };
        self.current = Some(Current { row, failed: None });
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
        self.end_symbol();
        Ok(())
    }
}
