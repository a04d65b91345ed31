//! Safe wrappers over DuckDB's C API: a database, connections, streaming results,
//! data chunks (read as vectors or exported as Arrow) and the appender.
//!
//! The library is the `libduckdb` that `@duckdb/node-api` installs (see `build.rs`).
//! Every failure is returned as [`Error`]; nothing here panics on a DuckDB error.
pub mod ffi;

use crate::error::{Error, Result};
use ffi::*;
use std::ffi::{c_char, CStr, CString};
use std::sync::Arc;

fn cstring(what: &str, s: &str) -> Result<CString> {
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

struct DbInner(duckdb_database);
// DuckDB databases are safe to share between threads; each thread uses its own connection.
unsafe impl Send for DbInner {}
unsafe impl Sync for DbInner {}
impl Drop for DbInner {
    fn drop(&mut self) {
        unsafe { duckdb_close(&mut self.0) };
    }
}

/// An open DuckDB database (in memory unless a path is given).
#[derive(Clone)]
pub struct Database {
    inner: Arc<DbInner>,
}

impl Database {
    /// Opens a database with DuckDB settings such as `("threads", "2")`, `("memory_limit", "2GB")`.
    ///
    /// # Errors
    /// A setting DuckDB does not accept, or a database it cannot open, names the cause.
    pub fn open(path: Option<&str>, settings: &[(&str, String)]) -> Result<Database> {
        unsafe {
            let mut config: duckdb_config = std::ptr::null_mut();
            if duckdb_create_config(&mut config) != DUCKDB_SUCCESS {
                return Err(Error::duckdb("cannot create a DuckDB configuration"));
            }
            for (name, value) in settings {
                let n = cstring("setting name", name)?;
                let v = cstring("setting value", value)?;
                if duckdb_set_config(config, n.as_ptr(), v.as_ptr()) != DUCKDB_SUCCESS {
                    duckdb_destroy_config(&mut config);
                    return Err(Error::param(format!(
                        "DuckDB rejected setting {name}={value}"
                    )));
                }
            }
            let p = cstring("database path", path.unwrap_or(":memory:"))?;
            let mut db: duckdb_database = std::ptr::null_mut();
            let mut err: *mut c_char = std::ptr::null_mut();
            let state = duckdb_open_ext(p.as_ptr(), &mut db, config, &mut err);
            duckdb_destroy_config(&mut config);
            if state != DUCKDB_SUCCESS {
                let msg = c_text(err, "unknown error");
                if !err.is_null() {
                    duckdb_free(err.cast());
                }
                return Err(Error::duckdb(format!("cannot open DuckDB: {msg}")));
            }
            Ok(Database {
                inner: Arc::new(DbInner(db)),
            })
        }
    }

    /// A new connection; connections are cheap and each belongs to one thread at a time.
    pub fn connect(&self) -> Result<Connection> {
        let mut conn: duckdb_connection = std::ptr::null_mut();
        if unsafe { duckdb_connect(self.inner.0, &mut conn) } != DUCKDB_SUCCESS {
            return Err(Error::duckdb("cannot connect to DuckDB"));
        }
        Ok(Connection {
            conn,
            _db: self.inner.clone(),
        })
    }
}

/// One DuckDB connection.
pub struct Connection {
    conn: duckdb_connection,
    _db: Arc<DbInner>,
}
unsafe impl Send for Connection {}

impl Drop for Connection {
    fn drop(&mut self) {
        unsafe { duckdb_disconnect(&mut self.conn) };
    }
}

/// Interrupts the query running on a connection, from any thread.
#[derive(Clone, Copy)]
pub struct Interrupter(duckdb_connection);
unsafe impl Send for Interrupter {}
unsafe impl Sync for Interrupter {}
impl Interrupter {
    pub fn interrupt(&self) {
        unsafe { duckdb_interrupt(self.0) }
    }
}

impl Connection {
    /// Runs statements whose result is not needed (DDL, `COPY`, `SET`).
    ///
    /// # Errors
    /// DuckDB's message for the failed statement.
    pub fn execute(&self, sql: &str) -> Result<()> {
        let q = cstring("SQL", sql)?;
        let mut res = duckdb_result::zeroed();
        let state = unsafe { duckdb_query(self.conn, q.as_ptr(), &mut res) };
        let out = if state != DUCKDB_SUCCESS {
            Err(Error::duckdb(c_text(
                unsafe { duckdb_result_error(&mut res) },
                "query failed",
            )))
        } else {
            Ok(())
        };
        unsafe { duckdb_destroy_result(&mut res) };
        out
    }

    /// Starts a streaming query: chunks are produced as they are fetched, not materialised.
    ///
    /// # Errors
    /// Parse, bind or planning errors, with DuckDB's message.
    pub fn stream(&self, sql: &str) -> Result<StreamingResult> {
        let q = cstring("SQL", sql)?;
        unsafe {
            let mut stmt: duckdb_prepared_statement = std::ptr::null_mut();
            if duckdb_prepare(self.conn, q.as_ptr(), &mut stmt) != DUCKDB_SUCCESS {
                let msg = c_text(duckdb_prepare_error(stmt), "cannot prepare the query");
                duckdb_destroy_prepare(&mut stmt);
                return Err(Error::duckdb(msg));
            }
            let mut pending: duckdb_pending_result = std::ptr::null_mut();
            if duckdb_pending_prepared_streaming(stmt, &mut pending) != DUCKDB_SUCCESS {
                let msg = c_text(duckdb_pending_error(pending), "cannot start the query");
                duckdb_destroy_pending(&mut pending);
                duckdb_destroy_prepare(&mut stmt);
                return Err(Error::duckdb(msg));
            }
            let mut res = duckdb_result::zeroed();
            let state = duckdb_execute_pending(pending, &mut res);
            duckdb_destroy_pending(&mut pending);
            duckdb_destroy_prepare(&mut stmt);
            if state != DUCKDB_SUCCESS {
                let msg = c_text(duckdb_result_error(&mut res), "query failed");
                duckdb_destroy_result(&mut res);
                return Err(Error::duckdb(msg));
            }
            let n = duckdb_column_count(&mut res) as usize;
            let mut names = Vec::with_capacity(n);
            let mut types = Vec::with_capacity(n);
            for c in 0..n {
                names.push(c_text(duckdb_column_name(&mut res, c as idx_t), ""));
                types.push(duckdb_column_type(&mut res, c as idx_t));
            }
            Ok(StreamingResult {
                res,
                names,
                types,
                done: false,
            })
        }
    }

    pub fn interrupter(&self) -> Interrupter {
        Interrupter(self.conn)
    }

    /// An appender into `table` of the default schema.
    pub fn appender(&self, table: &str) -> Result<Appender> {
        let t = cstring("table", table)?;
        let mut app: duckdb_appender = std::ptr::null_mut();
        let state =
            unsafe { duckdb_appender_create(self.conn, std::ptr::null(), t.as_ptr(), &mut app) };
        if state != DUCKDB_SUCCESS {
            let msg = c_text(
                unsafe { duckdb_appender_error(app) },
                "cannot create appender",
            );
            unsafe { duckdb_appender_destroy(&mut app) };
            return Err(Error::duckdb(format!("appender for {table}: {msg}")));
        }
        Ok(Appender { app })
    }
}

/// A query result consumed chunk by chunk.
pub struct StreamingResult {
    res: duckdb_result,
    names: Vec<String>,
    types: Vec<duckdb_type>,
    done: bool,
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
pub struct ArrowOptions(duckdb_arrow_options);
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

/// A chunk of up to [`vector_size`] rows, owned.
pub struct DataChunk {
    chunk: duckdb_data_chunk,
}
unsafe impl Send for DataChunk {}

impl Drop for DataChunk {
    fn drop(&mut self) {
        unsafe { duckdb_destroy_data_chunk(&mut self.chunk) };
    }
}

impl DataChunk {
    /// A new empty chunk of the given column types, for writing.
    pub fn with_types(types: &[duckdb_type]) -> DataChunk {
        unsafe {
            let mut lts: Vec<duckdb_logical_type> = types
                .iter()
                .map(|&t| duckdb_create_logical_type(t))
                .collect();
            let chunk = duckdb_create_data_chunk(lts.as_mut_ptr(), lts.len() as idx_t);
            for lt in lts.iter_mut() {
                duckdb_destroy_logical_type(lt);
            }
            DataChunk { chunk }
        }
    }
    pub fn len(&self) -> usize {
        unsafe { duckdb_data_chunk_get_size(self.chunk) as usize }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn set_len(&mut self, n: usize) {
        unsafe { duckdb_data_chunk_set_size(self.chunk, n as idx_t) }
    }
    pub fn reset(&mut self) {
        unsafe { duckdb_data_chunk_reset(self.chunk) }
    }
    pub fn vector(&self, col: usize) -> Vector<'_> {
        Vector {
            v: unsafe { duckdb_data_chunk_get_vector(self.chunk, col as idx_t) },
            _chunk: std::marker::PhantomData,
        }
    }

    /// Exports the chunk through the Arrow C data interface (`duckdb_data_chunk_to_arrow`).
    ///
    /// # Errors
    /// DuckDB's message if the conversion fails.
    pub fn to_arrow(&self, options: &ArrowOptions) -> Result<OwnedArrowArray> {
        let mut out = OwnedArrowArray(ArrowArray::empty());
        unsafe {
            let mut err = duckdb_data_chunk_to_arrow(options.0, self.chunk, &mut out.0);
            if !err.is_null() {
                let failed = duckdb_error_data_has_error(err);
                let msg = c_text(duckdb_error_data_message(err), "Arrow conversion failed");
                duckdb_destroy_error_data(&mut err);
                if failed {
                    return Err(Error::duckdb(format!("Arrow conversion failed: {msg}")));
                }
            }
        }
        Ok(out)
    }
}

/// A column of a [`DataChunk`], flat (DuckDB flattens chunks it returns through the C API).
pub struct Vector<'a> {
    v: duckdb_vector,
    _chunk: std::marker::PhantomData<&'a DataChunk>,
}

impl<'a> Vector<'a> {
    /// The column's values.
    ///
    /// # Safety
    /// `T` must match the column's physical type and `len` must not exceed the chunk's size.
    pub unsafe fn slice<T>(&self, len: usize) -> &'a [T] {
        std::slice::from_raw_parts(duckdb_vector_get_data(self.v) as *const T, len)
    }
    /// # Safety
    /// As [`Vector::slice`]; `len` at most [`vector_size`]; nothing else may read the vector meanwhile.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn slice_mut<T>(&self, len: usize) -> &'a mut [T] {
        std::slice::from_raw_parts_mut(duckdb_vector_get_data(self.v) as *mut T, len)
    }
    /// The validity bitmask (bit set = valid), `None` when every row is valid.
    pub fn validity(&self, len: usize) -> Option<&'a [u64]> {
        let p = unsafe { duckdb_vector_get_validity(self.v) };
        if p.is_null() {
            None
        } else {
            Some(unsafe { std::slice::from_raw_parts(p, len.div_ceil(64)) })
        }
    }
    pub fn is_valid(&self, row: usize) -> bool {
        match self.validity(row + 1) {
            None => true,
            Some(m) => m[row / 64] >> (row % 64) & 1 == 1,
        }
    }
    /// Writes a string into a VARCHAR vector (DuckDB copies it).
    pub fn set_string(&self, row: usize, s: &str) {
        unsafe {
            duckdb_vector_assign_string_element_len(
                self.v,
                row as idx_t,
                s.as_ptr().cast(),
                s.len() as idx_t,
            )
        }
    }
}

/// Appends data chunks to a table.
pub struct Appender {
    app: duckdb_appender,
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

/// Quotes a string as a SQL literal.
pub fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
