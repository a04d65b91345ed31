//! `NativeEngine`: one embedded DuckDB shared by every job of an `Engine`, and the
//! read path exposed as async tasks.
use super::guarded;
use crate::duck::Database;
use crate::read::parallel::{check_disjoint, read_partitions};
use crate::read::stats::{StatsSink, SymbolStats};
use crate::read::{ReadMode, ReadStats};
use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Task};
use napi_derive::napi;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

#[napi(object)]
pub struct EngineSettings {
    pub threads: Option<u32>,
    /// DuckDB's `memory_limit`, e.g. `2GB`.
    pub memory_limit: Option<String>,
    /// Where DuckDB spills when over its memory limit.
    pub temp_directory: Option<String>,
}

#[napi]
pub struct NativeEngine {
    /// `None` once closed; jobs already running keep their own handle until they finish.
    db: std::sync::RwLock<Option<Database>>,
}

#[napi]
impl NativeEngine {
    #[napi(constructor)]
    pub fn new(settings: EngineSettings) -> napi::Result<Self> {
        guarded(|| {
            let mut s: Vec<(&str, String)> = Vec::new();
            if let Some(t) = settings.threads {
                s.push(("threads", t.to_string()));
            }
            if let Some(m) = settings.memory_limit {
                s.push(("memory_limit", m));
            }
            if let Some(d) = settings.temp_directory {
                s.push(("temp_directory", d));
            }
            Ok(NativeEngine {
                db: std::sync::RwLock::new(Some(Database::open(None, &s)?)),
            })
        })
    }

    /// The database, or an error naming the closed engine.
    pub(crate) fn database(&self) -> crate::Result<Database> {
        self.db
            .read()
            .map_err(|_| crate::Error::param("the engine's lock is poisoned"))?
            .clone()
            .ok_or_else(|| crate::Error::param("the engine is closed"))
    }

    /// Releases the engine's database (running jobs finish first; later calls fail).
    #[napi]
    pub fn close(&self) {
        if let Ok(mut db) = self.db.write() {
            db.take();
        }
    }

    /// Runs statements (view definitions, settings) on the engine's database.
    #[napi]
    pub fn execute(&self, sql: String) -> napi::Result<()> {
        guarded(|| self.database()?.connect()?.execute(&sql))
    }

    /// The column names a query returns (it is planned, not run to completion).
    #[napi]
    pub fn columns(&self, sql: String) -> napi::Result<Vec<String>> {
        guarded(|| {
            Ok(self
                .database()?
                .connect()?
                .stream(&sql)?
                .column_names()
                .to_vec())
        })
    }

    /// Streams `opts.sql` through the Rust read path and returns per-symbol statistics.
    #[napi]
    pub fn read_stats(&self, opts: ReadOptions) -> AsyncTask<ReadTask> {
        AsyncTask::new(ReadTask {
            db: self.database(),
            opts,
        })
    }
}

#[napi(object)]
pub struct ReadOptions {
    /// One query per partition; partitions hold disjoint symbols and are read in parallel,
    /// results concatenated in partition order.
    pub partitions: Vec<String>,
    /// Reader threads (default 1).
    pub workers: Option<u32>,
    /// DOUBLE columns handed to the sink; the first is taken as the close.
    pub values: Vec<String>,
    /// `vectors` (default) or `arrow`.
    pub mode: Option<String>,
}

#[napi(object)]
pub struct SymbolStatsJs {
    pub symbol: String,
    pub rows: f64,
    pub runs: u32,
    /// Microseconds since the epoch.
    pub first_ts: f64,
    pub last_ts: f64,
    pub last_close: f64,
    pub sum_close: f64,
}

#[napi(object)]
pub struct ReadResult {
    pub rows: f64,
    pub batches: f64,
    pub runs: f64,
    pub symbols: Vec<SymbolStatsJs>,
    /// Symbols whose input was bad (a duplicate timestamp, a NULL), with stage `input`.
    pub failed: Vec<super::job::FailedSymbol>,
    pub elapsed_ms: f64,
}

pub struct ReadTask {
    db: crate::Result<Database>,
    opts: ReadOptions,
}

pub struct ReadOutput {
    stats: ReadStats,
    symbols: Vec<SymbolStats>,
    failed: Vec<(String, String)>,
    elapsed_ms: f64,
}

impl Task for ReadTask {
    type Output = ReadOutput;
    type JsValue = ReadResult;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        guarded(|| {
            let mode = ReadMode::parse(self.opts.mode.as_deref().unwrap_or("vectors"))?;
            let t0 = Instant::now();
            let workers = self.opts.workers.unwrap_or(1).max(1) as usize;
            let cancel = AtomicBool::new(false);
            let parts = read_partitions(
                &self.db.clone()?,
                &self.opts.partitions,
                &self.opts.values,
                mode,
                workers,
                |_| StatsSink::default(),
                &cancel,
            )?;
            check_disjoint(parts.iter().map(|p| {
                let failed = p.sink.failed.iter().map(|(s, _)| s.as_str());
                p.sink
                    .symbols
                    .iter()
                    .map(|s| s.symbol.as_str())
                    .chain(failed)
            }))?;
            let mut stats = ReadStats::default();
            let (mut symbols, mut failed) = (Vec::new(), Vec::new());
            for p in parts {
                stats.rows += p.stats.rows;
                stats.batches += p.stats.batches;
                stats.runs += p.stats.runs;
                stats.symbols += p.stats.symbols;
                stats.failed += p.stats.failed;
                symbols.extend(p.sink.symbols);
                failed.extend(p.sink.failed);
            }
            Ok(ReadOutput {
                stats,
                symbols,
                failed,
                elapsed_ms: t0.elapsed().as_secs_f64() * 1e3,
            })
        })
    }

    fn resolve(&mut self, _env: Env, out: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(ReadResult {
            rows: out.stats.rows as f64,
            batches: out.stats.batches as f64,
            runs: out.stats.runs as f64,
            elapsed_ms: out.elapsed_ms,
            symbols: out
                .symbols
                .into_iter()
                .map(|s| SymbolStatsJs {
                    symbol: s.symbol,
                    rows: s.rows as f64,
                    runs: s.runs,
                    first_ts: s.first_ts as f64,
                    last_ts: s.last_ts as f64,
                    last_close: s.last_close,
                    sum_close: s.sum_close,
                })
                .collect(),
            failed: out
                .failed
                .into_iter()
                .map(|(symbol, message)| super::job::FailedSymbol {
                    symbol,
                    stage: crate::pipeline::Stage::Input.as_str().to_string(),
                    message,
                })
                .collect(),
        })
    }
}
