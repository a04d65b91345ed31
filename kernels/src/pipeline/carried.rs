//! What a backtest update carries into a bucket from the previous run's files: each
//! symbol's saved state (`_state/symbols/...`, see [`super::symbol_state`]; its open trade
//! is in it) and the symbols that failed (`_errors/...`, stage other than `skipped`: they
//! stay failed with their message, whatever new bars come). Closed trades are not read
//! again: an update appends the trades it closes as a new part.
use super::backtest::{BacktestSink, Sym};
use super::symbol_state::{read_states, SymbolState};
use super::Stage;
use crate::duck::ffi::duckdb_type;
use crate::duck::{sql_literal, DataChunk, Database};
use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// The previous run's files of one bucket (absolute paths; absent ones are simply not given).
#[derive(Clone, Debug, Default)]
pub struct CarriedFiles {
    pub states: Vec<String>,
    pub errors: Option<String>,
}

/// What [`CarriedFiles`] hold, read.
#[derive(Debug, Default)]
pub struct Carried {
    pub states: Vec<SymbolState>,
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
        use crate::duck::ffi::DUCKDB_TYPE_VARCHAR as V;
        let mut c = Carried {
            states: read_states(db, &self.states)?,
            ..Carried::default()
        };
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
    /// Carries the previous run's bucket into this sink: states to continue, failed symbols
    /// to keep failed (see the module doc).
    pub fn carry_all(&mut self, c: Carried) {
        self.carry(c.states);
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
}
