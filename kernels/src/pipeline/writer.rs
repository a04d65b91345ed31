//! Result tables written as Parquet through DuckDB: rows are appended to a temporary
//! table on the worker's own connection, then `COPY`ed to a hidden temporary file that is
//! renamed into place, so a reader never sees a half-written file.
use crate::duck::ffi::{duckdb_type, DUCKDB_TYPE_BIGINT, DUCKDB_TYPE_DOUBLE, DUCKDB_TYPE_TIMESTAMP, DUCKDB_TYPE_VARCHAR};
use crate::duck::{sql_literal, vector_size, Appender, Connection, DataChunk, Database};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static TABLE_SEQ: AtomicU64 = AtomicU64::new(0);

/// A column of a result table.
#[derive(Clone, Copy)]
pub enum Col {
    Text(&'static str),
    Timestamp(&'static str),
    Double(&'static str),
    BigInt(&'static str),
}

impl Col {
    fn name(self) -> &'static str {
        match self {
            Col::Text(n) | Col::Timestamp(n) | Col::Double(n) | Col::BigInt(n) => n,
        }
    }
    fn sql_type(self) -> &'static str {
        match self {
            Col::Text(_) => "VARCHAR",
            Col::Timestamp(_) => "TIMESTAMP",
            Col::Double(_) => "DOUBLE",
            Col::BigInt(_) => "BIGINT",
        }
    }
    fn duck_type(self) -> duckdb_type {
        match self {
            Col::Text(_) => DUCKDB_TYPE_VARCHAR,
            Col::Timestamp(_) => DUCKDB_TYPE_TIMESTAMP,
            Col::Double(_) => DUCKDB_TYPE_DOUBLE,
            Col::BigInt(_) => DUCKDB_TYPE_BIGINT,
        }
    }
}

/// One value per column for [`ResultTable::push_row`].
pub enum Val<'a> {
    Text(&'a str),
    Timestamp(i64),
    Double(f64),
    BigInt(i64),
}

/// A temporary table on its own connection, filled chunk by chunk and written out as one
/// Parquet file.
pub struct ResultTable {
    conn: Connection,
    name: String,
    cols: &'static [Col],
    appender: Option<Appender>,
    chunk: DataChunk,
    filled: usize,
    pub rows: u64,
}

impl ResultTable {
    /// # Errors
    /// DuckDB's message if the table cannot be created.
    pub fn create(db: &Database, cols: &'static [Col]) -> Result<Self> {
        let conn = db.connect()?;
        let name = format!("barstream_out_{}", TABLE_SEQ.fetch_add(1, Ordering::Relaxed));
        let defs: Vec<String> = cols.iter().map(|c| format!("\"{}\" {}", c.name(), c.sql_type())).collect();
        conn.execute(&format!("CREATE TEMP TABLE {name} ({})", defs.join(", ")))?;
        let appender = conn.appender(&name)?;
        let types: Vec<duckdb_type> = cols.iter().map(|c| c.duck_type()).collect();
        Ok(ResultTable { conn, name, cols, appender: Some(appender), chunk: DataChunk::with_types(&types), filled: 0, rows: 0 })
    }

    fn flush_chunk(&mut self) -> Result<()> {
        if self.filled > 0 {
            self.chunk.set_len(self.filled);
            self.appender.as_mut().expect("open appender").append(&self.chunk)?;
            self.chunk.reset();
            self.filled = 0;
        }
        Ok(())
    }

    /// Appends `ts.len()` rows of one symbol: `cols` holds the DOUBLE columns that follow
    /// the leading `(symbol, ts)` pair, in table order.
    ///
    /// # Errors
    /// DuckDB's message if an append fails.
    pub fn push_series(&mut self, symbol: &str, ts: &[i64], cols: &[&[f64]]) -> Result<()> {
        debug_assert_eq!(cols.len() + 2, self.cols.len());
        let cap = vector_size();
        let mut start = 0;
        while start < ts.len() {
            if self.filled == cap {
                self.flush_chunk()?;
            }
            let n = (cap - self.filled).min(ts.len() - start);
            let (at, end) = (self.filled, start + n);
            let sym = self.chunk.vector(0);
            for i in at..at + n {
                sym.set_string(i, symbol);
            }
            let dst = unsafe { self.chunk.vector(1).slice_mut::<i64>(at + n) };
            dst[at..].copy_from_slice(&ts[start..end]);
            for (c, src) in cols.iter().enumerate() {
                let dst = unsafe { self.chunk.vector(c + 2).slice_mut::<f64>(at + n) };
                dst[at..].copy_from_slice(&src[start..end]);
            }
            self.filled += n;
            self.rows += n as u64;
            start = end;
        }
        Ok(())
    }

    /// Appends one row.
    ///
    /// # Errors
    /// DuckDB's message if an append fails; `InvalidParam` if a value does not fit its column.
    pub fn push_row(&mut self, values: &[Val<'_>]) -> Result<()> {
        if self.filled == vector_size() {
            self.flush_chunk()?;
        }
        let i = self.filled;
        for (c, (col, v)) in self.cols.iter().zip(values).enumerate() {
            let vec = self.chunk.vector(c);
            match (col, v) {
                (Col::Text(_), Val::Text(s)) => vec.set_string(i, s),
                (Col::Timestamp(_), Val::Timestamp(t)) | (Col::BigInt(_), Val::BigInt(t)) => {
                    let dst = unsafe { vec.slice_mut::<i64>(i + 1) };
                    dst[i] = *t;
                }
                (Col::Double(_), Val::Double(x)) => {
                    let dst = unsafe { vec.slice_mut::<f64>(i + 1) };
                    dst[i] = *x;
                }
                _ => return Err(Error::param(format!("value of the wrong type for column {}", col.name()))),
            }
        }
        self.filled += 1;
        self.rows += 1;
        Ok(())
    }

    /// Removes every row of `symbol` appended so far (a symbol that failed part-way).
    ///
    /// # Errors
    /// DuckDB's message.
    pub fn delete_symbol(&mut self, symbol: &str) -> Result<u64> {
        self.flush_chunk()?;
        self.appender.as_mut().expect("open appender").flush()?;
        let before = self.count()?;
        self.conn.execute(&format!("DELETE FROM {} WHERE symbol = {}", self.name, sql_literal(symbol)))?;
        let removed = before - self.count()?;
        self.rows -= removed;
        Ok(removed)
    }

    fn count(&self) -> Result<u64> {
        let mut r = self.conn.stream(&format!("SELECT count(*)::BIGINT FROM {}", self.name))?;
        let c = r.next_chunk()?.ok_or_else(|| Error::duckdb("count returned nothing"))?;
        Ok(unsafe { c.vector(0).slice::<i64>(1) }[0] as u64)
    }

    /// Writes the table to `path` (zstd Parquet, rows in append order) through a hidden
    /// temporary file in the same folder, renamed into place.
    ///
    /// # Errors
    /// DuckDB's or the file system's message, naming the path.
    pub fn write_parquet(mut self, path: &Path) -> Result<u64> {
        self.flush_chunk()?;
        if let Some(app) = self.appender.take() {
            app.close()?;
        }
        let dir = path.parent().ok_or_else(|| Error::io(format!("{} has no parent folder", path.display())))?;
        std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("cannot create {}: {e}", dir.display())))?;
        let tmp = temp_path(path);
        let tmp_str = tmp.to_str().ok_or_else(|| Error::param("output path is not valid UTF-8"))?;
        self.conn.execute(&format!(
            "COPY {} TO {} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)",
            self.name,
            sql_literal(tmp_str)
        ))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(format!("cannot rename {} into place: {e}", tmp.display())))?;
        Ok(self.rows)
    }
}

impl Drop for ResultTable {
    fn drop(&mut self) {
        self.appender.take();
        let _ = self.conn.execute(&format!("DROP TABLE IF EXISTS {}", self.name));
    }
}

/// `dir/.name.tmp-<pid>`: hidden, so globs such as `*.parquet` never match it.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}
