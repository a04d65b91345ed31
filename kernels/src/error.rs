//! One error type for the whole core, mapped once to JS (a stable `code` plus a message).
use std::fmt;

/// What went wrong, as a stable machine-readable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// A parameter is out of range or malformed; the message names it.
    InvalidParam,
    /// DuckDB refused a statement or failed while running it.
    Duckdb,
    /// The input data breaks an expectation (type, NULL, order); the message names where.
    BadInput,
    /// A file could not be read or written.
    Io,
    /// The caller cancelled the work.
    Cancelled,
    /// A formula does not compile; the message has three lines (place, line, caret).
    InvalidFormula,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidParam => "BARSTREAM_INVALID_PARAM",
            ErrorCode::Duckdb => "BARSTREAM_DUCKDB",
            ErrorCode::BadInput => "BARSTREAM_BAD_INPUT",
            ErrorCode::Io => "BARSTREAM_IO",
            ErrorCode::Cancelled => "BARSTREAM_CANCELLED",
            ErrorCode::InvalidFormula => "BARSTREAM_INVALID_FORMULA",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
        }
    }
    pub fn param(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidParam, message)
    }
    pub fn duckdb(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Duckdb, message)
    }
    pub fn bad_input(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::BadInput, message)
    }
    pub fn io(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Io, message)
    }
    pub fn cancelled() -> Self {
        Error::new(ErrorCode::Cancelled, "cancelled")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::io(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, Error>;
