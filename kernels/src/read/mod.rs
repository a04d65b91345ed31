//! The read path: a SQL query over bars, streamed from DuckDB chunk by chunk,
//! cut into per-symbol runs handed to a [`RunSink`] in Rust.
//!
//! The source must deliver each symbol's rows contiguously and in increasing `ts` (the
//! canonical layout does, read in file order; other SQL is sorted by the caller). The
//! reader checks that as rows pass and stops with [`ErrorCode::BadInput`] ("not ordered",
//! naming the symbol) when it does not hold, so a kernel never sees reordered bars.
//! A symbol with a repeated timestamp or a NULL `ts` or value fails on its own
//! ([`RunSink::fail_symbol`]) and the others go on; see [`split`].
pub mod columns;
pub mod parallel;
pub mod split;
pub mod stats;

use crate::duck::ffi::{
    duckdb_string_t, DUCKDB_TYPE_DOUBLE, DUCKDB_TYPE_TIMESTAMP, DUCKDB_TYPE_VARCHAR,
};
use crate::duck::{Connection, DataChunk};
use crate::error::{Error, ErrorCode, Result};
use columns::{ArrowChild, StrColumn, Validity};
use split::{Batch, Splitter};

/// How batches cross from DuckDB into Rust.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadMode {
    /// DuckDB's flat vectors wrapped in place (no conversion, no copy).
    Vectors,
    /// `duckdb_data_chunk_to_arrow`: a converted Arrow C data interface record batch.
    Arrow,
}

impl ReadMode {
    pub fn parse(s: &str) -> Result<ReadMode> {
        match s {
            "vectors" => Ok(ReadMode::Vectors),
            "arrow" => Ok(ReadMode::Arrow),
            other => Err(Error::param(format!(
                "mode must be 'vectors' or 'arrow', got '{other}'"
            ))),
        }
    }
}

/// A slice of one batch holding consecutive bars of one symbol.
pub struct SymbolRun<'a> {
    pub symbol: &'a str,
    /// Timestamps, microseconds since the epoch.
    pub ts: &'a [i64],
    /// One slice per requested value column, in request order.
    pub values: &'a [&'a [f64]],
    /// True when this symbol already had rows in an earlier run (it spans batches).
    pub continues: bool,
}

/// Receives runs in order. An error stops the read and is returned to the caller.
pub trait RunSink {
    fn on_run(&mut self, run: &SymbolRun<'_>) -> Result<()>;
    /// The input of `symbol` is bad from some row on (a repeated timestamp, a NULL `ts` or
    /// value); `message` names the symbol and the first offending timestamp or row. Called
    /// at most once per symbol, after the runs of it that came before the bad row (none
    /// when its first row is bad); no run of it follows. The sink discards what it made
    /// of the symbol and records it as failed at stage `input`.
    ///
    /// The default fails the whole read with [`ErrorCode::BadInput`] and the message.
    fn fail_symbol(&mut self, symbol: &str, message: &str) -> Result<()> {
        let _ = symbol;
        Err(Error::bad_input(message))
    }
    /// Called once after the last run of a stream that ended without error.
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}

/// Counts of one read.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReadStats {
    pub rows: u64,
    pub batches: u64,
    pub runs: u64,
    pub symbols: u64,
    /// Symbols whose input was bad (see [`RunSink::fail_symbol`]).
    pub failed: u64,
}

/// What to read: the query must return `symbol VARCHAR`, `ts TIMESTAMP` and each of
/// `values` as `DOUBLE` (other columns are ignored).
pub struct ReadRequest<'a> {
    pub sql: &'a str,
    pub values: &'a [String],
    pub mode: ReadMode,
}

struct Layout {
    symbol: usize,
    ts: usize,
    values: Vec<usize>,
}

fn resolve_columns(names: &[String], types: &[i32], req: &ReadRequest<'_>) -> Result<Layout> {
    let find = |want: &str, ty: i32, ty_name: &str| -> Result<usize> {
        let i = names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(want))
            .ok_or_else(|| {
                Error::bad_input(format!(
                    "the query returns no column '{want}' (columns: {})",
                    names.join(", ")
                ))
            })?;
        if types[i] != ty {
            return Err(Error::bad_input(format!(
                "column '{want}' must be {ty_name} (DuckDB type id {} found)",
                types[i]
            )));
        }
        Ok(i)
    };
    Ok(Layout {
        symbol: find("symbol", DUCKDB_TYPE_VARCHAR, "VARCHAR")?,
        ts: find("ts", DUCKDB_TYPE_TIMESTAMP, "TIMESTAMP")?,
        values: req
            .values
            .iter()
            .map(|v| find(v, DUCKDB_TYPE_DOUBLE, "DOUBLE"))
            .collect::<Result<_>>()?,
    })
}

/// The validity of column `col` when DuckDB hands a mask (`None`: every row valid).
fn duck_validity<'a>(chunk: &'a DataChunk, col: usize, n: usize) -> Option<Validity<'a>> {
    chunk.vector(col).validity(n).map(Validity::Words)
}

/// Streams `req.sql` and hands every symbol run to `sink`, in order.
/// `cancelled` is polled between batches.
///
/// # Errors
/// SQL errors (DuckDB's message), a missing or mistyped column (named), a NULL symbol,
/// an order violation (naming the symbol), a sink error, or [`ErrorCode::Cancelled`].
pub fn read_runs(
    conn: &Connection,
    req: &ReadRequest<'_>,
    sink: &mut dyn RunSink,
    cancelled: &dyn Fn() -> bool,
) -> Result<ReadStats> {
    let mut result = conn.stream(req.sql)?;
    let layout = resolve_columns(result.column_names(), result.column_types(), req)?;
    let arrow_options = (req.mode == ReadMode::Arrow).then(|| result.arrow_options());
    let mut splitter = Splitter::new();
    while let Some(chunk) = result.next_chunk()? {
        if cancelled() {
            return Err(Error::new(ErrorCode::Cancelled, "read cancelled"));
        }
        let n = chunk.len();
        if n == 0 {
            continue;
        }
        let mut values: Vec<&[f64]> = Vec::with_capacity(layout.values.len());
        let mut value_nulls: Vec<Option<Validity<'_>>> = Vec::with_capacity(values.capacity());
        match &arrow_options {
            None => {
                for &c in &layout.values {
                    value_nulls.push(duck_validity(&chunk, c, n));
                    values.push(unsafe { chunk.vector(c).slice::<f64>(n) });
                }
                let batch = Batch {
                    syms: StrColumn::Duck(unsafe {
                        chunk.vector(layout.symbol).slice::<duckdb_string_t>(n)
                    }),
                    ts: unsafe { chunk.vector(layout.ts).slice::<i64>(n) },
                    values: &values,
                    symbol_nulls: duck_validity(&chunk, layout.symbol, n),
                    ts_nulls: duck_validity(&chunk, layout.ts, n),
                    value_nulls: &value_nulls,
                    names: req.values,
                };
                splitter.batch(&batch, sink)?;
            }
            Some(opts) => {
                let arrow = chunk.to_arrow(opts)?;
                let arr = &arrow.0;
                if arr.length as usize != n {
                    return Err(Error::duckdb(format!(
                        "Arrow batch has {} rows, chunk {n}",
                        arr.length
                    )));
                }
                let syms = ArrowChild::new(arr, layout.symbol, "symbol")?;
                let ts = ArrowChild::new(arr, layout.ts, "ts")?;
                for (k, &c) in layout.values.iter().enumerate() {
                    let col = ArrowChild::new(arr, c, &req.values[k])?;
                    value_nulls.push(col.validity(n)?);
                    values.push(col.primitive::<f64>(n)?);
                }
                let batch = Batch {
                    syms: syms.utf8(n)?,
                    ts: ts.primitive::<i64>(n)?,
                    values: &values,
                    symbol_nulls: syms.validity(n)?,
                    ts_nulls: ts.validity(n)?,
                    value_nulls: &value_nulls,
                    names: req.values,
                };
                splitter.batch(&batch, sink)?;
            }
        }
    }
    sink.finish()?;
    Ok(splitter.stats)
}
