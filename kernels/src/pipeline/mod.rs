//! The out-of-core pipeline: DuckDB batches ordered by `(symbol, ts)` -> per-symbol runs
//! (a symbol spanning batches continues with its carried kernel state) -> the ATC or a
//! formula -> a scan or screen result per symbol, or per-bar Parquet outputs for a backtest.
//!
//! Partitions (the dataset's buckets) hold disjoint symbols and are processed in parallel,
//! one DuckDB connection and one sink per worker; a worker holds one partition at a time,
//! so memory follows the bucket size, not the dataset size.
pub mod backtest;
pub mod budget;
pub mod carried;
pub mod carry;
pub mod fill;
pub mod lanes;
pub mod perf;
pub mod scan;
pub mod screen;
pub mod screen_out;
pub mod screen_state;
pub mod strategy;
pub mod symbol;
pub mod symbol_state;
pub mod trades;
pub mod writer;

use crate::atc::AtcParams;
use crate::duck::Database;
use crate::error::Result;
use crate::formula::Formula;
use crate::read::parallel::{check_disjoint, read_partitions};
use crate::read::{ReadMode, RunSink};
use backtest::{BacktestOptions, BacktestSink};
use carry::{take_prior, Continuation};
use lanes::Lanes;
use scan::{ScanRow, ScanSink};
use screen::{PartitionContext, ScreenOptions, ScreenOutcome, ScreenSink};
use screen_out::OutFile;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use strategy::StrategySpec;

/// Counters a job updates as it goes; read from any thread.
#[derive(Default, Debug)]
pub struct Progress {
    pub symbols: AtomicU64,
    pub bars: AtomicU64,
    pub partitions: AtomicU64,
    /// Symbols computed ahead in lane groups (see [`lanes`]).
    pub lane_symbols: AtomicU64,
}

/// Where a symbol failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Its rows: a repeated timestamp, a NULL `ts` or value (see [`crate::read::split`]).
    Input,
    /// The kernel refused its data (e.g. a non-positive price).
    Kernel,
    /// The formula's evaluation failed (e.g. an `atc` input <= 0).
    Formula,
    /// The symbol used more than its time budget (see [`budget`]).
    Timeout,
}

impl Stage {
    /// The name in outputs (`_errors.stage`, a failed entry's `stage`).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Input => "input",
            Stage::Kernel => "kernel",
            Stage::Formula => "formula",
            Stage::Timeout => "timeout",
        }
    }
}

impl Stage {
    /// The stage named `name` (as [`Stage::as_str`] writes it).
    pub fn parse(name: &str) -> Option<Stage> {
        [Stage::Input, Stage::Kernel, Stage::Formula, Stage::Timeout]
            .into_iter()
            .find(|s| s.as_str() == name)
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
    make: impl Fn(usize) -> S + Sync,
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
        make,
        cancel,
    )?;
    let outcomes: Vec<Vec<Outcome<T>>> = parts.into_iter().map(|p| take(p.sink)).collect();
    check_disjoint(outcomes.iter().map(|v| v.iter().map(Outcome::symbol)))?;
    Ok(outcomes.into_iter().flatten().collect())
}

/// The latest ATC signal of every symbol of `partitions` (bucket number, SQL), saving and
/// continuing each symbol's state as `cont` says (see [`scan`](mod@scan)); symbols run in
/// lane groups unless `BARSTREAM_SINK_LANES` says no ([`lanes::enabled`]).
///
/// # Errors
/// Invalid parameters, SQL or read errors, a symbol found in two partitions, a write
/// error, cancellation.
pub fn scan(
    db: &Database,
    partitions: &[(u32, String)],
    params: &AtcParams,
    cont: Continuation,
    workers: usize,
    progress: &Arc<Progress>,
    cancel: &AtomicBool,
) -> Result<Vec<Outcome<ScanRow>>> {
    let on = lanes::enabled();
    scan_with(db, partitions, params, cont, workers, progress, cancel, on)
}

/// [`scan`] with lane groups on or off (see [`lanes`]): the same outcomes and files either way.
///
/// # Errors
/// As [`scan`].
#[allow(clippy::too_many_arguments)]
pub fn scan_with(
    db: &Database,
    partitions: &[(u32, String)],
    params: &AtcParams,
    cont: Continuation,
    workers: usize,
    progress: &Arc<Progress>,
    cancel: &AtomicBool,
    lanes: bool,
) -> Result<Vec<Outcome<ScanRow>>> {
    ScanSink::new(params, progress.clone())?;
    let (out, priors, failed) = cont.shared();
    let make = |i: usize| {
        let mut s = ScanSink::new(params, progress.clone()).expect("parameters checked above");
        if let Some(to) = &out {
            s = s.saving(to.clone(), partitions[i].0);
        }
        take_prior(&priors, i).append(&mut s.carried);
        s.kept_failed = failed.clone();
        Lanes::new(s, lanes, progress.clone())
    };
    let sqls: Vec<String> = partitions.iter().map(|(_, s)| s.clone()).collect();
    per_symbol(db, &sqls, workers, make, |s| s.sink.outcomes, cancel)
}

/// A screen's outcome over every partition, and the files written.
#[derive(Debug, Default)]
pub struct ScreenResult {
    pub outcome: ScreenOutcome,
    pub files: Vec<OutFile>,
    /// The state files written (when saving states).
    pub states: Vec<OutFile>,
}

/// Runs `formula` over `partitions` (bucket number, SQL returning `symbol, ts`, exactly
/// the formula's fields, then `opts.carried`) and gathers the matches (see [`screen`](mod@screen)); with `out`,
/// each bucket's matches and errors are written there as it completes (see
/// [`screen_out`]) and the returned matches are empty; `cont` says where each symbol's
/// state is saved and what the partitions continue from. Without `out`, more matches than
/// `opts.max_matches` stop every partition as soon as they are held.
///
/// # Errors
/// A formula that cannot screen, SQL or read errors, a symbol found in two partitions, a
/// write error, too many matches ([`screen::too_many`]), cancellation.
#[allow(clippy::too_many_arguments)]
pub fn screen(
    db: &Database,
    partitions: &[(u32, String)],
    formula: &Arc<Formula>,
    opts: &ScreenOptions,
    out: Option<&Path>,
    cont: Continuation,
    workers: usize,
    progress: &Arc<Progress>,
    cancel: &AtomicBool,
) -> Result<ScreenResult> {
    screen::check_formula(formula, opts.every_symbol)?;
    if out.is_some() {
        screen_out::check_names(formula)?;
    }
    if let Some(f) = opts.carried.iter().find(|f| formula.fields.contains(f)) {
        return Err(crate::Error::param(format!(
            "carried columns: the formula reads {} already",
            f.as_str()
        )));
    }
    let fields: Vec<String> = formula
        .fields
        .iter()
        .chain(&opts.carried)
        .map(|f| f.as_str().to_string())
        .collect();
    let sqls: Vec<String> = partitions.iter().map(|(_, s)| s.clone()).collect();
    let shared = Arc::new(opts.clone());
    let held = Arc::new(AtomicU64::new(0));
    let (states_to, priors, _) = cont.shared();
    let parts = read_partitions(
        db,
        &sqls,
        &fields,
        ReadMode::Vectors,
        workers,
        |i| {
            let ctx = PartitionContext {
                db: db.clone(),
                sql: partitions[i].1.clone(),
                bucket: partitions[i].0,
                out: out.map(Path::to_path_buf),
                held: held.clone(),
            };
            let mut s = ScreenSink::new(ctx, formula.clone(), shared.clone(), progress.clone());
            if let Some(to) = &states_to {
                s = s.saving(to.clone());
            }
            take_prior(&priors, i).append(&mut s.carried);
            s
        },
        cancel,
    )?;
    let mut sinks: Vec<ScreenSink> = parts.into_iter().map(|p| p.sink).collect();
    check_disjoint(sinks.iter().map(|s| s.seen.iter().map(String::as_str)))?;
    let mut all = ScreenResult::default();
    for s in sinks.iter_mut() {
        let o = std::mem::take(&mut s.out);
        all.outcome.matches.extend(o.matches);
        all.outcome.symbols.extend(o.symbols);
        all.outcome.processed += o.processed;
        all.outcome.matched += o.matched;
        all.outcome.skipped.extend(o.skipped);
        all.outcome.failed.extend(o.failed);
        all.outcome.errors.extend(o.errors);
        all.files.append(&mut s.files);
        all.states.append(&mut s.states);
    }
    Ok(all)
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

/// One bucket of a backtest: its number, the SQL of its bars and, for an update, the
/// previous run's files it continues from.
#[derive(Clone, Debug)]
pub struct BacktestPartition {
    pub bucket: u32,
    pub sql: String,
    pub carried: Option<carried::CarriedFiles>,
}

/// Runs the backtest over `partitions` (bucket number, SQL), writing each bucket's files
/// under `opts.out` as it completes. Each partition's SQL returns `symbol, ts` and the
/// strategy's inputs ([`strategy::Strategy::inputs`]: `close` for the ATC; a formula's
/// fields and `close`).
///
/// # Errors
/// Invalid parameters, SQL, read or write errors, cancellation. Buckets finished before the
/// error stay complete on disk (see [`backtest::state_path`]).
pub fn backtest(
    db: &Database,
    partitions: &[(u32, String)],
    strategy: &StrategySpec,
    opts: &BacktestOptions,
    workers: usize,
    progress: &Arc<Progress>,
    cancel: &AtomicBool,
) -> Result<BacktestCounts> {
    let parts: Vec<BacktestPartition> = partitions
        .iter()
        .map(|(bucket, sql)| BacktestPartition {
            bucket: *bucket,
            sql: sql.clone(),
            carried: None,
        })
        .collect();
    backtest_parts(db, &parts, 0, strategy, opts, workers, progress, cancel)
}

/// [`backtest`] over partitions that may carry a previous run's files (an update: see
/// [`carried`]), writing signals as `part-<part>.parquet` of each bucket. The ATC's
/// symbols run in lane groups unless `BARSTREAM_SINK_LANES` says no ([`lanes::enabled`]).
///
/// # Errors
/// As [`backtest`]; a carried file that cannot be read, or a saved state of another
/// strategy, named.
#[allow(clippy::too_many_arguments)]
pub fn backtest_parts(
    db: &Database,
    partitions: &[BacktestPartition],
    part: u32,
    strategy: &StrategySpec,
    opts: &BacktestOptions,
    workers: usize,
    progress: &Arc<Progress>,
    cancel: &AtomicBool,
) -> Result<BacktestCounts> {
    let on = lanes::enabled();
    backtest_parts_with(
        db, partitions, part, strategy, opts, workers, progress, cancel, on,
    )
}

/// [`backtest_parts`] with lane groups on or off (see [`lanes`]): the same files either way.
///
/// # Errors
/// As [`backtest_parts`].
#[allow(clippy::too_many_arguments)]
pub fn backtest_parts_with(
    db: &Database,
    partitions: &[BacktestPartition],
    part: u32,
    strategy: &StrategySpec,
    opts: &BacktestOptions,
    workers: usize,
    progress: &Arc<Progress>,
    cancel: &AtomicBool,
    lanes: bool,
) -> Result<BacktestCounts> {
    let probe = BacktestSink::new(0, strategy.build()?, opts, progress.clone())?;
    let inputs = probe.inputs().to_vec();
    drop(probe);
    let sqls: Vec<String> = partitions.iter().map(|p| p.sql.clone()).collect();
    let parts = read_partitions(
        db,
        &sqls,
        &inputs,
        ReadMode::Vectors,
        workers,
        |i| {
            let built = strategy.build().expect("parameters checked above");
            let mut sink = BacktestSink::new(partitions[i].bucket, built, opts, progress.clone())
                .expect("parameters checked above");
            sink.set_part(part);
            if let Some(c) = &partitions[i].carried {
                // Read in this worker when the bucket starts: one bucket's states at a time.
                sink.carry_files(db.clone(), c.clone());
            }
            Lanes::new(sink, lanes, progress.clone())
        },
        cancel,
    )?;
    let mut c = BacktestCounts::default();
    for p in parts {
        c.partitions += 1;
        c.symbols += p.sink.sink.symbols;
        c.skipped += p.sink.sink.skipped;
        c.failed += p.sink.sink.failed;
        c.rows += p.stats.rows;
    }
    Ok(c)
}
