//! A backtest symbol's carried state as bytes: everything needed to continue it bit for
//! bit later (`--update`): the strategy's kernel state, position, target, last close and
//! signal, the summary's running accumulators ([`super::perf::Perf`]), the trade book
//! (open trade and closed trades not yet written) and the signal rows still held back
//! while the symbol is short of the strategy's minimum. One row of
//! `OUT/_state/symbols/bucket=<k>/part-<g>.parquet` (`symbol, last_ts, bars, state`).
use super::backtest::{BacktestSink, Sym};
use super::perf::Perf;
use super::trades::TradeBook;
use super::writer::Col;
use crate::codec::{decode, encode};
use crate::error::{Error, Result};

const TAG: &str = "backtest-symbol";

/// The state table's columns.
pub const STATE_COLUMNS: [Col; 4] = [
    Col::text("symbol"),
    Col::timestamp("last_ts"),
    Col::bigint("bars"),
    Col::blob("state"),
];

/// One symbol's row of the state table.
#[derive(Clone, Debug, PartialEq)]
pub struct SymbolState {
    pub symbol: String,
    pub last_ts: i64,
    pub bars: u64,
    pub state: Vec<u8>,
}

impl BacktestSink {
    /// Continues these symbols from their saved states: a symbol read again resumes where
    /// it stopped, one without new bars is carried over as it was (its summary, open trade
    /// and state rows written again), in symbol order among the symbols read.
    pub fn carry(&mut self, states: impl IntoIterator<Item = SymbolState>) {
        self.prior
            .extend(states.into_iter().map(|s| (s.symbol.clone(), s)));
    }

    /// Ends the symbols carried over without new bars that sort before `upto` (all with
    /// `None`), so the tables keep symbol order.
    pub(super) fn carry_before(&mut self, upto: Option<&str>) -> Result<()> {
        let keys: Vec<String> = self
            .prior
            .keys()
            .take_while(|k| upto.is_none_or(|u| k.as_str() < u))
            .cloned()
            .collect();
        for k in keys {
            let st = self.prior.remove(&k).expect("listed");
            self.resume(&st)?;
        }
        Ok(())
    }

    /// The current symbol's state, or `None` when there is no symbol or it failed (a
    /// failed symbol has nothing to continue).
    ///
    /// # Errors
    /// `InvalidParam` when the strategy cannot save its state.
    pub fn save_symbol(&self) -> Result<Option<SymbolState>> {
        let Some(s) = self
            .sym
            .as_ref()
            .filter(|s| s.failed.is_none() && s.bars > 0)
        else {
            return Ok(None);
        };
        let strategy = self.strategy.save()?;
        let state = encode(TAG, |e| {
            e.u64(s.bars);
            e.u64(u64::from(s.flushed));
            e.f64(s.prev_close);
            e.f64(s.pos);
            e.f64(s.target);
            e.f64(s.last_signal);
            s.perf.save(e);
            s.book.save(e);
            e.blob(&strategy);
            e.usize(self.pending_ts.len());
            self.pending_ts.iter().for_each(|&t| e.i64(t));
            self.pending.iter().for_each(|c| e.f64s(c));
        });
        Ok(Some(SymbolState {
            symbol: s.symbol.clone(),
            last_ts: s.perf.last_ts(),
            bars: s.bars,
            state,
        }))
    }

    /// Ends the current symbol and continues `st`'s symbol where it stopped; its next
    /// run must come with `continues` true.
    ///
    /// # Errors
    /// `InvalidParam` when the bytes are not a backtest state of this strategy and its
    /// parameters (naming the symbol).
    pub fn resume(&mut self, st: &SymbolState) -> Result<()> {
        self.end_symbol()?;
        let named = |e: Error| Error::param(format!("saved state of {}: {}", st.symbol, e.message));
        let ncols = self.pending.len();
        let (mut sym, strategy, pending_ts, pending) = decode(&st.state, TAG, |d| {
            let mut sym = Sym::new(&st.symbol, self.opts.budget.clock());
            sym.bars = d.u64()?;
            sym.flushed = d.u64()? == 1;
            sym.prev_close = d.f64()?;
            sym.pos = d.f64()?;
            sym.target = d.f64()?;
            sym.last_signal = d.f64()?;
            sym.perf = Perf::load(d)?;
            sym.book = TradeBook::load(d)?;
            let strategy = d.blob()?.to_vec();
            let n = d.usize()?;
            let ts = (0..n).map(|_| d.i64()).collect::<Result<Vec<_>>>()?;
            let pending = (0..ncols).map(|_| d.f64s(n)).collect::<Result<Vec<_>>>()?;
            Ok((sym, strategy, ts, pending))
        })
        .map_err(named)?;
        self.strategy.restore(&strategy).map_err(named)?;
        sym.clock = self.opts.budget.clock();
        self.pending_ts = pending_ts;
        self.pending = pending;
        self.sym = Some(sym);
        Ok(())
    }
}
