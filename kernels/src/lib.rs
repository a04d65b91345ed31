//! barstream's Rust core.
//!
//! - [`duck`]: DuckDB's C API, linked against the `libduckdb` that npm installs.
//! - [`read`]: SQL -> DuckDB chunks -> per-symbol runs, checked for order.
//! - [`gen`]: the synthetic OHLCV generator and the canonical dataset writer.
//! - [`kernel`]: the shape every kernel shares ([`kernel::Kernel`]) and its input checks.
//! - [`ma`], [`osc`], [`stat`], [`vol`], [`atc`]: the indicator kernels and the Adaptive
//!   Trend Classification.
//! - [`formula`]: the formula language (compiler and resumable evaluator).
//! - [`codec`]: kernel state as bytes (resume a series later).
//! - `napi` (feature `napi`, default): thin Node bindings; the rest knows nothing of Node.
pub mod atc;
pub mod codec;
pub mod duck;
pub mod error;
pub mod formula;
pub mod gen;
pub mod kernel;
pub mod ma;
pub mod osc;
pub mod parquet;
pub mod pipeline;
pub mod read;
pub mod stat;
pub mod vol;

#[cfg(feature = "napi")]
mod napi;

pub use error::{Error, ErrorCode, Result};
