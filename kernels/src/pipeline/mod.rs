//! The out-of-core pipeline: DuckDB batches ordered by `(symbol, ts)` -> per-symbol runs
//! (a symbol spanning batches continues with its carried kernel state) -> the ATC ->
//! a scan result per symbol, or per-bar Parquet outputs for a backtest.
//!
//! Partitions (the dataset's buckets) hold disjoint symbols and are processed in parallel,
//! one DuckDB connection and one sink per worker; a worker holds one partition at a time,
//! so memory follows the bucket size, not the dataset size.
pub mod backtest;
pub mod perf;
pub mod scan;
pub mod symbol;
pub mod trend_scan;
pub mod writer;

use crate::atc::AtcParams;
use crate::duck::Database;
use crate::error::Result;
use crate::read::parallel::{check_disjoint, read_partitions};
use crate::read::{ReadMode, RunSink};
use backtest::{BacktestOptions, BacktestSink};
use scan::{ScanRow, ScanSink};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use trend_scan::TrendScanSink;

/// Counters a job updates as it goes; read from any thread.
#[derive(Default, Debug)]
pub struct Progress {
    pub symbols: AtomicU64,
    pub bars: AtomicU64,
    pub partitions: AtomicU64,
}

/// Where a symbol failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Its rows: a repeated timestamp, a NULL `ts` or value (see [`crate::read::split`]).
    Input,
    /// The kernel refused its data (e.g. a non-positive price).
    Kernel,
}

impl Stage {
    /// The name in outputs (`_errors.stage`, a failed entry's `stage`).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Input => "input",
            Stage::Kernel => "kernel",
        }
    }
}

/// Records a symbol's failure unless it already has one: the first failure is the one kept.
pub(crate) fn keep_first_failure(
    failed: &mut Option<(Stage, String)>,
    stage: Stage,
    message: &str,
) {
    failed.get_or_insert_with(|| (stage, message.to_string()));
}

/// What became of one symbol.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome<T> {
    Done(T),
    /// Too few bars for the longest moving average.
    Skipped {
        symbol: String,
        reason: String,
    },
    /// Its input or the kernel refused the symbol's data; the others go on.
    Failed {
        symbol: String,
        stage: Stage,
        message: String,
    },
}

/// A per-symbol result that knows its symbol.
pub trait Named {
    fn symbol(&self) -> &str;
}

impl<T: Named> Outcome<T> {
    pub fn classify(
        symbol: String,
        bars: u64,
        longest: u64,
        failed: Option<(Stage, String)>,
        done: T,
    ) -> Self {
        match failed {
            Some((stage, message)) => Outcome::Failed {
                symbol,
                stage,
                message,
            },
            None if bars < longest => Outcome::Skipped {
                symbol,
                reason: format!("{bars} bars, fewer than the longest MA length {longest}"),
            },
            None => Outcome::Done(done),
        }
    }

    pub fn symbol(&self) -> &str {
        match self {
            Outcome::Done(row) => row.symbol(),
            Outcome::Skipped { symbol, .. } | Outcome::Failed { symbol, .. } => symbol,
        }
    }
}

const CLOSE: [&str; 1] = ["close"];

fn close_column() -> Vec<String> {
    CLOSE.iter().map(|s| s.to_string()).collect()
}

/// Runs one sink per partition over the closes and gathers every symbol's outcome, in
/// partition order, refusing a symbol that appears in two partitions.
fn per_symbol<T, S>(
    db: &Database,
    partitions: &[String],
    workers: usize,
    make: impl Fn() -> S + Sync,
    take: impl Fn(S) -> Vec<Outcome<T>>,
    cancel: &AtomicBool,
) -> Result<Vec<Outcome<T>>>
where
    T: Named,
    S: RunSink + Send,
{
    let parts = read_partitions(
        db,
        partitions,
        &close_column(),
        ReadMode::Vectors,
        workers,
        |_| make(),
        cancel,
    )?;
    let outcomes: Vec<Vec<Outcome<T>>> = parts.into_iter().map(|p| take(p.sink)).collect();
    check_disjoint(outcomes.iter().map(|v| v.iter().map(Outcome::symbol)))?;
    Ok(outcomes.into_iter().flatten().collect())
}

/// The latest ATC signal of every symbol.
///
/// # Errors
/// Invalid parameters, SQL or read errors, a symbol found in two partitions, cancellation.
pub fn scan(
    db: &Database,
    partitions: &[String],
    params: &AtcParams,
    workers: usize,
    progress: &Arc<Progress>,
    cancel: &AtomicBool,
) -> Result<Vec<Outcome<ScanRow>>> {
    ScanSink::new(params, progress.clone())?;
    let make = || ScanSink::new(params, progress.clone()).expect("parameters checked above");
    per_symbol(db, partitions, workers, make, |s| s.outcomes, cancel)
}

/// The moving average and trend state of every symbol at its last bar (see [`trend_scan`]).
///
/// # Errors
/// An unknown moving average or a bad length, SQL or read errors, a symbol found in two
/// partitions, cancellation.
pub fn trend_scan(
    db: &Database,
    partitions: &[String],
    ma: &str,
    len: usize,
    workers: usize,
    progress: &Arc<Progress>,
    cancel: &AtomicBool,
) -> Result<Vec<Outcome<trend_scan::TrendRow>>> {
    TrendScanSink::new(ma, len, progress.clone())?;
    let make = || TrendScanSink::new(ma, len, progress.clone()).expect("parameters checked above");
    per_symbol(db, partitions, workers, make, |s| s.outcomes, cancel)
}

/// Counts of a backtest over the partitions it ran.
#[derive(Default, Debug, Clone, PartialEq, Eq)]
pub struct BacktestCounts {
    pub partitions: u64,
    pub symbols: u64,
    pub skipped: u64,
    pub failed: u64,
    pub rows: u64,
}

/// Runs the backtest over `partitions` (bucket number, SQL), writing each bucket's files
/// under `opts.out` as it completes.
///
/// # Errors
/// Invalid parameters, SQL, read or write errors, cancellation. Buckets finished before the
/// error stay complete on disk (see [`backtest::state_path`]).
pub fn backtest(
    db: &Database,
    partitions: &[(u32, String)],
    params: &AtcParams,
    opts: &BacktestOptions,
    workers: usize,
    progress: &Arc<Progress>,
    cancel: &AtomicBool,
) -> Result<BacktestCounts> {
    BacktestSink::new(0, params, opts, progress.clone())?;
    let sqls: Vec<String> = partitions.iter().map(|(_, s)| s.clone()).collect();
    let parts = read_partitions(
        db,
        &sqls,
        &close_column(),
        ReadMode::Vectors,
        workers,
        |i| {
            BacktestSink::new(partitions[i].0, params, opts, progress.clone())
                .expect("parameters checked above")
        },
        cancel,
    )?;
    let mut c = BacktestCounts::default();
    for p in parts {
        c.partitions += 1;
        c.symbols += p.sink.symbols;
        c.skipped += p.sink.skipped;
        c.failed += p.sink.failed;
        c.rows += p.stats.rows;
    }
    Ok(c)
}
