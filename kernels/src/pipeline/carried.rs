//! What a backtest update carries into a bucket from the previous run's files: each
//! symbol's saved state (`_state/symbols/...`, see [`super::symbol_state`]), the trades
//! already closed (`trades/part-<k>.parquet`: written again before the symbol's new ones, so
//! the rewritten table equals a full run's) and the symbols that failed (`_errors/...`,
//! stage other than `skipped`: they stay failed with their message, whatever new bars come).
use super::backtest::{BacktestSink, Sym};
use super::symbol_state::{read_states, SymbolState};
use super::trades::Trade;
use super::Stage;
use crate::duck::ffi::duckdb_type;
use crate::duck::{sql_literal, DataChunk, Database};
use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// The previous run's files of one bucket (absolute paths; absent ones are simply not given).
#[derive(Clone, Debug, Default)]
pub struct CarriedFiles {
    pub states: Vec<String>,
    pub trades: Option<String>,
    pub errors: Option<String>,
}

/// What [`CarriedFiles`] hold, read.
#[derive(Debug, Default)]
pub struct Carried {
    pub states: Vec<SymbolState>,
    /// Closed trades by symbol, in file order.
    pub trades: BTreeMap<String, Vec<Trade>>,
    /// Failed symbols: stage and message.
    pub failed: BTreeMap<String, (Stage, String)>,
}

/// Runs `sql` (whose columns must have `types`) and hands each chunk to `row`.
fn each_chunk(
    db: &Database,
    what: &str,
    sql: &str,
    types: &[duckdb_type],
    mut row: impl FnMut(&DataChunk, usize) -> Result<()>,
) -> Result<()> {
    let named = |e: Error| Error::new(e.code, format!("cannot read {what}: {}", e.message));
    let conn = db.connect()?;
    let mut res = conn.stream(sql).map_err(named)?;
    if res.column_types() != types {
        return Err(Error::bad_input(format!(
            "{what}: unexpected column types {:?}",
            res.column_types()
        )));
    }
    while let Some(chunk) = res.next_chunk().map_err(named)? {
        row(&chunk, chunk.len())?;
    }
    Ok(())
}

fn text(chunk: &DataChunk, col: usize, r: usize) -> String {
    // SAFETY: callers pass VARCHAR columns (types checked) and rows below the chunk size.
    String::from_utf8_lossy(unsafe { chunk.vector(col).bytes(r) }).into_owned()
}

impl CarriedFiles {
    /// Reads the files.
    ///
    /// # Errors
    /// A file DuckDB cannot read or without the expected columns, named.
    pub fn read(&self, db: &Database) -> Result<Carried> {
        use crate::duck::ffi::{
            DUCKDB_TYPE_BIGINT as I, DUCKDB_TYPE_DOUBLE as D, DUCKDB_TYPE_TIMESTAMP as T,
            DUCKDB_TYPE_VARCHAR as V,
        };
        let mut c = Carried {
            states: read_states(db, &self.states)?,
            ..Carried::default()
        };
        if let Some(f) = &self.trades {
            let sql = format!(
                "SELECT symbol::VARCHAR, side::VARCHAR, entry_ts::TIMESTAMP, exit_ts::TIMESTAMP, entry_price::DOUBLE, exit_price::DOUBLE, bars::BIGINT, \"return\"::DOUBLE \
                 FROM read_parquet({}, hive_partitioning = false) WHERE exit_ts IS NOT NULL",
                sql_literal(f)
            );
            each_chunk(
                db,
                &format!("the trades {f}"),
                &sql,
                &[V, V, T, T, D, D, I, D],
                |ch, n| {
                    // SAFETY: types checked; NULL exit_ts filtered out by the query.
                    let (entry, exit, ep, xp, bars, ret) = unsafe {
                        (
                            ch.vector(2).slice::<i64>(n),
                            ch.vector(3).slice::<i64>(n),
                            ch.vector(4).slice::<f64>(n),
                            ch.vector(5).slice::<f64>(n),
                            ch.vector(6).slice::<i64>(n),
                            ch.vector(7).slice::<f64>(n),
                        )
                    };
                    for r in 0..n {
                        let side = if text(ch, 1, r) == "long" { 1.0 } else { -1.0 };
                        c.trades.entry(text(ch, 0, r)).or_default().push(Trade {
                            side,
                            entry_ts: entry[r],
                            exit_ts: Some(exit[r]),
                            entry_price: ep[r],
                            exit_price: xp[r],
                            bars: bars[r] as u64,
                            ret: ret[r],
                        });
                    }
                    Ok(())
                },
            )?;
        }
        if let Some(f) = &self.errors {
            let sql = format!(
                "SELECT symbol::VARCHAR, stage::VARCHAR, message::VARCHAR FROM read_parquet({}, hive_partitioning = false) WHERE stage <> 'skipped'",
                sql_literal(f)
            );
            each_chunk(db, &format!("the errors {f}"), &sql, &[V, V, V], |ch, n| {
                for r in 0..n {
                    let stage = text(ch, 1, r);
                    let stage = Stage::parse(&stage).ok_or_else(|| {
                        Error::bad_input(format!("the errors {f}: unknown stage '{stage}'"))
                    })?;
                    c.failed.insert(text(ch, 0, r), (stage, text(ch, 2, r)));
                }
                Ok(())
            })?;
        }
        Ok(c)
    }
}

impl BacktestSink {
    /// Carries the previous run's bucket into this sink: states to continue, closed trades
    /// to write again, failed symbols to keep failed (see the module doc).
    pub fn carry_all(&mut self, c: Carried) {
        self.carry(c.states);
        self.prior_trades = c.trades;
        self.prior_failed = c.failed;
    }

    /// Carries `files` into this sink, read when the sink first needs them (in the worker
    /// that runs the bucket: one bucket's states in memory at a time, not every bucket's).
    pub fn carry_files(&mut self, db: Database, files: CarriedFiles) {
        self.carry_pending = Some((db, files));
    }

    /// Reads the files given to [`BacktestSink::carry_files`], once.
    ///
    /// # Errors
    /// As [`CarriedFiles::read`].
    pub(super) fn load_carried(&mut self) -> Result<()> {
        if let Some((db, files)) = self.carry_pending.take() {
            let c = files.read(&db)?;
            self.carry_all(c);
        }
        Ok(())
    }

    /// Ends the current symbol and starts `symbol` as failed in the previous run: it writes
    /// its `_errors` row again and reads nothing.
    pub(super) fn keep_failed(&mut self, symbol: &str, failure: (Stage, String)) -> Result<()> {
        self.end_symbol()?;
        let mut s = Sym::new(symbol, self.opts.budget.clock());
        s.failed = Some(failure);
        self.sym = Some(s);
        Ok(())
    }

    /// Writes the closed trades of `symbol` from the previous run (when resuming it).
    pub(super) fn write_prior_trades(&mut self, symbol: &str) -> Result<()> {
        if let Some(mut trades) = self.prior_trades.remove(symbol) {
            self.carried_trades += trades.len() as u64;
            self.push_symbol_trades(symbol, &mut trades)?;
        }
        Ok(())
    }
}
