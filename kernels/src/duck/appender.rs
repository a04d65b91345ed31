//! The appender: data chunks into a table.
use super::c_text;
use super::chunk::DataChunk;
use super::ffi::*;
use crate::error::{Error, Result};

/// Appends data chunks to a table.
pub struct Appender {
    pub(super) app: duckdb_appender,
}
unsafe impl Send for Appender {}

impl Appender {
    /// # Errors
    /// A chunk whose types do not match the table.
    pub fn append(&mut self, chunk: &DataChunk) -> Result<()> {
        if unsafe { duckdb_append_data_chunk(self.app, chunk.chunk) } != DUCKDB_SUCCESS {
            return Err(Error::duckdb(c_text(
                unsafe { duckdb_appender_error(self.app) },
                "append failed",
            )));
        }
        Ok(())
    }
    /// Writes what was appended so far into the table.
    pub fn flush(&mut self) -> Result<()> {
        if unsafe { duckdb_appender_flush(self.app) } != DUCKDB_SUCCESS {
            return Err(Error::duckdb(c_text(
                unsafe { duckdb_appender_error(self.app) },
                "appender flush failed",
            )));
        }
        Ok(())
    }

    /// Flushes and closes the appender.
    pub fn close(mut self) -> Result<()> {
        let state = unsafe { duckdb_appender_close(self.app) };
        let out = if state != DUCKDB_SUCCESS {
            Err(Error::duckdb(c_text(
                unsafe { duckdb_appender_error(self.app) },
                "appender close failed",
            )))
        } else {
            Ok(())
        };
        unsafe { duckdb_appender_destroy(&mut self.app) };
        self.app = std::ptr::null_mut();
        out
    }
}

impl Drop for Appender {
    fn drop(&mut self) {
        if !self.app.is_null() {
            unsafe { duckdb_appender_destroy(&mut self.app) };
        }
    }
}
