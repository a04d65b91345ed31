//! Raw declarations of the part of DuckDB's C API (`duckdb.h`) that barstream uses.
//!
//! Only the non-deprecated streaming path is declared: prepared statement ->
//! `duckdb_pending_prepared_streaming` -> `duckdb_fetch_chunk`, data chunks read as
//! vectors or exported with `duckdb_data_chunk_to_arrow`, and the appender for writes.
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_void};

pub type idx_t = u64;
pub type duckdb_state = i32;
pub const DUCKDB_SUCCESS: duckdb_state = 0;

pub type duckdb_database = *mut c_void;
pub type duckdb_connection = *mut c_void;
pub type duckdb_config = *mut c_void;
pub type duckdb_prepared_statement = *mut c_void;
pub type duckdb_pending_result = *mut c_void;
pub type duckdb_data_chunk = *mut c_void;
pub type duckdb_vector = *mut c_void;
pub type duckdb_logical_type = *mut c_void;
pub type duckdb_appender = *mut c_void;
pub type duckdb_arrow_options = *mut c_void;
pub type duckdb_error_data = *mut c_void;

/// `duckdb_type` values used here.
pub type duckdb_type = i32;
pub const DUCKDB_TYPE_BIGINT: duckdb_type = 5;
pub const DUCKDB_TYPE_DOUBLE: duckdb_type = 11;
pub const DUCKDB_TYPE_TIMESTAMP: duckdb_type = 12;
pub const DUCKDB_TYPE_VARCHAR: duckdb_type = 17;
/// Held as `duckdb_string_t`, like VARCHAR (bytes, not necessarily UTF-8).
pub const DUCKDB_TYPE_BLOB: duckdb_type = 18;

/// `duckdb_result`: the deprecated fields keep the layout; only `internal_data` matters.
/// `duckdb_fetch_chunk` takes it by value, so it is `Copy`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct duckdb_result {
    deprecated_column_count: idx_t,
    deprecated_row_count: idx_t,
    deprecated_rows_changed: idx_t,
    deprecated_columns: *mut c_void,
    deprecated_error_message: *mut c_char,
    internal_data: *mut c_void,
}

impl duckdb_result {
    pub fn zeroed() -> Self {
        duckdb_result {
            deprecated_column_count: 0,
            deprecated_row_count: 0,
            deprecated_rows_changed: 0,
            deprecated_columns: std::ptr::null_mut(),
            deprecated_error_message: std::ptr::null_mut(),
            internal_data: std::ptr::null_mut(),
        }
    }
}

/// `duckdb_string_t`: 16 bytes; strings of up to 12 bytes are stored inline,
/// longer ones as a 4-byte prefix and a pointer.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct duckdb_string_t {
    pub length: u32,
    pub prefix: [u8; 4],
    pub rest: [u8; 8],
}

/// The Arrow C data interface array (arrow.apache.org/docs/format/CDataInterface.html).
#[repr(C)]
pub struct ArrowArray {
    pub length: i64,
    pub null_count: i64,
    pub offset: i64,
    pub n_buffers: i64,
    pub n_children: i64,
    pub buffers: *mut *const c_void,
    pub children: *mut *mut ArrowArray,
    pub dictionary: *mut ArrowArray,
    pub release: Option<unsafe extern "C" fn(*mut ArrowArray)>,
    pub private_data: *mut c_void,
}

impl ArrowArray {
    pub fn empty() -> Self {
        ArrowArray {
            length: 0,
            null_count: 0,
            offset: 0,
            n_buffers: 0,
            n_children: 0,
            buffers: std::ptr::null_mut(),
            children: std::ptr::null_mut(),
            dictionary: std::ptr::null_mut(),
            release: None,
            private_data: std::ptr::null_mut(),
        }
    }
}

extern "C" {
    pub fn duckdb_library_version() -> *const c_char;
    pub fn duckdb_free(ptr: *mut c_void);
    pub fn duckdb_vector_size() -> idx_t;

    pub fn duckdb_create_config(out: *mut duckdb_config) -> duckdb_state;
    pub fn duckdb_set_config(
        config: duckdb_config,
        name: *const c_char,
        option: *const c_char,
    ) -> duckdb_state;
    pub fn duckdb_destroy_config(config: *mut duckdb_config);
    pub fn duckdb_open_ext(
        path: *const c_char,
        out: *mut duckdb_database,
        config: duckdb_config,
        out_error: *mut *mut c_char,
    ) -> duckdb_state;
    pub fn duckdb_close(db: *mut duckdb_database);
    pub fn duckdb_connect(db: duckdb_database, out: *mut duckdb_connection) -> duckdb_state;
    pub fn duckdb_disconnect(conn: *mut duckdb_connection);
    pub fn duckdb_interrupt(conn: duckdb_connection);

    pub fn duckdb_query(
        conn: duckdb_connection,
        sql: *const c_char,
        out: *mut duckdb_result,
    ) -> duckdb_state;
    pub fn duckdb_destroy_result(result: *mut duckdb_result);
    pub fn duckdb_result_error(result: *mut duckdb_result) -> *const c_char;
    pub fn duckdb_column_count(result: *mut duckdb_result) -> idx_t;
    pub fn duckdb_column_name(result: *mut duckdb_result, col: idx_t) -> *const c_char;
    pub fn duckdb_column_type(result: *mut duckdb_result, col: idx_t) -> duckdb_type;
    pub fn duckdb_fetch_chunk(result: duckdb_result) -> duckdb_data_chunk;

    pub fn duckdb_prepare(
        conn: duckdb_connection,
        sql: *const c_char,
        out: *mut duckdb_prepared_statement,
    ) -> duckdb_state;
    pub fn duckdb_prepare_error(stmt: duckdb_prepared_statement) -> *const c_char;
    pub fn duckdb_destroy_prepare(stmt: *mut duckdb_prepared_statement);
    pub fn duckdb_pending_prepared_streaming(
        stmt: duckdb_prepared_statement,
        out: *mut duckdb_pending_result,
    ) -> duckdb_state;
    pub fn duckdb_pending_error(pending: duckdb_pending_result) -> *const c_char;
    pub fn duckdb_execute_pending(
        pending: duckdb_pending_result,
        out: *mut duckdb_result,
    ) -> duckdb_state;
    pub fn duckdb_destroy_pending(pending: *mut duckdb_pending_result);

    pub fn duckdb_create_logical_type(t: duckdb_type) -> duckdb_logical_type;
    pub fn duckdb_destroy_logical_type(t: *mut duckdb_logical_type);
    pub fn duckdb_create_data_chunk(
        types: *mut duckdb_logical_type,
        count: idx_t,
    ) -> duckdb_data_chunk;
    pub fn duckdb_destroy_data_chunk(chunk: *mut duckdb_data_chunk);
    pub fn duckdb_data_chunk_reset(chunk: duckdb_data_chunk);
    pub fn duckdb_data_chunk_get_size(chunk: duckdb_data_chunk) -> idx_t;
    pub fn duckdb_data_chunk_set_size(chunk: duckdb_data_chunk, size: idx_t);
    pub fn duckdb_data_chunk_get_vector(chunk: duckdb_data_chunk, col: idx_t) -> duckdb_vector;
    pub fn duckdb_vector_get_data(v: duckdb_vector) -> *mut c_void;
    pub fn duckdb_vector_get_validity(v: duckdb_vector) -> *mut u64;
    pub fn duckdb_vector_assign_string_element_len(
        v: duckdb_vector,
        index: idx_t,
        s: *const c_char,
        len: idx_t,
    );

    pub fn duckdb_appender_create(
        conn: duckdb_connection,
        schema: *const c_char,
        table: *const c_char,
        out: *mut duckdb_appender,
    ) -> duckdb_state;
    pub fn duckdb_appender_error(appender: duckdb_appender) -> *const c_char;
    pub fn duckdb_append_data_chunk(
        appender: duckdb_appender,
        chunk: duckdb_data_chunk,
    ) -> duckdb_state;
    pub fn duckdb_appender_flush(appender: duckdb_appender) -> duckdb_state;
    pub fn duckdb_appender_close(appender: duckdb_appender) -> duckdb_state;
    pub fn duckdb_appender_destroy(appender: *mut duckdb_appender) -> duckdb_state;

    pub fn duckdb_result_get_arrow_options(result: *mut duckdb_result) -> duckdb_arrow_options;
    pub fn duckdb_destroy_arrow_options(options: *mut duckdb_arrow_options);
    pub fn duckdb_data_chunk_to_arrow(
        options: duckdb_arrow_options,
        chunk: duckdb_data_chunk,
        out: *mut ArrowArray,
    ) -> duckdb_error_data;
    pub fn duckdb_error_data_has_error(e: duckdb_error_data) -> bool;
    pub fn duckdb_error_data_message(e: duckdb_error_data) -> *const c_char;
    pub fn duckdb_destroy_error_data(e: *mut duckdb_error_data);
}
