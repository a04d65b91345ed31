//! The scan sink: each symbol's ATC run to its last bar, keeping only the latest
//! `Average_Signal`, close and timestamp. Nothing per bar is kept.
//!
//! With a [`StateOut`], every symbol that did not fail (the skipped too: they may reach the
//! longest MA later) saves its carried state (the ATC's and its latest row) as a row of
//! `_state/symbols/bucket=<k>/part-<g>.parquet`; a sink given the previous run's states
//! ([`ScanSink::carry`]) continues each symbol from its state, bit for bit (`--update`).
use super::carry::{push_state, states_table, Carried, Prior, StateOut};
use super::symbol::SymbolAtc;
use super::symbol_state::SymbolState;
use super::writer::ResultTable;
use super::{keep_first_failure, Outcome, Progress, Stage};
use crate::atc::AtcParams;
use crate::codec::{decode, encode};
use crate::error::{Error, Result};
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

const TAG: &str = "scan-symbol";

pub struct ScanSink {
    pub(super) atc: SymbolAtc,
    current: Option<Current>,
    pub outcomes: Vec<Outcome<ScanRow>>,
    progress: Arc<Progress>,
    /// The previous run's symbols of this partition (`--update`).
    pub(super) carried: Carried,
    /// Symbols failed in the previous run, of any partition: failed again when read.
    pub(super) kept_failed: Arc<std::collections::BTreeMap<String, (Stage, String)>>,
    /// Where each symbol's state goes, with the bucket's table once created.
    pub(super) states: Option<(StateOut, u32, Option<ResultTable>)>,
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
            carried: Carried::default(),
            kept_failed: Arc::default(),
            states: None,
        })
    }

    /// Saves every symbol's state as a row of bucket `bucket`'s state file under `to`.
    pub fn saving(mut self, to: StateOut, bucket: u32) -> Self {
        self.states = Some((to, bucket, None));
        self
    }

    /// Continues these symbols from the previous run: a symbol read again resumes from its
    /// state, one without new bars is ended as it was, a failed one stays failed with its
    /// error (its new bars are not computed), all in symbol order among those read.
    pub fn carry(
        &mut self,
        states: impl IntoIterator<Item = SymbolState>,
        failed: impl IntoIterator<Item = (String, Stage, String)>,
    ) {
        self.carried.extend(states, failed);
    }

    /// The current symbol's state, or `None` when there is none or it failed.
    pub fn save_symbol(&self) -> Option<SymbolState> {
        let c = self.current.as_ref().filter(|c| c.failed.is_none())?;
        let r = &c.row;
        let atc = self.atc.save();
        let state = encode(TAG, |e| {
            e.u64(r.bars);
            e.f64(r.signal);
            e.f64(r.close);
            e.i64(r.ts);
            e.blob(&atc);
        });
        Some(SymbolState {
            symbol: r.symbol.clone(),
            last_ts: r.ts,
            bars: r.bars,
            state,
        })
    }

    /// Ends the current symbol and continues `st`'s symbol where it stopped; its next run
    /// must come with `continues` true.
    ///
    /// # Errors
    /// `InvalidParam` when the bytes are not a scan state of these parameters (naming the
    /// symbol).
    pub fn resume(&mut self, st: &SymbolState) -> Result<()> {
        self.end_symbol()?;
        let named = |e: Error| Error::param(format!("saved state of {}: {}", st.symbol, e.message));
        let (row, atc) = decode(&st.state, TAG, |d| {
            let row = ScanRow {
                symbol: st.symbol.clone(),
                bars: d.u64()?,
                signal: d.f64()?,
                close: d.f64()?,
                ts: d.i64()?,
            };
            Ok((row, d.blob()?.to_vec()))
        })
        .map_err(named)?;
        self.atc.restore(&atc).map_err(named)?;
        self.current = Some(Current { row, failed: None });
        Ok(())
    }

    /// Starts `symbol` as the previous run left it (see [`ScanSink::carry`]), or afresh.
    fn start(&mut self, symbol: &str) -> Result<()> {
        match self.carried.take(symbol)? {
            Some(p) => self.restart(symbol, &p),
            None => match self.kept_failed.get(symbol) {
                Some((stage, m)) => self.restart(symbol, &Prior::Failed(*stage, m.clone())),
                None => self.begin(symbol),
            },
        }
    }

    fn restart(&mut self, symbol: &str, prior: &Prior) -> Result<()> {
        match prior {
            Prior::State(st) => self.resume(st),
            Prior::Failed(stage, message) => {
                self.begin(symbol)?;
                let cur = self.current.as_mut().expect("begun");
                cur.failed = Some((*stage, message.clone()));
                Ok(())
            }
        }
    }

    /// Ends the carried symbols without new bars that sort before `upto` (all with `None`).
    fn carry_before(&mut self, upto: Option<&str>) -> Result<()> {
        for (symbol, prior) in self.carried.before(upto)? {
            self.restart(&symbol, &prior)?;
        }
        Ok(())
    }

    fn end_symbol(&mut self) -> Result<()> {
        let saved = match self.states {
            Some(_) => self.save_symbol(),
            None => None,
        };
        if let (Some(st), Some((to, k, table))) = (saved, &mut self.states) {
            push_state(table.get_or_insert_with(|| states_table(to, *k)), &st)?;
        }
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
        Ok(())
    }

    /// Ends the symbol in progress and starts `symbol`.
    fn begin(&mut self, symbol: &str) -> Result<()> {
        self.end_symbol()?;
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
            self.carry_before(Some(run.symbol))?;
            self.start(run.symbol)?;
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
            self.carry_before(Some(symbol))?;
            self.start(symbol)?;
        }
        let cur = self.current.as_mut().expect("begun");
        keep_first_failure(&mut cur.failed, Stage::Input, message);
        Ok(())
    }

    /// Ends the carried symbols left, then writes the bucket's state file (if saving).
    fn finish(&mut self) -> Result<()> {
        self.carry_before(None)?;
        self.end_symbol()?;
        if let Some((to, k, table)) = &mut self.states {
            let t = table.take().unwrap_or_else(|| states_table(to, *k));
            t.write_parquet()?;
        }
        Ok(())
    }
}
