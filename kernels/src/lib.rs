//! barstream's Rust core.
//!
//! - [`duck`]: DuckDB's C API, linked against the `libduckdb` that npm installs.
//! - [`read`]: SQL -> DuckDB chunks -> per-symbol runs, checked for order.
//! - [`gen`]: the synthetic OHLCV generator and the canonical dataset writer.
//! - `napi` (feature `napi`, default): thin Node bindings; the rest knows nothing of Node.
pub mod duck;
pub mod error;
pub mod gen;
pub mod read;

#[cfg(feature = "napi")]
mod napi;

pub use error::{Error, ErrorCode, Result};
