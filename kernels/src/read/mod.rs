//! The read path: a SQL query over bars, streamed from DuckDB chunk by chunk,
//! cut into per-symbol runs handed to a [`RunSink`] in Rust.
//!
//! The source must deliver each symbol's rows contiguously and in strictly increasing
//! `ts` (the canonical layout does, read in file order; other SQL is sorted by the
//! caller). The reader checks that as rows pass and stops with [`ErrorCode::BadInput`]
//! naming the symbol when it does not hold, so a kernel never sees reordered bars.
pub mod columns;
pub mod parallel;
pub mod stats;

use crate::duck::ffi::{
    duckdb_string_t, DUCKDB_TYPE_DOUBLE, DUCKDB_TYPE_TIMESTAMP, DUCKDB_TYPE_VARCHAR,
};
use crate::duck::{Connection, DataChunk};
use crate::error::{Error, ErrorCode, Result};
use columns::{ArrowChild, StrColumn};
use std::collections::HashSet;

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

/// Tracks run boundaries and the order guarantee across batches.
struct Splitter {
    current: Option<String>,
    last_ts: i64,
    finished: HashSet<String>,
    stats: ReadStats,
}

impl Splitter {
    fn new() -> Self {
        Splitter {
            current: None,
            last_ts: i64::MIN,
            finished: HashSet::new(),
            stats: ReadStats::default(),
        }
    }

    fn batch(
        &mut self,
        syms: StrColumn<'_>,
        ts: &[i64],
        values: &[&[f64]],
        sink: &mut dyn RunSink,
    ) -> Result<()> {
        let n = ts.len();
        self.stats.rows += n as u64;
        self.stats.batches += 1;
        let mut scratch: Vec<&[f64]> = Vec::with_capacity(values.len());
        let mut i = 0;
        while i < n {
            let mut j = i + 1;
            while j < n && syms.same(i, j) {
                j += 1;
            }
            let bytes = syms.get(i);
            let symbol = std::str::from_utf8(bytes)
                .map_err(|_| Error::bad_input("a symbol is not valid UTF-8"))?;
            let continues = self.current.as_deref() == Some(symbol);
            if !continues {
                if let Some(prev) = self.current.take() {
                    self.finished.insert(prev);
                }
                if self.finished.contains(symbol) {
                    return Err(Error::bad_input(format!(
                        "rows of symbol '{symbol}' are not contiguous: the source is not ordered by (symbol, ts)"
                    )));
                }
                self.current = Some(symbol.to_string());
                self.last_ts = i64::MIN;
                self.stats.symbols += 1;
            }
            let run_ts = &ts[i..j];
            check_increasing(symbol, self.last_ts, run_ts)?;
            self.last_ts = run_ts[run_ts.len() - 1];
            scratch.clear();
            scratch.extend(values.iter().map(|v| &v[i..j]));
            sink.on_run(&SymbolRun {
                symbol,
                ts: run_ts,
                values: &scratch,
                continues,
            })?;
            self.stats.runs += 1;
            i = j;
        }
        Ok(())
    }
}

fn check_increasing(symbol: &str, before: i64, ts: &[i64]) -> Result<()> {
    let mut prev = before;
    let mut ok = true;
    for &t in ts {
        ok &= t > prev;
        prev = t;
    }
    if ok {
        return Ok(());
    }
    let mut prev = before;
    for &t in ts {
        if t <= prev {
            return Err(Error::bad_input(format!(
                "timestamps of symbol '{symbol}' are not strictly increasing ({prev} then {t} microseconds): \
                 the source is not ordered by (symbol, ts) or holds duplicate bars"
            )));
        }
        prev = t;
    }
    Ok(())
}

fn no_nulls(chunk: &DataChunk, col: usize, name: &str, n: usize) -> Result<()> {
    let v = chunk.vector(col);
    if let Some(mask) = v.validity(n) {
        for row in 0..n {
            if mask[row / 64] >> (row % 64) & 1 == 0 {
                return Err(Error::bad_input(format!(
                    "column '{name}' holds NULL values"
                )));
            }
        }
    }
    Ok(())
}

/// Streams `req.sql` and hands every symbol run to `sink`, in order.
/// `cancelled` is polled between batches.
///
/// # Errors
/// SQL errors (DuckDB's message), a missing or mistyped column (named), NULLs,
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
        match &arrow_options {
            None => {
                no_nulls(&chunk, layout.symbol, "symbol", n)?;
                no_nulls(&chunk, layout.ts, "ts", n)?;
                for (k, &c) in layout.values.iter().enumerate() {
                    no_nulls(&chunk, c, &req.values[k], n)?;
                    values.push(unsafe { chunk.vector(c).slice::<f64>(n) });
                }
                let syms = StrColumn::Duck(unsafe {
                    chunk.vector(layout.symbol).slice::<duckdb_string_t>(n)
                });
                let ts = unsafe { chunk.vector(layout.ts).slice::<i64>(n) };
                splitter.batch(syms, ts, &values, sink)?;
            }
            Some(opts) => {
                let batch = chunk.to_arrow(opts)?;
                let arr = &batch.0;
                if arr.length as usize != n {
                    return Err(Error::duckdb(format!(
                        "Arrow batch has {} rows, chunk {n}",
                        arr.length
                    )));
                }
                let syms = ArrowChild::new(arr, layout.symbol, "symbol")?.utf8(n)?;
                let ts = ArrowChild::new(arr, layout.ts, "ts")?.primitive::<i64>(n)?;
                for (k, &c) in layout.values.iter().enumerate() {
                    values.push(ArrowChild::new(arr, c, &req.values[k])?.primitive::<f64>(n)?);
                }
                splitter.batch(syms, ts, &values, sink)?;
            }
        }
    }
    sink.finish()?;
    Ok(splitter.stats)
}
