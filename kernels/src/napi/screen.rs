//! The screen job (`engine.db.screen`): a formula over every symbol, as an async task with
//! a `NativeJob` for progress and cancellation (checked between batches).
use super::engine::NativeEngine;
use super::guarded;
use super::job::{BucketSource, FailedSymbol, NativeJob, SkippedSymbol};
use crate::error::{Error, Result};
use crate::formula::{Field, Formula};
use crate::pipeline::budget::Budget;
use crate::pipeline::screen::{Match, Mode, ScreenOptions};
use crate::pipeline::{self, Progress, ScreenResult};
use napi::bindgen_prelude::AsyncTask;

/// The most matches returned to JavaScript without `out` (each becomes an object there),
/// unless `maxMatches` says otherwise.
pub const MAX_MATCHES_IN_MEMORY: u64 = 1_000_000;

use napi::{Env, Task};
use napi_derive::napi;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

#[napi(object)]
pub struct ScreenJobOptions {
    /// One query per bucket returning `symbol, ts`, exactly the formula's fields, then
    /// `carried_columns`.
    pub partitions: Vec<BucketSource>,
    pub formula: String,
    /// `latest` or `all`.
    pub mode: String,
    /// Microseconds since the epoch.
    pub from: Option<f64>,
    pub to: Option<f64>,
    pub symbol_timeout_ms: f64,
    /// Which of `open, high, low, close, volume` the source has.
    pub source_columns: Vec<String>,
    /// Columns each partition's SQL returns after the formula's fields, read into the
    /// matches as they are (instead of filled by a second query over the source).
    pub carried_columns: Option<Vec<String>>,
    pub workers: Option<u32>,
    /// Write matches and errors under this folder instead of returning the matches.
    pub out: Option<String>,
    /// Also return every processed symbol's last bar in `symbols`, matched or not (a
    /// number formula is then allowed; it matches no bar).
    pub every_symbol: Option<bool>,
    /// Without `out`: the most matches the screen may hold (default
    /// [`MAX_MATCHES_IN_MEMORY`]); one more stops it with an error at once.
    pub max_matches: Option<f64>,
    /// Save each symbol's state under this folder (`_state/symbols/bucket=<k>/part-<g>.parquet`).
    pub state_out: Option<String>,
    /// The part number of `all` mode's matches files (an update's generation; 0).
    pub matches_part: Option<u32>,
    /// An update: per partition (same order), the previous run's state files and
    /// `_errors` file (`trades` unused).
    pub carried: Option<Vec<super::job::CarriedBucket>>,
}

#[napi(object)]
pub struct ScreenMatch {
    pub symbol: String,
    /// Microseconds since the epoch.
    pub ts: f64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
    /// The named values, in `names` order.
    pub values: Vec<f64>,
}

#[napi(object)]
pub struct ScreenSymbol {
    pub symbol: String,
    /// The last evaluated bar.
    pub ts: f64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
    pub values: Vec<f64>,
    /// The formula's value at that bar.
    pub value: f64,
    pub bars: f64,
    /// Bars whose value was > 0 and < 0.
    pub positive: f64,
    pub negative: f64,
    pub matched: bool,
}

#[napi(object)]
pub struct ScreenFile {
    /// Relative to `out`.
    pub path: String,
    pub rows: f64,
    pub bytes: f64,
    pub sha256: String,
}

#[napi(object)]
pub struct ScreenOutput {
    pub names: Vec<String>,
    pub warmup: f64,
    /// `condition` or `number`.
    pub kind: String,
    pub matches: Vec<ScreenMatch>,
    pub symbols: Vec<ScreenSymbol>,
    pub processed: f64,
    pub matched: f64,
    pub skipped: Vec<SkippedSymbol>,
    pub failed: Vec<FailedSymbol>,
    pub files: Vec<ScreenFile>,
    /// The state files written (with `state_out`).
    pub state_files: Vec<ScreenFile>,
    /// Bars read.
    pub bars_read: f64,
}

fn time(name: &str, v: Option<f64>) -> Result<Option<i64>> {
    match v {
        Some(x) if !(x.is_finite() && x.fract() == 0.0 && x.abs() < 9.2e18) => Err(Error::param(
            format!("{name} must be an integer number of microseconds, got {x}"),
        )),
        Some(x) => Ok(Some(x as i64)),
        None => Ok(None),
    }
}

fn max_matches(v: Option<f64>) -> Result<u64> {
    match v {
        None => Ok(MAX_MATCHES_IN_MEMORY),
        Some(x) if x >= 1.0 && x.fract() == 0.0 && x < 9.0e15 => Ok(x as u64),
        Some(x) => Err(Error::param(format!(
            "maxMatches must be a positive integer, got {x}"
        ))),
    }
}

fn fields(names: &[String]) -> Result<Vec<Field>> {
    names
        .iter()
        .map(|name| {
            Field::ALL
                .into_iter()
                .find(|f| f.as_str() == name)
                .ok_or_else(|| {
                    Error::param(format!(
                        "a column list holds '{name}': each must be one of open, high, low, close, volume"
                    ))
                })
        })
        .collect()
}

pub struct ScreenTask {
    engine: crate::Result<crate::duck::Database>,
    opts: ScreenJobOptions,
    progress: Arc<Progress>,
    cancel: Arc<AtomicBool>,
}

impl Task for ScreenTask {
    type Output = (Arc<Formula>, ScreenResult);
    type JsValue = ScreenOutput;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        guarded(|| {
            let o = &self.opts;
            let formula = Arc::new(Formula::compile(&o.formula)?);
            let opts = ScreenOptions {
                mode: Mode::parse(&o.mode)?,
                from: time("from", o.from)?,
                to: time("to", o.to)?,
                every_symbol: o.every_symbol.unwrap_or(false),
                budget: Budget::millis(o.symbol_timeout_ms)?,
                source_columns: fields(&o.source_columns)?,
                carried: fields(o.carried_columns.as_deref().unwrap_or_default())?,
                max_matches: match o.out {
                    Some(_) => None,
                    None => Some(max_matches(o.max_matches)?),
                },
                part: o.matches_part.unwrap_or(0),
            };
            let parts: Vec<(u32, String)> = o
                .partitions
                .iter()
                .map(|p| (p.bucket, p.sql.clone()))
                .collect();
            let out = o.out.as_ref().map(PathBuf::from);
            let workers = o.workers.unwrap_or(1).max(1) as usize;
            let db = self.engine.clone()?;
            let cont = super::job::continuation(
                &db,
                o.state_out.as_ref(),
                o.carried.as_deref(),
                parts.len(),
            )?;
            let result = pipeline::screen(
                &db,
                &parts,
                &formula,
                &opts,
                out.as_deref(),
                cont,
                workers,
                &self.progress,
                &self.cancel,
            )?;
            Ok((formula, result))
        })
    }

    fn resolve(&mut self, _env: Env, (f, r): Self::Output) -> napi::Result<Self::JsValue> {
        let o = r.outcome;
        Ok(ScreenOutput {
            names: f.names.clone(),
            warmup: f.warmup as f64,
            kind: f.kind.as_str().to_string(),
            matches: o.matches.into_iter().map(to_match).collect(),
            symbols: o
                .symbols
                .into_iter()
                .map(|s| {
                    let m = to_match(s.last);
                    ScreenSymbol {
                        symbol: m.symbol,
                        ts: m.ts,
                        open: m.open,
                        high: m.high,
                        low: m.low,
                        close: m.close,
                        volume: m.volume,
                        values: m.values,
                        value: s.value,
                        bars: s.bars as f64,
                        positive: s.positive as f64,
                        negative: s.negative as f64,
                        matched: s.matched,
                    }
                })
                .collect(),
            processed: o.processed as f64,
            matched: o.matched as f64,
            skipped: o
                .skipped
                .into_iter()
                .map(|(symbol, reason)| SkippedSymbol { symbol, reason })
                .collect(),
            failed: o
                .failed
                .into_iter()
                .map(|(symbol, stage, message)| FailedSymbol {
                    symbol,
                    stage: stage.as_str().to_string(),
                    message,
                })
                .collect(),
            files: r.files.into_iter().map(to_file).collect(),
            state_files: r.states.into_iter().map(to_file).collect(),
            bars_read: self
                .progress
                .bars
                .load(std::sync::atomic::Ordering::Relaxed) as f64,
        })
    }
}

fn to_file(f: crate::pipeline::screen_out::OutFile) -> ScreenFile {
    ScreenFile {
        path: f.path,
        rows: f.rows as f64,
        bytes: f.bytes as f64,
        sha256: f.sha256,
    }
}

fn to_match(m: Match) -> ScreenMatch {
    let [open, high, low, close, volume] = m.ohlcv;
    ScreenMatch {
        symbol: m.symbol,
        ts: m.ts as f64,
        open,
        high,
        low,
        close,
        volume,
        values: m.values,
    }
}

#[napi]
impl NativeEngine {
    /// A formula screened over every symbol (see `pipeline::screen`).
    #[napi]
    pub fn screen(&self, opts: ScreenJobOptions, job: &NativeJob) -> AsyncTask<ScreenTask> {
        AsyncTask::new(ScreenTask {
            engine: self.database(),
            opts,
            progress: job.progress.clone(),
            cancel: job.cancel.clone(),
        })
    }
}
