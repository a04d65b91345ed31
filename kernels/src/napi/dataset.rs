//! `generate`: the synthetic dataset writer, off the JS thread.
use super::guarded;
use crate::gen::{write_dataset, Freq, GenParams, WrittenFile};
use crate::Error;
use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Task};
use napi_derive::napi;
use std::path::PathBuf;

#[napi(object)]
pub struct GenerateOptions {
    /// An existing, empty folder to write into.
    pub dir: String,
    pub symbols: u32,
    pub bars: u32,
    pub seed: f64,
    /// Start, microseconds since the epoch.
    pub start_us: f64,
    pub freq: String,
    pub buckets: u32,
    /// Write only this bucket.
    pub bucket: Option<u32>,
    pub threads: Option<u32>,
}

#[napi(object)]
pub struct GeneratedFile {
    pub path: String,
    pub bucket: u32,
    pub rows: f64,
}

pub struct GenerateTask {
    dir: PathBuf,
    params: crate::Result<GenParams>,
    threads: Option<u32>,
}

impl Task for GenerateTask {
    type Output = Vec<WrittenFile>;
    type JsValue = Vec<GeneratedFile>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        guarded(|| {
            let params = self.params.clone()?;
            let settings: Vec<(&str, String)> = self
                .threads
                .map(|t| vec![("threads", t.to_string())])
                .unwrap_or_default();
            write_dataset(&self.dir, &params, &settings)
        })
    }

    fn resolve(&mut self, _env: Env, files: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(files
            .into_iter()
            .map(|f| GeneratedFile {
                path: f.path.to_string_lossy().into_owned(),
                bucket: f.bucket as u32,
                rows: f.rows as f64,
            })
            .collect())
    }
}

/// Writes a synthetic OHLCV dataset into `opts.dir` (see `crate::gen`).
#[napi]
pub fn generate(opts: GenerateOptions) -> AsyncTask<GenerateTask> {
    let params = (|| {
        if !(opts.seed.is_finite() && opts.seed >= 0.0 && opts.seed.fract() == 0.0) {
            return Err(Error::param("seed must be a non-negative integer"));
        }
        Ok(GenParams {
            symbols: opts.symbols as usize,
            bars: opts.bars as usize,
            seed: opts.seed as u64,
            start_us: opts.start_us as i64,
            freq: Freq::parse(&opts.freq)?,
            buckets: opts.buckets as usize,
            only_bucket: opts.bucket.map(|b| b as usize),
        })
    })();
    AsyncTask::new(GenerateTask {
        dir: PathBuf::from(opts.dir),
        params,
        threads: opts.threads,
    })
}
