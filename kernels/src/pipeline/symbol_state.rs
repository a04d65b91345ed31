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
use crate::duck::ffi::{
    DUCKDB_TYPE_BIGINT, DUCKDB_TYPE_BLOB, DUCKDB_TYPE_TIMESTAMP, DUCKDB_TYPE_VARCHAR,
};
use crate::duck::{sql_literal, Database};
use crate::error::{Error, Result};
use std::collections::BTreeMap;

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

    /// Ends the symbols carried over without new bars (and those kept failed) that sort
    /// before `upto` (all with `None`), so the tables keep symbol order.
    pub(super) fn carry_before(&mut self, upto: Option<&str>) -> Result<()> {
        let before =
            |k: Option<&String>| k.filter(|k| upto.is_none_or(|u| k.as_str() < u)).cloned();
        loop {
            let state = before(self.prior.keys().next());
            let failed = before(self.prior_failed.keys().next());
            match (state, failed) {
                (Some(s), f) if f.as_ref().is_none_or(|f| s < *f) => {
                    let st = self.prior.remove(&s).expect("listed");
                    self.resume(&st)?;
                }
                (_, Some(f)) => {
                    let failure = self.prior_failed.remove(&f).expect("listed");
                    self.keep_failed(&f, failure)?;
                }
                _ => return Ok(()),
            }
        }
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
        sym.since = st.last_ts;
        self.sym = Some(sym);
        Ok(())
    }
}

/// Reads the state tables `files` (`symbol, last_ts, bars, state`) back: one state per
/// symbol, in symbol order; a symbol in several files takes its row of the last file
/// given (a later generation's part wins).
///
/// # Errors
/// A file DuckDB cannot read, one without these columns (named), or a NULL in them.
pub fn read_states(db: &Database, files: &[String]) -> Result<Vec<SymbolState>> {
    let conn = db.connect()?;
    let mut by_symbol = BTreeMap::new();
    for file in files {
        let named = |e: Error| {
            Error::new(
                e.code,
                format!("cannot read the symbol states {file}: {}", e.message),
            )
        };
        let sql = format!(
            "SELECT symbol::VARCHAR, last_ts::TIMESTAMP, bars::BIGINT, state::BLOB \
             FROM read_parquet({}, hive_partitioning = false)",
            sql_literal(file)
        );
        let mut res = conn.stream(&sql).map_err(named)?;
        let want = [
            DUCKDB_TYPE_VARCHAR,
            DUCKDB_TYPE_TIMESTAMP,
            DUCKDB_TYPE_BIGINT,
            DUCKDB_TYPE_BLOB,
        ];
        if res.column_types() != want {
            return Err(Error::bad_input(format!(
                "symbol states {file}: unexpected column types {:?}",
                res.column_types()
            )));
        }
        while let Some(chunk) = res.next_chunk().map_err(named)? {
            let n = chunk.len();
            let (sym, ts, bars, blob) = (
                chunk.vector(0),
                chunk.vector(1),
                chunk.vector(2),
                chunk.vector(3),
            );
            if let Some(c) = (0..4).find(|&c| (0..n).any(|r| !chunk.vector(c).is_valid(r))) {
                return Err(Error::bad_input(format!(
                    "symbol states {file}: NULL in column {}",
                    STATE_COLUMNS[c].name()
                )));
            }
            // SAFETY: the column types were checked above and rows stay below the chunk size.
            let (ts, bars) = unsafe { (ts.slice::<i64>(n), bars.slice::<i64>(n)) };
            for r in 0..n {
                let (name, state) = unsafe { (sym.bytes(r), blob.bytes(r)) };
                let symbol = String::from_utf8_lossy(name).into_owned();
                let st = SymbolState {
                    symbol: symbol.clone(),
                    last_ts: ts[r],
                    bars: bars[r] as u64,
                    state: state.to_vec(),
                };
                by_symbol.insert(symbol, st);
            }
        }
    }
    Ok(by_symbol.into_values().collect())
}
