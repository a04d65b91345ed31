//! Thin Node bindings: check arguments, call the core, wrap the result.
//! Errors cross as `[CODE] message` and become `BarstreamError` in TypeScript
//! (`engine/errors.ts`); a panic is caught and returned as an internal error.
mod atc;
mod dataset;
mod engine;
mod formula;
mod job;
mod kernel_binding;
mod ma;
mod osc;
mod screen;
mod trend;
mod vol;

use crate::error::Error;
use napi_derive::napi;

pub(crate) fn to_napi(e: Error) -> napi::Error {
    napi::Error::from_reason(format!("[{}] {}", e.code.as_str(), e.message))
}

/// Runs `f`, turning both errors and panics into `napi::Error`.
pub(crate) fn guarded<T>(f: impl FnOnce() -> crate::Result<T>) -> napi::Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r.map_err(to_napi),
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(napi::Error::from_reason(format!(
                "[BARSTREAM_INTERNAL] internal error: {what}"
            )))
        }
    }
}

#[napi(object)]
pub struct VersionInfo {
    pub barstream: String,
    pub duckdb: String,
}

/// Versions of the addon and of the DuckDB library it linked.
#[napi]
pub fn version() -> VersionInfo {
    VersionInfo {
        barstream: env!("CARGO_PKG_VERSION").to_string(),
        duckdb: crate::duck::library_version(),
    }
}
