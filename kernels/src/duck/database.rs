//! The database, its connections and running statements.
use super::appender::Appender;
use super::ffi::*;
use super::result::StreamingResult;
use super::{c_text, cstring};
use crate::error::{Error, Result};
use std::ffi::c_char;
use std::sync::Arc;

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
