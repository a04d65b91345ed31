//! barstream's result tables as Parquet, through the `parquet` crate's column writers: a
//! flat schema of REQUIRED columns (UTF-8 text, timestamps in microseconds, DOUBLE, INT64),
//! snappy-compressed pages, and statistics in the current `min_value`/`max_value` fields
//! with the column orders and the page index, so any reader (DuckDB, pyarrow, polars) can
//! skip row groups and pages by symbol, time or value.
//!
//! Encodings: text and numbers that repeat (signal levels, positions, events) go through a
//! dictionary (a symbol repeated on every row costs a few bits); a number column that shows
//! more than a few hundred distinct values in a row group gives its dictionary up and is
//! written plainly; timestamps are delta-encoded. Snappy rather than zstd: on these tables
//! zstd makes files about 8% smaller again but the whole backtest about 20% slower
//! (`npm run bench:writer`).
//!
//! Values go from the caller's column buffers to the column writers as slices: doubles and
//! integers without conversion, text as one shared byte string per run of equal values.
//! Every byte is hashed (sha256) on its way to the file, so nobody reads the file back for
//! a checksum.
use crate::error::{Error, Result};
use parquet::basic::{Compression, Encoding, LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::column::writer::ColumnWriter;
use parquet::data_type::ByteArray;
use parquet::errors::ParquetError;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{ColumnPath, Type};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// A column's logical type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    TimestampMicros,
    Double,
    Int64,
}

#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
}

/// One column of a row group.
pub enum ColumnData<'a> {
    /// Text as runs of equal values: `(value, count)`.
    TextRuns(&'a [(&'a str, usize)]),
    Text(&'a [String]),
    I64(&'a [i64]),
    F64(&'a [f64]),
}

impl ColumnData<'_> {
    fn len(&self) -> usize {
        match self {
            ColumnData::TextRuns(r) => r.iter().map(|(_, n)| n).sum(),
            ColumnData::Text(v) => v.len(),
            ColumnData::I64(v) => v.len(),
            ColumnData::F64(v) => v.len(),
        }
    }
}

/// Dictionary bytes a number column may fill before it is written plainly instead: a few
/// hundred distinct values (signal levels, positions, events repeat; prices do not).
const NUMBER_DICTIONARY_BYTES: usize = 4096;
/// Text values handed to the column writer at a time.
const TEXT_BATCH: usize = 8192;

/// What a finished file holds: rows, bytes and the sha256 of those bytes (hashed as they
/// were written, so nobody has to read the file back for a checksum).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// The file under the Parquet writer: hashes and counts what goes through, and keeps the
/// operating system's reason for the first failed write (the crate wraps it in its own).
struct Sink {
    file: File,
    hash: Sha256,
    bytes: u64,
    failure: Option<String>,
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.file.write(buf) {
            Ok(n) => {
                self.hash.update(&buf[..n]);
                self.bytes += n as u64;
                Ok(n)
            }
            Err(e) => {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    self.failure.get_or_insert_with(|| e.to_string());
                }
                Err(e)
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Writes one Parquet file, a row group at a time.
pub struct FileWriter {
    inner: SerializedFileWriter<Sink>,
    fields: Vec<Field>,
    rows: u64,
    /// The name errors give: the file's final name when it is written under a temporary one.
    name: String,
}

impl FileWriter {
    /// Creates (truncates) `path` and writes the header.
    ///
    /// # Errors
    /// The file system's message, naming the path.
    pub fn create(path: &Path, fields: &[Field]) -> Result<Self> {
        FileWriter::create_as(path, path, fields)
    }

    /// Like [`FileWriter::create`], writing to `path` but naming `name` in errors (a file
    /// written under a temporary name and renamed into place).
    ///
    /// # Errors
    /// The file system's message, naming `name`.
    pub fn create_as(path: &Path, name: &Path, fields: &[Field]) -> Result<Self> {
        let name = name.display().to_string();
        let file = File::create(path).map_err(|e| io_err(&name, &e.to_string()))?;
        let sink = Sink {
            file,
            hash: Sha256::new(),
            bytes: 0,
            failure: None,
        };
        let schema = Arc::new(schema(fields).map_err(|e| internal(&name, e))?);
        let inner = SerializedFileWriter::new(sink, schema, Arc::new(properties(fields)))
            .map_err(|e| io_err(&name, &e.to_string()))?;
        Ok(FileWriter {
            inner,
            fields: fields.to_vec(),
            rows: 0,
            name,
        })
    }

    /// The error for a failed crate call: the operating system's reason when a write
    /// failed, else the crate's message.
    fn fail(&self, e: ParquetError) -> Error {
        match &self.inner.inner().failure {
            Some(reason) => io_err(&self.name, reason),
            None => internal(&self.name, e),
        }
    }

    /// Appends one row group; `columns` in schema order, all of the same length.
    ///
    /// # Errors
    /// Columns that do not match the schema; the file system's message.
    pub fn write_row_group(&mut self, columns: &[ColumnData<'_>]) -> Result<()> {
        if columns.len() != self.fields.len() {
            return Err(Error::param(format!(
                "row group has {} columns, schema {}",
                columns.len(),
                self.fields.len()
            )));
        }
        let rows = columns.first().map_or(0, |c| c.len());
        if rows == 0 {
            return Ok(());
        }
        for (field, col) in self.fields.iter().zip(columns) {
            if col.len() != rows {
                return Err(Error::param(format!(
                    "column {} has {} rows, expected {rows}",
                    field.name,
                    col.len()
                )));
            }
            let kind_ok = matches!(
                (field.kind, col),
                (Kind::Text, ColumnData::TextRuns(_) | ColumnData::Text(_))
                    | (Kind::TimestampMicros | Kind::Int64, ColumnData::I64(_))
                    | (Kind::Double, ColumnData::F64(_))
            );
            if !kind_ok {
                return Err(Error::param(format!(
                    "column {} holds values of the wrong type",
                    field.name
                )));
            }
        }
        if let Err(e) = self.write_columns(columns) {
            return Err(self.fail(e));
        }
        self.rows += rows as u64;
        Ok(())
    }

    fn write_columns(&mut self, columns: &[ColumnData<'_>]) -> parquet::errors::Result<()> {
        let mut group = self.inner.next_row_group()?;
        let mut text = Vec::with_capacity(TEXT_BATCH);
        for col in columns {
            let Some(mut writer) = group.next_column()? else {
                return Err(ParquetError::General("more columns than the schema".into()));
            };
            match (writer.untyped(), col) {
                (ColumnWriter::DoubleColumnWriter(w), ColumnData::F64(v)) => {
                    w.write_batch(v, None, None)?;
                }
                (ColumnWriter::Int64ColumnWriter(w), ColumnData::I64(v)) => {
                    w.write_batch(v, None, None)?;
                }
                (ColumnWriter::ByteArrayColumnWriter(w), ColumnData::Text(v)) => {
                    for chunk in v.chunks(TEXT_BATCH) {
                        text.clear();
                        text.extend(chunk.iter().map(|s| ByteArray::from(s.as_str())));
                        w.write_batch(&text, None, None)?;
                    }
                }
                (ColumnWriter::ByteArrayColumnWriter(w), ColumnData::TextRuns(runs)) => {
                    text.clear();
                    for (s, n) in runs.iter() {
                        let value = ByteArray::from(s.as_bytes().to_vec());
                        let mut left = *n;
                        while left > 0 {
                            let take = left.min(TEXT_BATCH - text.len());
                            text.extend(std::iter::repeat_n(value.clone(), take));
                            left -= take;
                            if text.len() == TEXT_BATCH {
                                w.write_batch(&text, None, None)?;
                                text.clear();
                            }
                        }
                    }
                    if !text.is_empty() {
                        w.write_batch(&text, None, None)?;
                        text.clear();
                    }
                }
                _ => {
                    return Err(ParquetError::General(
                        "a column of the wrong physical type".into(),
                    ))
                }
            }
            writer.close()?;
        }
        group.close()?;
        Ok(())
    }

    /// Writes the footer (with the page index) and closes the file, synced to disk.
    ///
    /// # Errors
    /// The file system's message.
    pub fn finish(mut self) -> Result<Written> {
        if let Err(e) = self.inner.finish() {
            return Err(self.fail(e));
        }
        let sink = self.inner.inner_mut();
        sink.file
            .sync_all()
            .map_err(|e| io_err(&self.name, &e.to_string()))?;
        let digest = std::mem::take(&mut sink.hash).finalize();
        let sha256 = digest.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Written {
            rows: self.rows,
            bytes: sink.bytes,
            sha256,
        })
    }
}

fn io_err(name: &str, reason: &str) -> Error {
    Error::io(format!("cannot write {name}: {reason}"))
}

/// A failure the crate reports without a failed write (a schema or page it refuses).
fn internal(name: &str, e: ParquetError) -> Error {
    Error::io(format!("cannot write {name}: {e}"))
}

/// The message type: every field REQUIRED, in order.
fn schema(fields: &[Field]) -> parquet::errors::Result<Type> {
    let columns = fields
        .iter()
        .map(|f| {
            let (physical, logical) = match f.kind {
                Kind::Text => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
                Kind::TimestampMicros => (
                    Physical::INT64,
                    Some(LogicalType::timestamp(false, TimeUnit::MICROS)),
                ),
                Kind::Double => (Physical::DOUBLE, None),
                Kind::Int64 => (Physical::INT64, None),
            };
            Type::primitive_type_builder(f.name, physical)
                .with_repetition(Repetition::REQUIRED)
                .with_logical_type(logical)
                .build()
                .map(Arc::new)
        })
        .collect::<parquet::errors::Result<Vec<_>>>()?;
    Type::group_type_builder("schema")
        .with_fields(columns)
        .build()
}

/// Snappy pages; a dictionary for every column but timestamps, given up early (after a
/// few hundred distinct values) on numbers that do not repeat; timestamps delta-encoded;
/// statistics per page (which also writes the column and offset indexes).
fn properties(fields: &[Field]) -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_created_by(format!(
            "barstream version {} (build parquet-rs)",
            env!("CARGO_PKG_VERSION")
        ))
        .set_compression(Compression::SNAPPY)
        .set_dictionary_enabled(true)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(None);
    for f in fields {
        let col = ColumnPath::from(f.name);
        b = match f.kind {
            Kind::Text => b,
            Kind::TimestampMicros => b
                .set_column_dictionary_enabled(col.clone(), false)
                .set_column_encoding(col, Encoding::DELTA_BINARY_PACKED),
            Kind::Double | Kind::Int64 => {
                b.set_column_dictionary_page_size_limit(col, NUMBER_DICTIONARY_BYTES)
            }
        };
    }
    b.build()
}
