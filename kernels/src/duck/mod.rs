//! Safe wrappers over DuckDB's C API: a database, connections, streaming results,
//! data chunks (read as vectors or exported as Arrow) and the appender.
//!
//! The library is the `libduckdb` that `@duckdb/node-api` installs (see `build.rs`).
//! Every failure is returned as [`Error`]; nothing here panics on a DuckDB error.
pub mod appender;
pub mod chunk;
pub mod database;
pub mod ffi;
pub mod result;

use crate::error::{Error, Result};
use ffi::*;
use std::ffi::{c_char, CStr, CString};

pub use appender::Appender;
pub use chunk::{DataChunk, Vector};
pub use database::{Connection, Database, Interrupter};
pub use result::{ArrowOptions, OwnedArrowArray, StreamingResult};

pub(crate) fn cstring(what: &str, s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::param(format!("{what} contains a NUL byte")))
}

/// Copies a C string that DuckDB owns; `fallback` when it is NULL.
pub(crate) fn c_text(p: *const c_char, fallback: &str) -> String {
    if p.is_null() {
        fallback.to_string()
    } else {
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

/// The version of the linked DuckDB library, e.g. `v1.5.6`.
pub fn library_version() -> String {
    c_text(unsafe { duckdb_library_version() }, "unknown")
}

/// Rows per DuckDB vector (`STANDARD_VECTOR_SIZE`, 2048 in release builds).
pub fn vector_size() -> usize {
    unsafe { duckdb_vector_size() as usize }
}

/// Quotes a string as a SQL literal.
pub fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
