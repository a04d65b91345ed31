//! Result tables written as Parquet as they fill: rows are buffered column by column and
//! flushed as row groups of whole symbols into a hidden temporary file, which is renamed
//! into place when the table is complete, so a reader never sees a half-written file.
//! A table that fails (a full disk, a folder it may not write) or is dropped unfinished
//! removes its temporary file and the folders it made that are left empty, and its error
//! names the file it was writing and the operating system's reason.
//! Memory per table is about one row group plus the symbol in progress.
use crate::error::{Error, Result};
use crate::parquet::{ColumnData, Field, FileWriter, Kind, Written};
use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// Rows per row group.
pub const ROW_GROUP_ROWS: usize = 122_880;
/// A symbol longer than this many buffered rows is flushed before it ends.
const MAX_BUFFERED: usize = 8 * ROW_GROUP_ROWS;

/// A column of a result table (its name and type).
#[derive(Clone, Debug)]
pub enum Col {
    Text(Cow<'static, str>),
    Timestamp(Cow<'static, str>),
    /// A timestamp that may be NULL ([`Val::Null`]).
    NullableTimestamp(Cow<'static, str>),
    Double(Cow<'static, str>),
    BigInt(Cow<'static, str>),
    Blob(Cow<'static, str>),
}

impl Col {
    pub const fn text(name: &'static str) -> Col {
        Col::Text(Cow::Borrowed(name))
    }
    pub const fn timestamp(name: &'static str) -> Col {
        Col::Timestamp(Cow::Borrowed(name))
    }
    pub const fn nullable_timestamp(name: &'static str) -> Col {
        Col::NullableTimestamp(Cow::Borrowed(name))
    }
    pub const fn double(name: &'static str) -> Col {
        Col::Double(Cow::Borrowed(name))
    }
    pub const fn bigint(name: &'static str) -> Col {
        Col::BigInt(Cow::Borrowed(name))
    }
    pub const fn blob(name: &'static str) -> Col {
        Col::Blob(Cow::Borrowed(name))
    }

    /// The column's name.
    pub fn name(&self) -> &str {
        match self {
            Col::Text(n)
            | Col::Timestamp(n)
            | Col::NullableTimestamp(n)
            | Col::Double(n)
            | Col::BigInt(n)
            | Col::Blob(n) => n,
        }
    }

    fn field(&self) -> Field {
        let (name, kind, nullable) = match self {
            Col::Text(n) => (n, Kind::Text, false),
            Col::Timestamp(n) => (n, Kind::TimestampMicros, false),
            Col::NullableTimestamp(n) => (n, Kind::TimestampMicros, true),
            Col::Double(n) => (n, Kind::Double, false),
            Col::BigInt(n) => (n, Kind::Int64, false),
            Col::Blob(n) => (n, Kind::Binary, false),
        };
        Field {
            name: name.clone(),
            kind,
            nullable,
        }
    }
}

/// One value per column for [`ResultTable::push_row`].
pub enum Val<'a> {
    Text(&'a str),
    Timestamp(i64),
    Double(f64),
    BigInt(i64),
    Blob(&'a [u8]),
    /// NULL, in a nullable column.
    Null,
}

enum Buf {
    /// The first column (the symbol): runs of equal values.
    Runs(Vec<(String, usize)>),
    Text(Vec<String>),
    Bytes(Vec<Vec<u8>>),
    I64(Vec<i64>),
    F64(Vec<f64>),
    /// Values and whether each is set (not NULL).
    OptI64(Vec<i64>, Vec<bool>),
}

impl Buf {
    fn for_col(c: &Col, first: bool) -> Buf {
        match c {
            Col::Text(_) if first => Buf::Runs(Vec::new()),
            Col::Text(_) => Buf::Text(Vec::new()),
            Col::Timestamp(_) | Col::BigInt(_) => Buf::I64(Vec::new()),
            Col::NullableTimestamp(_) => Buf::OptI64(Vec::new(), Vec::new()),
            Col::Double(_) => Buf::F64(Vec::new()),
            Col::Blob(_) => Buf::Bytes(Vec::new()),
        }
    }

    /// Drops the first `n` rows.
    fn drain_front(&mut self, n: usize) {
        match self {
            Buf::Runs(runs) => {
                let mut left = n;
                let mut whole = 0;
                for (_, count) in runs.iter_mut() {
                    if left >= *count {
                        left -= *count;
                        whole += 1;
                    } else {
                        *count -= left;
                        break;
                    }
                }
                runs.drain(..whole);
            }
            Buf::Text(v) => drop(v.drain(..n)),
            Buf::Bytes(v) => drop(v.drain(..n)),
            Buf::I64(v) => drop(v.drain(..n)),
            Buf::F64(v) => drop(v.drain(..n)),
            Buf::OptI64(v, ok) => {
                v.drain(..n);
                ok.drain(..n);
            }
        }
    }

    /// Drops the last `n` rows.
    fn truncate_back(&mut self, n: usize) {
        match self {
            Buf::Runs(runs) => {
                let mut left = n;
                while left > 0 {
                    let last = runs.last_mut().expect("rows to drop");
                    if last.1 > left {
                        last.1 -= left;
                        left = 0;
                    } else {
                        left -= last.1;
                        runs.pop();
                    }
                }
            }
            Buf::Text(v) => v.truncate(v.len() - n),
            Buf::Bytes(v) => v.truncate(v.len() - n),
            Buf::I64(v) => v.truncate(v.len() - n),
            Buf::F64(v) => v.truncate(v.len() - n),
            Buf::OptI64(v, ok) => {
                v.truncate(v.len() - n);
                ok.truncate(ok.len() - n);
            }
        }
    }
}

/// A result table bound for one Parquet file.
pub struct ResultTable {
    cols: Vec<Col>,
    bufs: Vec<Buf>,
    buffered: usize,
    /// Rows of the last symbol already flushed (only for symbols longer than `MAX_BUFFERED`).
    last_flushed: usize,
    pub rows: u64,
    path: PathBuf,
    tmp: PathBuf,
    writer: Option<FileWriter>,
    /// Folders this table created for its file, deepest first (removed again if it fails).
    made: Vec<PathBuf>,
}

impl ResultTable {
    pub fn create(path: &Path, cols: &[Col]) -> ResultTable {
        ResultTable {
            cols: cols.to_vec(),
            bufs: cols
                .iter()
                .enumerate()
                .map(|(i, c)| Buf::for_col(c, i == 0))
                .collect(),
            buffered: 0,
            last_flushed: 0,
            rows: 0,
            path: path.to_path_buf(),
            tmp: temp_path(path),
            writer: None,
            made: Vec::new(),
        }
    }

    fn last_run(&self) -> Option<&(String, usize)> {
        match &self.bufs[0] {
            Buf::Runs(r) => r.last(),
            _ => None,
        }
    }

    /// Appends `ts.len()` rows of one symbol: `cols` holds the DOUBLE columns that follow
    /// the leading `(symbol, ts)` pair, in table order.
    ///
    /// # Errors
    /// A file-system error while flushing a row group.
    pub fn push_series(&mut self, symbol: &str, ts: &[i64], cols: &[&[f64]]) -> Result<()> {
        let n = ts.len();
        if n == 0 {
            return Ok(());
        }
        debug_assert_eq!(cols.len() + 2, self.cols.len());
        let same = self.last_run().is_some_and(|(s, _)| s == symbol);
        let mut bufs = self.bufs.iter_mut();
        match bufs.next() {
            Some(Buf::Runs(runs)) if same => runs.last_mut().expect("a run").1 += n,
            Some(Buf::Runs(runs)) => runs.push((symbol.to_string(), n)),
            _ => {
                return Err(Error::param(
                    "push_series needs a table whose first column is the symbol",
                ))
            }
        }
        match bufs.next() {
            Some(Buf::I64(v)) => v.extend_from_slice(ts),
            _ => return Err(Error::param("push_series needs ts as the second column")),
        }
        for (b, src) in bufs.zip(cols) {
            match b {
                Buf::F64(v) => v.extend_from_slice(src),
                _ => {
                    return Err(Error::param(
                        "push_series takes DOUBLE columns after (symbol, ts)",
                    ))
                }
            }
        }
        if !same {
            self.last_flushed = 0;
        }
        self.buffered += n;
        self.rows += n as u64;
        self.maybe_flush()
    }

    /// Appends one row.
    ///
    /// # Errors
    /// A value of the wrong type for its column; a file-system error while flushing.
    pub fn push_row(&mut self, values: &[Val<'_>]) -> Result<()> {
        if values.len() != self.cols.len() {
            return Err(Error::param(format!(
                "row has {} values, table {} columns",
                values.len(),
                self.cols.len()
            )));
        }
        for (b, v) in self.bufs.iter_mut().zip(values) {
            match (b, v) {
                (Buf::Runs(r), Val::Text(s)) => match r.last_mut() {
                    Some(last) if last.0 == *s => last.1 += 1,
                    _ => r.push((s.to_string(), 1)),
                },
                (Buf::Text(t), Val::Text(s)) => t.push(s.to_string()),
                (Buf::Bytes(t), Val::Blob(b)) => t.push(b.to_vec()),
                (Buf::I64(x), Val::Timestamp(t) | Val::BigInt(t)) => x.push(*t),
                (Buf::F64(x), Val::Double(d)) => x.push(*d),
                (Buf::OptI64(x, ok), Val::Timestamp(t)) => {
                    x.push(*t);
                    ok.push(true);
                }
                (Buf::OptI64(x, ok), Val::Null) => {
                    x.push(0);
                    ok.push(false);
                }
                _ => return Err(Error::param("a value of the wrong type for its column")),
            }
        }
        self.last_flushed = 0;
        self.buffered += 1;
        self.rows += 1;
        self.maybe_flush()
    }

    /// Removes the rows of `symbol` if it is the symbol being written (a symbol that failed
    /// part-way). Returns how many rows of it were already flushed to the file and stay.
    pub fn rollback_symbol(&mut self, symbol: &str) -> usize {
        let Some((s, n)) = self.last_run() else {
            return 0;
        };
        if s != symbol {
            return 0;
        }
        let n = *n;
        for b in self.bufs.iter_mut() {
            b.truncate_back(n);
        }
        self.buffered -= n;
        self.rows -= n as u64;
        std::mem::take(&mut self.last_flushed)
    }

    /// Flushes whole symbols once a row group's worth is buffered.
    fn maybe_flush(&mut self) -> Result<()> {
        if self.buffered < ROW_GROUP_ROWS {
            return Ok(());
        }
        let current = self.last_run().map_or(0, |(_, n)| *n);
        if self.buffered - current >= ROW_GROUP_ROWS / 2 || self.buffered >= MAX_BUFFERED {
            let n = if self.buffered >= MAX_BUFFERED {
                self.buffered
            } else {
                self.buffered - current
            };
            if n == self.buffered {
                self.last_flushed += current;
            }
            self.flush(n)?;
        }
        Ok(())
    }

    /// Writes the first `n` buffered rows as one row group.
    fn flush(&mut self, n: usize) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        if self.writer.is_none() {
            self.open()?;
        }
        let runs: Vec<(&str, usize)> = match &self.bufs[0] {
            Buf::Runs(r) => {
                let mut left = n;
                let mut out = Vec::new();
                for (s, c) in r {
                    if left == 0 {
                        break;
                    }
                    out.push((s.as_str(), (*c).min(left)));
                    left -= (*c).min(left);
                }
                out
            }
            _ => Vec::new(),
        };
        let columns: Vec<ColumnData<'_>> = self
            .bufs
            .iter()
            .map(|b| match b {
                Buf::Runs(_) => ColumnData::TextRuns(&runs),
                Buf::Text(v) => ColumnData::Text(&v[..n]),
                Buf::Bytes(v) => ColumnData::Bytes(&v[..n]),
                Buf::I64(v) => ColumnData::I64(&v[..n]),
                Buf::F64(v) => ColumnData::F64(&v[..n]),
                Buf::OptI64(v, ok) => ColumnData::NullableI64 {
                    values: &v[..n],
                    valid: &ok[..n],
                },
            })
            .collect();
        let written = self
            .writer
            .as_mut()
            .expect("created")
            .write_row_group(&columns);
        if let Err(e) = written {
            self.abandon();
            return Err(e);
        }
        for b in self.bufs.iter_mut() {
            b.drain_front(n);
        }
        self.buffered -= n;
        Ok(())
    }

    /// Creates the folder and the temporary file.
    fn open(&mut self) -> Result<()> {
        let dir = self
            .path
            .parent()
            .ok_or_else(|| Error::io(format!("{} has no folder", self.path.display())))?;
        self.made = create_folder(dir)?;
        let fields: Vec<Field> = self.cols.iter().map(|c| c.field()).collect();
        let mut created = FileWriter::create_as(&self.tmp, &self.path, &fields);
        if created.is_err() && !dir.is_dir() {
            // A failing table beside this one removed the folder it thought it had made.
            self.made = create_folder(dir)?;
            created = FileWriter::create_as(&self.tmp, &self.path, &fields);
        }
        match created {
            Ok(w) => {
                self.writer = Some(w);
                Ok(())
            }
            Err(e) => {
                self.abandon();
                Err(e)
            }
        }
    }

    /// Flushes what is left, completes the file and renames it into place.
    ///
    /// # Errors
    /// The file system's message, naming the path; nothing of the table is left behind.
    pub fn write_parquet(mut self) -> Result<Written> {
        self.flush(self.buffered)?;
        if self.writer.is_none() {
            // An empty table is still a valid file with the schema.
            self.open()?;
        }
        let finished = self.writer.take().expect("created").finish();
        let renamed = finished.and_then(|w| {
            std::fs::rename(&self.tmp, &self.path)
                .map(|()| w)
                .map_err(|e| {
                    Error::io(format!(
                        "cannot rename {} to {}: {e}",
                        self.tmp.display(),
                        self.path.display()
                    ))
                })
        });
        match renamed {
            Ok(w) => {
                self.made.clear();
                Ok(w)
            }
            Err(e) => {
                self.abandon();
                Err(e)
            }
        }
    }

    /// Closes and removes the temporary file, then the folders this table made if empty.
    fn abandon(&mut self) {
        drop(self.writer.take());
        let _ = std::fs::remove_file(&self.tmp);
        for dir in std::mem::take(&mut self.made) {
            if std::fs::remove_dir(&dir).is_err() {
                break;
            }
        }
    }
}

impl Drop for ResultTable {
    fn drop(&mut self) {
        // An unfinished table leaves no temporary file behind.
        if self.writer.is_some() {
            self.abandon();
        }
    }
}

/// Creates `dir` and its missing parents; returns the folders it made, deepest first.
fn create_folder(dir: &Path) -> Result<Vec<PathBuf>> {
    let made: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
        .map(Path::to_path_buf)
        .collect();
    std::fs::create_dir_all(dir).map_err(|e| {
        for d in &made {
            if std::fs::remove_dir(d).is_err() {
                break;
            }
        }
        Error::io(format!("cannot create {}: {e}", dir.display()))
    })?;
    Ok(made)
}

/// Writes `bytes` to `path` under a temporary name, synced and renamed into place; on
/// failure the temporary file is removed and the error names `path` and the reason.
///
/// # Errors
/// The file system's message, naming `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::io(format!("{} has no folder", path.display())))?;
    let made = create_folder(dir)?;
    let tmp = temp_path(path);
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        std::io::Write::write_all(&mut f, bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        for d in &made {
            if std::fs::remove_dir(d).is_err() {
                break;
            }
        }
        Error::io(format!("cannot write {}: {e}", path.display()))
    })
}

/// `dir/.name.tmp-<pid>`: hidden, so globs such as `*.parquet` never match it.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}
