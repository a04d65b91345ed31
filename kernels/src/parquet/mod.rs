//! A small, fast Parquet writer for barstream's result tables: a flat schema of REQUIRED
//! columns (UTF-8 text, timestamps in microseconds, DOUBLE, INT64), PLAIN encoding,
//! snappy-compressed data pages, and min/max statistics on text, timestamp and integer
//! columns (so readers can skip row groups by symbol or time).
//!
//! Values go from the caller's column buffers to pages without conversion: doubles and
//! integers are copied as little-endian bytes (a memcpy on little-endian machines).
pub mod thrift;

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use thrift::Compact;

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

/// Rows per data page.
const PAGE_ROWS: usize = 65_536;
const MAGIC: &[u8] = b"PAR1";

struct ChunkMeta {
    num_values: u64,
    offset: u64,
    uncompressed: u64,
    compressed: u64,
    stats: Option<(Vec<u8>, Vec<u8>)>,
}

struct GroupMeta {
    rows: u64,
    offset: u64,
    chunks: Vec<ChunkMeta>,
}

/// What a finished file holds: rows, bytes and the sha256 of those bytes (hashed as they
/// were written, so nobody has to read the file back for a checksum).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// Writes one Parquet file, a row group at a time.
pub struct FileWriter {
    out: BufWriter<File>,
    pos: u64,
    fields: Vec<Field>,
    groups: Vec<GroupMeta>,
    rows: u64,
    page: Vec<u8>,
    packed: Vec<u8>,
    snappy: snap::raw::Encoder,
    hash: Sha256,
    path: String,
}

fn io_err(path: &str, e: std::io::Error) -> Error {
    Error::io(format!("cannot write {path}: {e}"))
}

impl FileWriter {
    /// Creates (truncates) `path` and writes the header.
    ///
    /// # Errors
    /// The file system's message, naming the path.
    pub fn create(path: &Path, fields: &[Field]) -> Result<Self> {
        let name = path.display().to_string();
        let file = File::create(path).map_err(|e| io_err(&name, e))?;
        let mut w = FileWriter {
            out: BufWriter::with_capacity(1 << 20, file),
            pos: 0,
            fields: fields.to_vec(),
            groups: Vec::new(),
            rows: 0,
            page: Vec::new(),
            packed: Vec::new(),
            snappy: snap::raw::Encoder::new(),
            hash: Sha256::new(),
            path: name,
        };
        w.write(MAGIC)?;
        Ok(w)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.out
            .write_all(bytes)
            .map_err(|e| io_err(&self.path, e))?;
        self.hash.update(bytes);
        self.pos += bytes.len() as u64;
        Ok(())
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
        let offset = self.pos;
        let mut chunks = Vec::with_capacity(columns.len());
        for (i, col) in columns.iter().enumerate() {
            if col.len() != rows {
                return Err(Error::param(format!(
                    "column {} has {} rows, expected {rows}",
                    self.fields[i].name,
                    col.len()
                )));
            }
            chunks.push(self.write_chunk(self.fields[i], col, rows)?);
        }
        self.groups.push(GroupMeta {
            rows: rows as u64,
            offset,
            chunks,
        });
        self.rows += rows as u64;
        Ok(())
    }

    fn write_chunk(
        &mut self,
        field: Field,
        col: &ColumnData<'_>,
        rows: usize,
    ) -> Result<ChunkMeta> {
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
        let offset = self.pos;
        let (mut uncompressed, mut compressed) = (0u64, 0u64);
        let mut start = 0;
        while start < rows {
            let end = (start + PAGE_ROWS).min(rows);
            self.page.clear();
            plain(col, start, end, &mut self.page);
            self.packed
                .resize(snap::raw::max_compress_len(self.page.len()), 0);
            let n = self
                .snappy
                .compress(&self.page, &mut self.packed)
                .map_err(|e| Error::io(format!("snappy: {e}")))?;
            let mut header = Vec::with_capacity(32);
            let mut h = Compact::new(&mut header);
            h.i32(1, 0).i32(2, self.page.len() as i32).i32(3, n as i32);
            h.begin(5)
                .i32(1, (end - start) as i32)
                .i32(2, 0)
                .i32(3, 3)
                .i32(4, 3)
                .end();
            h.finish();
            uncompressed += (header.len() + self.page.len()) as u64;
            compressed += (header.len() + n) as u64;
            self.write(&header)?;
            let packed = std::mem::take(&mut self.packed);
            let res = self.write(&packed[..n]);
            self.packed = packed;
            res?;
            start = end;
        }
        Ok(ChunkMeta {
            num_values: rows as u64,
            offset,
            uncompressed,
            compressed,
            stats: stats(col),
        })
    }

    /// Writes the footer and closes the file.
    ///
    /// # Errors
    /// The file system's message.
    pub fn finish(mut self) -> Result<Written> {
        let mut footer = Vec::new();
        let mut c = Compact::new(&mut footer);
        c.i32(1, 1);
        let fields = self.fields.clone();
        c.list_struct(2, fields.len() + 1, |c, i| {
            if i == 0 {
                c.binary(4, b"schema").i32(5, fields.len() as i32);
                return;
            }
            let f = fields[i - 1];
            c.i32(1, physical(f.kind))
                .i32(3, 0)
                .binary(4, f.name.as_bytes());
            match f.kind {
                Kind::Text => {
                    c.i32(6, 0).begin(10).begin(1).end().end();
                }
                Kind::TimestampMicros => {
                    c.i32(6, 10)
                        .begin(10)
                        .begin(8)
                        .bool(1, false)
                        .begin(2)
                        .begin(2)
                        .end()
                        .end()
                        .end()
                        .end();
                }
                Kind::Double | Kind::Int64 => {}
            }
        });
        c.i64(3, self.rows as i64);
        let groups = std::mem::take(&mut self.groups);
        c.list_struct(4, groups.len(), |c, g| {
            let group = &groups[g];
            c.list_struct(1, group.chunks.len(), |c, k| {
                let m = &group.chunks[k];
                let f = fields[k];
                c.i64(2, m.offset as i64);
                c.begin(3)
                    .i32(1, physical(f.kind))
                    .list_i32(2, &[0, 3])
                    .list_binary(3, &[f.name.as_bytes()])
                    .i32(4, 1)
                    .i64(5, m.num_values as i64)
                    .i64(6, m.uncompressed as i64)
                    .i64(7, m.compressed as i64)
                    .i64(9, m.offset as i64);
                if let Some((min, max)) = &m.stats {
                    c.begin(12).i64(3, 0).binary(5, max).binary(6, min).end();
                }
                c.end();
            });
            let uncompressed: u64 = group.chunks.iter().map(|m| m.uncompressed).sum();
            let compressed: u64 = group.chunks.iter().map(|m| m.compressed).sum();
            c.i64(2, uncompressed as i64)
                .i64(3, group.rows as i64)
                .i64(5, group.offset as i64)
                .i64(6, compressed as i64);
        });
        c.binary(
            6,
            format!("barstream {}", env!("CARGO_PKG_VERSION")).as_bytes(),
        );
        c.finish();
        self.write(&footer)?;
        self.write(&(footer.len() as u32).to_le_bytes())?;
        self.write(MAGIC)?;
        self.out.flush().map_err(|e| io_err(&self.path, e))?;
        self.out
            .get_ref()
            .sync_all()
            .map_err(|e| io_err(&self.path, e))?;
        let digest = std::mem::take(&mut self.hash).finalize();
        let sha256 = digest.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Written {
            rows: self.rows,
            bytes: self.pos,
            sha256,
        })
    }
}

fn physical(k: Kind) -> i32 {
    match k {
        Kind::Text => 6,
        Kind::TimestampMicros | Kind::Int64 => 2,
        Kind::Double => 5,
    }
}

/// PLAIN encoding of rows `start..end`.
fn plain(col: &ColumnData<'_>, start: usize, end: usize, out: &mut Vec<u8>) {
    match col {
        ColumnData::F64(v) => le_bytes(&v[start..end], out),
        ColumnData::I64(v) => le_bytes(&v[start..end], out),
        ColumnData::Text(v) => v[start..end].iter().for_each(|s| text(s, out)),
        ColumnData::TextRuns(runs) => {
            let mut row = 0;
            for (s, n) in runs.iter() {
                let (a, b) = (row.max(start), (row + n).min(end));
                for _ in a..b.max(a) {
                    text(s, out);
                }
                row += n;
                if row >= end {
                    break;
                }
            }
        }
    }
}

/// Fixed-width values as PLAIN (little-endian) bytes: one copy on little-endian machines.
fn le_bytes<T: LeBytes>(v: &[T], out: &mut Vec<u8>) {
    if cfg!(target_endian = "little") {
        // SAFETY: f64 and i64 have no padding; their bytes are read, not reinterpreted as values.
        let bytes = unsafe {
            std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), std::mem::size_of_val(v))
        };
        out.extend_from_slice(bytes);
    } else {
        v.iter().for_each(|x| out.extend_from_slice(&x.le()));
    }
}

trait LeBytes: Copy {
    fn le(self) -> [u8; 8];
}

impl LeBytes for f64 {
    fn le(self) -> [u8; 8] {
        self.to_le_bytes()
    }
}

impl LeBytes for i64 {
    fn le(self) -> [u8; 8] {
        self.to_le_bytes()
    }
}

fn text(s: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// (min, max) as Parquet encodes them, for the column types that get statistics.
fn stats(col: &ColumnData<'_>) -> Option<(Vec<u8>, Vec<u8>)> {
    match col {
        ColumnData::I64(v) => {
            let (min, max) = v
                .iter()
                .fold((i64::MAX, i64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
            Some((min.to_le_bytes().to_vec(), max.to_le_bytes().to_vec()))
        }
        ColumnData::Text(v) => minmax(v.iter().map(|s| s.as_bytes())),
        ColumnData::TextRuns(r) => minmax(r.iter().map(|(s, _)| s.as_bytes())),
        ColumnData::F64(_) => None,
    }
}

fn minmax<'a>(mut it: impl Iterator<Item = &'a [u8]>) -> Option<(Vec<u8>, Vec<u8>)> {
    let first = it.next()?;
    let (min, max) = it.fold((first, first), |(a, b), x| (a.min(x), b.max(x)));
    Some((min.to_vec(), max.to_vec()))
}
