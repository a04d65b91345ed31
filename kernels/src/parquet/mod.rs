//! A small, fast Parquet writer for barstream's result tables: a flat schema of REQUIRED
//! columns (UTF-8 text, timestamps in microseconds, DOUBLE, INT64) and OPTIONAL timestamp or
//! INT64 columns (NULLs as definition levels), snappy-compressed v1
//! pages; numbers PLAIN, text through a dictionary (a symbol repeated on every row costs a
//! few bits); min/max statistics on every column in the current `min_value`/`max_value`
//! fields, with type-defined column orders (without them pyarrow and polars ignore
//! `min_value`/`max_value`), so readers can skip row groups by symbol, time or value.
//!
//! Why not the `parquet` crate: measured with `npm run bench:writer`, its column writers
//! (zstd or snappy, page index, per-value statistics) made the whole backtest 5-20% slower
//! and the from-scratch build 80 CPU-seconds longer; this writer copies doubles and integers
//! to pages as little-endian bytes (a memcpy on little-endian machines) and encodes a run of
//! equal symbols as one RLE run of its dictionary index.
//!
//! Dictionary pages use the PLAIN encoding and data pages name their indices
//! PLAIN_DICTIONARY (the Parquet 1.0 name for the same bytes as RLE_DICTIONARY), which every
//! reader knows, parquetjs-lite included.
pub mod thrift;

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::HashMap;
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
    /// Bytes without a logical type (DuckDB reads BLOB).
    Binary,
}

#[derive(Clone, Debug)]
pub struct Field {
    pub name: Cow<'static, str>,
    pub kind: Kind,
    /// OPTIONAL (may hold NULLs, written from [`ColumnData::NullableI64`]) rather than REQUIRED.
    pub nullable: bool,
}

impl Field {
    /// A REQUIRED column.
    pub const fn new(name: &'static str, kind: Kind) -> Field {
        Field {
            name: Cow::Borrowed(name),
            kind,
            nullable: false,
        }
    }
}

/// One column of a row group.
pub enum ColumnData<'a> {
    /// Text as runs of equal values: `(value, count)`.
    TextRuns(&'a [(&'a str, usize)]),
    Text(&'a [String]),
    Bytes(&'a [Vec<u8>]),
    I64(&'a [i64]),
    F64(&'a [f64]),
    /// Integers or timestamps of a nullable column: `values[i]` where `valid[i]`, else NULL
    /// (the value is then ignored).
    NullableI64 {
        values: &'a [i64],
        valid: &'a [bool],
    },
}

impl ColumnData<'_> {
    fn len(&self) -> usize {
        match self {
            ColumnData::TextRuns(r) => r.iter().map(|(_, n)| n).sum(),
            ColumnData::Text(v) => v.len(),
            ColumnData::Bytes(v) => v.len(),
            ColumnData::I64(v) => v.len(),
            ColumnData::F64(v) => v.len(),
            ColumnData::NullableI64 { values, .. } => values.len(),
        }
    }

    /// How many values are NULL.
    fn nulls(&self) -> usize {
        match self {
            ColumnData::NullableI64 { valid, .. } => valid.iter().filter(|v| !**v).count(),
            _ => 0,
        }
    }
}

/// Rows per data page.
const PAGE_ROWS: usize = 65_536;
/// A text column chunk whose distinct values take more bytes than this is written PLAIN.
const MAX_DICTIONARY_BYTES: usize = 1 << 20;
const MAGIC: &[u8] = b"PAR1";

// Parquet's enum values.
const PLAIN: i32 = 0;
const PLAIN_DICTIONARY: i32 = 2;
const RLE: i32 = 3;
const DATA_PAGE: i32 = 0;
const DICTIONARY_PAGE: i32 = 2;
const SNAPPY: i32 = 1;

struct ChunkMeta {
    num_values: u64,
    offset: u64,
    /// Where the data pages start (after the dictionary page, if any).
    data_offset: u64,
    dictionary: bool,
    uncompressed: u64,
    compressed: u64,
    stats: Option<(Vec<u8>, Vec<u8>)>,
    nulls: u64,
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
    /// The name errors give: the file's final name when it is written under a temporary one.
    name: String,
}

fn io_err(name: &str, e: std::io::Error) -> Error {
    Error::io(format!("cannot write {name}: {e}"))
}

/// A text column chunk as a dictionary: its distinct values, and the rows as runs of
/// `(index, count)`.
struct Dictionary<'a> {
    values: Vec<&'a str>,
    runs: Vec<(u32, usize)>,
    bit_width: u8,
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
            name,
        };
        w.write(MAGIC)?;
        Ok(w)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.out
            .write_all(bytes)
            .map_err(|e| io_err(&self.name, e))?;
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
            let field = self.fields[i].clone();
            chunks.push(self.write_chunk(&field, col, rows)?);
        }
        self.groups.push(GroupMeta {
            rows: rows as u64,
            offset,
            chunks,
        });
        self.rows += rows as u64;
        Ok(())
    }

    /// Compresses `self.page` and writes it with its header (`header` adds the fields after
    /// the sizes); returns (uncompressed, compressed) sizes, headers included.
    fn flush_page(
        &mut self,
        page_type: i32,
        header: impl FnOnce(&mut Compact<'_>),
    ) -> Result<(u64, u64)> {
        self.packed
            .resize(snap::raw::max_compress_len(self.page.len()), 0);
        let n = self
            .snappy
            .compress(&self.page, &mut self.packed)
            .map_err(|e| Error::io(format!("snappy: {e}")))?;
        let mut head = Vec::with_capacity(32);
        let mut h = Compact::new(&mut head);
        h.i32(1, page_type)
            .i32(2, self.page.len() as i32)
            .i32(3, n as i32);
        header(&mut h);
        h.finish();
        self.write(&head)?;
        let packed = std::mem::take(&mut self.packed);
        let res = self.write(&packed[..n]);
        self.packed = packed;
        res?;
        Ok((
            (head.len() + self.page.len()) as u64,
            (head.len() + n) as u64,
        ))
    }

    fn write_chunk(
        &mut self,
        field: &Field,
        col: &ColumnData<'_>,
        rows: usize,
    ) -> Result<ChunkMeta> {
        let kind_ok = match col {
            ColumnData::NullableI64 { valid, .. } => {
                field.nullable
                    && matches!(field.kind, Kind::TimestampMicros | Kind::Int64)
                    && valid.len() == rows
            }
            _ => matches!(
                (field.kind, col),
                (Kind::Text, ColumnData::TextRuns(_) | ColumnData::Text(_))
                    | (Kind::TimestampMicros | Kind::Int64, ColumnData::I64(_))
                    | (Kind::Double, ColumnData::F64(_))
                    | (Kind::Binary, ColumnData::Bytes(_))
            ),
        };
        if !kind_ok {
            return Err(Error::param(format!(
                "column {} holds values of the wrong type",
                field.name
            )));
        }
        let offset = self.pos;
        let (mut uncompressed, mut compressed) = (0u64, 0u64);
        let dict = dictionary(col);
        if let Some(d) = &dict {
            self.page.clear();
            d.values.iter().for_each(|s| text(s, &mut self.page));
            let n = d.values.len() as i32;
            let (u, c) = self.flush_page(DICTIONARY_PAGE, |h| {
                h.begin(7).i32(1, n).i32(2, PLAIN).end();
            })?;
            uncompressed += u;
            compressed += c;
        }
        let data_offset = self.pos;
        let mut start = 0;
        let mut run = (0usize, 0usize); // (index into d.runs, rows of it already written)
        while start < rows {
            let end = (start + PAGE_ROWS).min(rows);
            self.page.clear();
            let encoding = match &dict {
                Some(d) => {
                    rle_indices(d, &mut run, end - start, &mut self.page);
                    PLAIN_DICTIONARY
                }
                None => {
                    if field.nullable {
                        definition_levels(col, start, end, &mut self.page);
                    }
                    plain(col, start, end, &mut self.page);
                    PLAIN
                }
            };
            let n = (end - start) as i32;
            let (u, c) = self.flush_page(DATA_PAGE, |h| {
                h.begin(5)
                    .i32(1, n)
                    .i32(2, encoding)
                    .i32(3, RLE)
                    .i32(4, RLE)
                    .end();
            })?;
            uncompressed += u;
            compressed += c;
            start = end;
        }
        Ok(ChunkMeta {
            num_values: rows as u64,
            offset,
            data_offset,
            dictionary: dict.is_some(),
            uncompressed,
            compressed,
            stats: stats(col),
            nulls: col.nulls() as u64,
        })
    }

    /// Writes the footer and closes the file, synced to disk.
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
            let f = &fields[i - 1];
            c.i32(1, physical(f.kind))
                .i32(3, i32::from(f.nullable))
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
                Kind::Double | Kind::Int64 | Kind::Binary => {}
            }
        });
        c.i64(3, self.rows as i64);
        let groups = std::mem::take(&mut self.groups);
        c.list_struct(4, groups.len(), |c, g| {
            let group = &groups[g];
            c.list_struct(1, group.chunks.len(), |c, k| {
                let m = &group.chunks[k];
                let f = &fields[k];
                let encodings: &[i32] = if m.dictionary {
                    &[PLAIN, RLE, PLAIN_DICTIONARY]
                } else {
                    &[PLAIN, RLE]
                };
                c.i64(2, m.offset as i64);
                c.begin(3)
                    .i32(1, physical(f.kind))
                    .list_i32(2, encodings)
                    .list_binary(3, &[f.name.as_bytes()])
                    .i32(4, SNAPPY)
                    .i64(5, m.num_values as i64)
                    .i64(6, m.uncompressed as i64)
                    .i64(7, m.compressed as i64)
                    .i64(9, m.data_offset as i64);
                if m.dictionary {
                    c.i64(11, m.offset as i64);
                }
                match &m.stats {
                    Some((min, max)) => {
                        c.begin(12)
                            .i64(3, m.nulls as i64)
                            .binary(5, max)
                            .binary(6, min)
                            .bool(7, true)
                            .bool(8, true)
                            .end();
                    }
                    // Every value NULL: the count alone.
                    None if m.nulls > 0 => {
                        c.begin(12).i64(3, m.nulls as i64).end();
                    }
                    None => {}
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
            format!("barstream version {}", env!("CARGO_PKG_VERSION")).as_bytes(),
        );
        // Every column sorts by its type's order (signed numbers, unsigned bytes for text).
        c.list_struct(7, fields.len(), |c, _| {
            c.begin(1).end();
        });
        c.finish();
        self.write(&footer)?;
        self.write(&(footer.len() as u32).to_le_bytes())?;
        self.write(MAGIC)?;
        self.out.flush().map_err(|e| io_err(&self.name, e))?;
        self.out
            .get_ref()
            .sync_all()
            .map_err(|e| io_err(&self.name, e))?;
        let digest = std::mem::take(&mut self.hash).finalize();
        let sha256 = digest.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Written {
            rows: self.rows,
            bytes: self.pos,
            sha256,
        })
    }
}

/// The definition levels of rows `start..end` of a nullable column (1 = a value, 0 =
/// NULL), as the v1 data page puts them before the values: a 4-byte length, then RLE runs
/// of bit width 1 (header `count << 1`, then the level in one byte).
fn definition_levels(col: &ColumnData<'_>, start: usize, end: usize, out: &mut Vec<u8>) {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    let level = |i: usize| match col {
        ColumnData::NullableI64 { valid, .. } => valid[i],
        _ => true,
    };
    let mut i = start;
    while i < end {
        let v = level(i);
        let mut j = i + 1;
        while j < end && level(j) == v {
            j += 1;
        }
        let mut header = ((j - i) as u64) << 1;
        while header >= 0x80 {
            out.push((header as u8) | 0x80);
            header >>= 7;
        }
        out.push(header as u8);
        out.push(u8::from(v));
        i = j;
    }
    let len = (out.len() - at - 4) as u32;
    out[at..at + 4].copy_from_slice(&len.to_le_bytes());
}

fn physical(k: Kind) -> i32 {
    match k {
        Kind::Text | Kind::Binary => 6,
        Kind::TimestampMicros | Kind::Int64 => 2,
        Kind::Double => 5,
    }
}

/// The dictionary of a text column chunk, or None for numbers and for text whose distinct
/// values are too many bytes.
fn dictionary<'a>(col: &ColumnData<'a>) -> Option<Dictionary<'a>> {
    let mut index: HashMap<&'a str, u32> = HashMap::new();
    let mut values = Vec::new();
    let mut bytes = 0usize;
    let mut runs: Vec<(u32, usize)> = Vec::new();
    let mut push = |s: &'a str, n: usize| -> bool {
        let i = *index.entry(s).or_insert_with(|| {
            values.push(s);
            bytes += 4 + s.len();
            values.len() as u32 - 1
        });
        match runs.last_mut() {
            Some(last) if last.0 == i => last.1 += n,
            _ => runs.push((i, n)),
        }
        bytes <= MAX_DICTIONARY_BYTES
    };
    let fits = match col {
        ColumnData::TextRuns(r) => r.iter().all(|&(s, n)| push(s, n)),
        ColumnData::Text(v) => v.iter().all(|s| push(s.as_str(), 1)),
        ColumnData::I64(_)
        | ColumnData::F64(_)
        | ColumnData::Bytes(_)
        | ColumnData::NullableI64 { .. } => return None,
    };
    if !fits {
        return None;
    }
    let max = values.len().saturating_sub(1) as u32;
    let bit_width = (32 - max.leading_zeros()).max(1) as u8;
    Some(Dictionary {
        values,
        runs,
        bit_width,
    })
}

/// The next `rows` dictionary indices as a data page body: the bit width, then RLE runs
/// (header `count << 1`, then the index in whole bytes). `at` is where the previous page
/// stopped: (run, rows of it already written).
fn rle_indices(d: &Dictionary<'_>, at: &mut (usize, usize), rows: usize, out: &mut Vec<u8>) {
    out.push(d.bit_width);
    let width = d.bit_width.div_ceil(8) as usize;
    let mut left = rows;
    while left > 0 {
        let (index, count) = d.runs[at.0];
        let take = (count - at.1).min(left);
        let mut header = (take as u64) << 1;
        while header >= 0x80 {
            out.push((header as u8) | 0x80);
            header >>= 7;
        }
        out.push(header as u8);
        out.extend_from_slice(&index.to_le_bytes()[..width]);
        left -= take;
        at.1 += take;
        if at.1 == count {
            *at = (at.0 + 1, 0);
        }
    }
}

/// PLAIN encoding of rows `start..end`.
fn plain(col: &ColumnData<'_>, start: usize, end: usize, out: &mut Vec<u8>) {
    match col {
        ColumnData::F64(v) => le_bytes(&v[start..end], out),
        ColumnData::I64(v) => le_bytes(&v[start..end], out),
        ColumnData::NullableI64 { values, valid } => (start..end)
            .filter(|&i| valid[i])
            .for_each(|i| out.extend_from_slice(&values[i].to_le_bytes())),
        ColumnData::Text(v) => v[start..end].iter().for_each(|s| text(s, out)),
        ColumnData::Bytes(v) => v[start..end].iter().for_each(|b| {
            out.extend_from_slice(&(b.len() as u32).to_le_bytes());
            out.extend_from_slice(b);
        }),
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

/// (min, max) as Parquet encodes them. Doubles leave NaN out (none when every value is
/// NaN) and write a zero minimum as -0 and a zero maximum as +0, as the format asks.
fn stats(col: &ColumnData<'_>) -> Option<(Vec<u8>, Vec<u8>)> {
    match col {
        ColumnData::I64(v) => {
            let (min, max) = v
                .iter()
                .fold((i64::MAX, i64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
            Some((min.to_le_bytes().to_vec(), max.to_le_bytes().to_vec()))
        }
        ColumnData::NullableI64 { values, valid } => {
            let (min, max) = values
                .iter()
                .zip(valid.iter())
                .filter(|(_, ok)| **ok)
                .fold((i64::MAX, i64::MIN), |(a, b), (&x, _)| (a.min(x), b.max(x)));
            (min <= max).then(|| (min.to_le_bytes().to_vec(), max.to_le_bytes().to_vec()))
        }
        ColumnData::F64(v) => {
            let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
            for &x in v.iter() {
                // NaN compares false both ways, so it never becomes the min or the max.
                if x < min {
                    min = x;
                }
                if x > max {
                    max = x;
                }
            }
            if min > max {
                return None; // every value NaN
            }
            let min = if min == 0.0 { -0.0 } else { min };
            let max = if max == 0.0 { 0.0 } else { max };
            Some((min.to_le_bytes().to_vec(), max.to_le_bytes().to_vec()))
        }
        ColumnData::Text(v) => minmax(v.iter().map(|s| s.as_bytes())),
        // States are opaque and large: no statistics.
        ColumnData::Bytes(_) => None,
        ColumnData::TextRuns(r) => minmax(r.iter().map(|(s, _)| s.as_bytes())),
    }
}

fn minmax<'a>(mut it: impl Iterator<Item = &'a [u8]>) -> Option<(Vec<u8>, Vec<u8>)> {
    let first = it.next()?;
    let (min, max) = it.fold((first, first), |(a, b), x| (a.min(x), b.max(x)));
    Some((min.to_vec(), max.to_vec()))
}
