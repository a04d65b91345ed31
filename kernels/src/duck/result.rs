//! Streaming query results and their Arrow export settings.
use super::c_text;
use super::chunk::DataChunk;
use super::ffi::*;
use crate::error::{Error, Result};

/// A query result consumed chunk by chunk.
pub struct StreamingResult {
    pub(super) res: duckdb_result,
    pub(super) names: Vec<String>,
    pub(super) types: Vec<duckdb_type>,
    pub(super) done: bool,
}
unsafe impl Send for StreamingResult {}

impl Drop for StreamingResult {
    fn drop(&mut self) {
        unsafe { duckdb_destroy_result(&mut self.res) };
    }
}

impl StreamingResult {
    pub fn column_names(&self) -> &[String] {
        &self.names
    }
    pub fn column_types(&self) -> &[duckdb_type] {
        &self.types
    }

    /// The next chunk, `None` at the end.
    ///
    /// # Errors
    /// A failure while executing (e.g. an unreadable file discovered mid-scan, a failed cast).
    pub fn next_chunk(&mut self) -> Result<Option<DataChunk>> {
        if self.done {
            return Ok(None);
        }
        let chunk = unsafe { duckdb_fetch_chunk(self.res) };
        if chunk.is_null() {
            self.done = true;
            let err = unsafe { duckdb_result_error(&mut self.res) };
            if !err.is_null() {
                return Err(Error::duckdb(c_text(err, "fetch failed")));
            }
            return Ok(None);
        }
        Ok(Some(DataChunk { chunk }))
    }

    /// The Arrow export settings of this result (for [`DataChunk::to_arrow`]).
    pub fn arrow_options(&mut self) -> ArrowOptions {
        ArrowOptions(unsafe { duckdb_result_get_arrow_options(&mut self.res) })
    }
}

/// Arrow export settings of a result.
pub struct ArrowOptions(pub(super) duckdb_arrow_options);
unsafe impl Send for ArrowOptions {}
impl Drop for ArrowOptions {
    fn drop(&mut self) {
        unsafe { duckdb_destroy_arrow_options(&mut self.0) };
    }
}

/// An Arrow array exported by DuckDB; released on drop.
pub struct OwnedArrowArray(pub ArrowArray);
impl Drop for OwnedArrowArray {
    fn drop(&mut self) {
        if let Some(release) = self.0.release {
            unsafe { release(&mut self.0) };
        }
    }
}
