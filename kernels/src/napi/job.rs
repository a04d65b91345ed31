//! Long jobs (scan, backtest; screen in `screen.rs`) as async tasks, with a `NativeJob` handle the caller polls
//! for progress and uses to cancel (checked between batches).
use super::atc::{atc_params, AtcOptions};
use super::engine::NativeEngine;
use super::guarded;
use crate::formula::Formula;
use crate::pipeline::backtest::BacktestOptions;
use crate::pipeline::budget::Budget;
use crate::pipeline::carried::CarriedFiles;
use crate::pipeline::carry::{Continuation, StateOut};
use crate::pipeline::scan::ScanRow;
use crate::pipeline::strategy::StrategySpec;
use crate::pipeline::{self, BacktestCounts, BacktestPartition, Outcome, Progress};
use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Task};
use napi_derive::napi;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[napi]
#[derive(Default)]
pub struct NativeJob {
    pub(super) progress: Arc<Progress>,
    pub(super) cancel: Arc<AtomicBool>,
}

#[napi(object)]
pub struct JobProgress {
    pub symbols: f64,
    pub bars: f64,
    pub partitions: f64,
}

#[napi]
impl NativeJob {
    #[napi(constructor)]
    pub fn new() -> Self {
        NativeJob::default()
    }

    #[napi]
    pub fn progress(&self) -> JobProgress {
        JobProgress {
            symbols: self.progress.symbols.load(Ordering::Relaxed) as f64,
            bars: self.progress.bars.load(Ordering::Relaxed) as f64,
            partitions: self.progress.partitions.load(Ordering::Relaxed) as f64,
        }
    }

    /// Asks the job to stop; it does between batches and fails with `BARSTREAM_CANCELLED`.
    #[napi]
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

#[napi(object)]
pub struct ScanOptions {
    /// One query per bucket (disjoint symbols), each ordered by (symbol, ts).
    pub partitions: Vec<BucketSource>,
    pub params: Option<AtcOptions>,
    pub workers: Option<u32>,
    /// Save each symbol's state under this folder (`_state/symbols/bucket=<k>/part-<g>.parquet`).
    pub state_out: Option<String>,
    /// An update: per partition (same order), the previous run's state files (`trades`
    /// and `errors` unused).
    pub carried: Option<Vec<CarriedBucket>>,
    /// An update: the symbols that failed in the previous run (they stay failed).
    pub failed: Option<Vec<FailedSymbol>>,
}

/// How a scan or screen job saves and continues states, from its options: states under
/// `dir` (part 0 of each bucket, rewritten whole by an update), priors read from `carried`.
pub(super) fn continuation(
    db: &crate::duck::Database,
    dir: Option<&String>,
    carried: Option<&[CarriedBucket]>,
    partitions: usize,
) -> crate::Result<Continuation> {
    let carried = carried.unwrap_or_default();
    if !carried.is_empty() && carried.len() != partitions {
        return Err(crate::Error::param(
            "carried must give one entry per partition",
        ));
    }
    let files: Vec<CarriedFiles> = carried
        .iter()
        .map(|c| CarriedFiles {
            states: c.states.clone(),
            errors: c.errors.clone(),
        })
        .collect();
    Ok(Continuation {
        out: dir.map(|d| StateOut {
            dir: PathBuf::from(d),
            generation: 0,
        }),
        priors: crate::pipeline::carry::file_priors(db, files),
        failed: Default::default(),
    })
}

#[napi(object)]
pub struct ScanSymbol {
    pub symbol: String,
    pub bars: f64,
    pub signal: f64,
    pub close: f64,
    /// Microseconds since the epoch.
    pub ts: f64,
}

#[napi(object)]
pub struct SkippedSymbol {
    pub symbol: String,
    pub reason: String,
}

#[napi(object)]
pub struct FailedSymbol {
    pub symbol: String,
    /// `input` (its rows: a duplicate timestamp, a NULL), `kernel` (e.g. a price <= 0),
    /// `formula` (its evaluation failed) or `timeout` (over its time budget).
    pub stage: String,
    pub message: String,
}

#[napi(object)]
pub struct ScanOutput {
    /// Bars read.
    pub bars_read: f64,
    pub processed: Vec<ScanSymbol>,
    pub skipped: Vec<SkippedSymbol>,
    pub failed: Vec<FailedSymbol>,
}

/// Outcomes as the three lists the JS side gets: processed (converted by `done`), skipped, failed.
fn split<T, U>(
    outcomes: Vec<Outcome<T>>,
    done: impl Fn(T) -> U,
) -> (Vec<U>, Vec<SkippedSymbol>, Vec<FailedSymbol>) {
    let (mut processed, mut skipped, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    for o in outcomes {
        match o {
            Outcome::Done(r) => processed.push(done(r)),
            Outcome::Skipped { symbol, reason } => skipped.push(SkippedSymbol { symbol, reason }),
            Outcome::Failed {
                symbol,
                stage,
                message,
            } => failed.push(FailedSymbol {
                symbol,
                stage: stage.as_str().to_string(),
                message,
            }),
        }
    }
    (processed, skipped, failed)
}

pub struct ScanTask {
    engine: crate::Result<crate::duck::Database>,
    opts: ScanOptions,
    progress: Arc<Progress>,
    cancel: Arc<AtomicBool>,
}

impl Task for ScanTask {
    type Output = Vec<Outcome<ScanRow>>;
    type JsValue = ScanOutput;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        guarded(|| {
            let params = atc_params(self.opts.params.as_ref())?;
            let workers = self.opts.workers.unwrap_or(1).max(1) as usize;
            let parts: Vec<(u32, String)> = self
                .opts
                .partitions
                .iter()
                .map(|p| (p.bucket, p.sql.clone()))
                .collect();
            let db = self.engine.clone()?;
            let mut cont = continuation(
                &db,
                self.opts.state_out.as_ref(),
                self.opts.carried.as_deref(),
                parts.len(),
            )?;
            let mut failed = std::collections::BTreeMap::new();
            for f in self.opts.failed.as_deref().unwrap_or_default() {
                let stage = crate::pipeline::Stage::parse(&f.stage).ok_or_else(|| {
                    crate::Error::param(format!("failed: unknown stage '{}'", f.stage))
                })?;
                failed.insert(f.symbol.clone(), (stage, f.message.clone()));
            }
            cont.failed = Arc::new(failed);
            pipeline::scan(
                &db,
                &parts,
                &params,
                cont,
                workers,
                &self.progress,
                &self.cancel,
            )
        })
    }

    fn resolve(&mut self, _env: Env, outcomes: Self::Output) -> napi::Result<Self::JsValue> {
        let (processed, skipped, failed) = split(outcomes, |r: ScanRow| ScanSymbol {
            symbol: r.symbol,
            bars: r.bars as f64,
            signal: r.signal,
            close: r.close,
            ts: r.ts as f64,
        });
        Ok(ScanOutput {
            bars_read: self.progress.bars.load(Ordering::Relaxed) as f64,
            processed,
            skipped,
            failed,
        })
    }
}

#[napi(object)]
pub struct BucketSource {
    pub bucket: u32,
    pub sql: String,
}

#[napi(object)]
pub struct BacktestJobOptions {
    pub partitions: Vec<BucketSource>,
    pub params: Option<AtcOptions>,
    pub workers: Option<u32>,
    pub out: String,
    pub fee_bps: Option<f64>,
    pub long_only: Option<bool>,
    /// Milliseconds each symbol may take (unlimited when absent).
    pub symbol_timeout_ms: Option<f64>,
    /// A strategy formula instead of the ATC (`params` then unused); each partition's SQL
    /// returns `symbol, ts`, the formula's fields and `close`.
    pub formula: Option<String>,
    /// An update: per partition (same order), the previous run's files it continues from.
    pub carried: Option<Vec<CarriedBucket>>,
    /// The part number of the signals files written (`part-<n>.parquet`; 0 by default).
    pub signals_part: Option<u32>,
}

/// The previous run's files of one bucket (see `pipeline::carried`).
#[napi(object)]
pub struct CarriedBucket {
    /// Per-symbol state tables, later ones winning.
    pub states: Vec<String>,
    pub errors: Option<String>,
}

#[napi(object)]
pub struct BacktestOutput {
    pub partitions: f64,
    pub symbols: f64,
    pub skipped: f64,
    pub failed: f64,
    pub rows: f64,
}

pub struct BacktestTask {
    engine: crate::Result<crate::duck::Database>,
    opts: BacktestJobOptions,
    progress: Arc<Progress>,
    cancel: Arc<AtomicBool>,
}

impl Task for BacktestTask {
    type Output = BacktestCounts;
    type JsValue = BacktestOutput;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        guarded(|| {
            let params = atc_params(self.opts.params.as_ref())?;
            let fee_bps = self.opts.fee_bps.unwrap_or(0.0);
            if !(fee_bps.is_finite() && fee_bps >= 0.0) {
                return Err(crate::Error::param(format!(
                    "feeBps must be a finite number >= 0, got {fee_bps}"
                )));
            }
            let budget = match self.opts.symbol_timeout_ms {
                Some(ms) => Budget::millis(ms)?,
                None => Budget::unlimited(),
            };
            let opts = BacktestOptions {
                out: PathBuf::from(&self.opts.out),
                fee: fee_bps / 10_000.0,
                long_only: self.opts.long_only.unwrap_or(false),
                budget,
            };
            let strategy = match &self.opts.formula {
                Some(text) => StrategySpec::Formula(Arc::new(Formula::compile(text)?)),
                None => StrategySpec::Atc(params),
            };
            let carried = self.opts.carried.as_deref().unwrap_or_default();
            if !carried.is_empty() && carried.len() != self.opts.partitions.len() {
                return Err(crate::Error::param(
                    "carried must give one entry per partition",
                ));
            }
            let parts: Vec<BacktestPartition> = self
                .opts
                .partitions
                .iter()
                .enumerate()
                .map(|(i, p)| BacktestPartition {
                    bucket: p.bucket,
                    sql: p.sql.clone(),
                    carried: carried.get(i).map(|c| CarriedFiles {
                        states: c.states.clone(),
                        errors: c.errors.clone(),
                    }),
                })
                .collect();
            let workers = self.opts.workers.unwrap_or(1).max(1) as usize;
            pipeline::backtest_parts(
                &self.engine.clone()?,
                &parts,
                self.opts.signals_part.unwrap_or(0),
                &strategy,
                &opts,
                workers,
                &self.progress,
                &self.cancel,
            )
        })
    }

    fn resolve(&mut self, _env: Env, c: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(BacktestOutput {
            partitions: c.partitions as f64,
            symbols: c.symbols as f64,
            skipped: c.skipped as f64,
            failed: c.failed as f64,
            rows: c.rows as f64,
        })
    }
}

#[napi]
impl NativeEngine {
    /// The latest ATC signal of every symbol (see `pipeline::scan`).
    #[napi]
    pub fn scan(&self, opts: ScanOptions, job: &NativeJob) -> AsyncTask<ScanTask> {
        AsyncTask::new(ScanTask {
            engine: self.database(),
            opts,
            progress: job.progress.clone(),
            cancel: job.cancel.clone(),
        })
    }

    /// The backtest, bucket by bucket, into `opts.out` (see `pipeline::backtest`).
    #[napi]
    pub fn backtest(&self, opts: BacktestJobOptions, job: &NativeJob) -> AsyncTask<BacktestTask> {
        AsyncTask::new(BacktestTask {
            engine: self.database(),
            opts,
            progress: job.progress.clone(),
            cancel: job.cancel.clone(),
        })
    }
}
