//! Column views over one batch, in either form DuckDB hands them over:
//! its own flat vectors wrapped as Arrow-layout arrays without conversion
//! (f64/i64 buffers, 16-byte string views), or a real Arrow C data interface
//! export (`duckdb_data_chunk_to_arrow`: utf8 with i32 offsets); and each column's
//! validity (which rows are NULL) in either form.
use crate::duck::chunk::string_bytes as duck_bytes;
use crate::duck::ffi::{duckdb_string_t, ArrowArray};
use crate::error::{Error, Result};

/// A string column of one batch.
#[derive(Clone, Copy)]
pub enum StrColumn<'a> {
    /// DuckDB `string_t` values (inline up to 12 bytes, else prefix + pointer).
    Duck(&'a [duckdb_string_t]),
    /// Arrow utf8: `offsets[i]..offsets[i+1]` into `data`.
    Utf8 { offsets: &'a [i32], data: &'a [u8] },
}

impl<'a> StrColumn<'a> {
    #[inline]
    pub fn get(&self, i: usize) -> &'a [u8] {
        match *self {
            StrColumn::Duck(v) => duck_bytes(&v[i]),
            StrColumn::Utf8 { offsets, data } => {
                &data[offsets[i] as usize..offsets[i + 1] as usize]
            }
        }
    }

    /// True when rows `i` and `j` hold the same string.
    #[inline]
    pub fn same(&self, i: usize, j: usize) -> bool {
        match *self {
            StrColumn::Duck(v) => {
                let (a, b) = (&v[i], &v[j]);
                if a.length != b.length || a.prefix != b.prefix {
                    return false;
                }
                // Long strings pointing at the same bytes are equal without a compare.
                if a.length > 12 && a.rest == b.rest {
                    return true;
                }
                duck_bytes(a) == duck_bytes(b)
            }
            StrColumn::Utf8 { .. } => self.get(i) == self.get(j),
        }
    }
}

/// One child of an exported Arrow struct array, checked for shape.
pub struct ArrowChild<'a> {
    arr: &'a ArrowArray,
    name: &'a str,
}

impl<'a> ArrowChild<'a> {
    pub fn new(parent: &'a ArrowArray, index: usize, name: &'a str) -> Result<Self> {
        if index as i64 >= parent.n_children {
            return Err(Error::bad_input(format!(
                "Arrow batch has no column {index} ({name})"
            )));
        }
        let arr = unsafe { &**parent.children.add(index) };
        Ok(ArrowChild { arr, name })
    }

    /// The validity bitmap of the first `len` rows, `None` when the column has no NULL.
    ///
    /// # Errors
    /// `BadInput` when the array claims NULLs but has no bitmap.
    pub fn validity(&self, len: usize) -> Result<Option<Validity<'a>>> {
        if self.arr.null_count == 0 || len == 0 {
            return Ok(None);
        }
        let p = self.buffer(0)?;
        if p.is_null() {
            if self.arr.null_count < 0 {
                return Ok(None);
            }
            return Err(Error::bad_input(format!(
                "Arrow column {} has NULLs but no validity bitmap",
                self.name
            )));
        }
        let offset = self.arr.offset as usize;
        let bytes = unsafe { std::slice::from_raw_parts(p, (offset + len).div_ceil(8)) };
        Ok(Some(Validity::Bits { bytes, offset }))
    }

    fn buffer(&self, i: usize) -> Result<*const u8> {
        if (i as i64) >= self.arr.n_buffers {
            return Err(Error::bad_input(format!(
                "Arrow column {} lacks buffer {i}",
                self.name
            )));
        }
        Ok(unsafe { *self.arr.buffers.add(i) } as *const u8)
    }

    /// A fixed-width column (f64, or i64 timestamps).
    pub fn primitive<T: Copy>(&self, len: usize) -> Result<&'a [T]> {
        let p = self.buffer(1)? as *const T;
        Ok(unsafe { std::slice::from_raw_parts(p.add(self.arr.offset as usize), len) })
    }

    /// A utf8 column with i32 offsets.
    pub fn utf8(&self, len: usize) -> Result<StrColumn<'a>> {
        let offsets = self.buffer(1)? as *const i32;
        let offsets =
            unsafe { std::slice::from_raw_parts(offsets.add(self.arr.offset as usize), len + 1) };
        let end = *offsets.last().unwrap_or(&0) as usize;
        let data = unsafe { std::slice::from_raw_parts(self.buffer(2)?, end) };
        Ok(StrColumn::Utf8 { offsets, data })
    }
}

/// Which rows of a column hold a value (bit set = valid, least significant bit first).
#[derive(Clone, Copy)]
pub enum Validity<'a> {
    /// DuckDB's mask: row `i` is bit `i % 64` of word `i / 64`.
    Words(&'a [u64]),
    /// An Arrow bitmap: row `i` is bit `offset + i`, byte by byte.
    Bits { bytes: &'a [u8], offset: usize },
}

impl Validity<'_> {
    #[inline]
    pub fn valid(&self, i: usize) -> bool {
        match *self {
            Validity::Words(w) => w[i / 64] >> (i % 64) & 1 == 1,
            Validity::Bits { bytes, offset } => {
                let b = offset + i;
                bytes[b / 8] >> (b % 8) & 1 == 1
            }
        }
    }

    /// Whether any of the first `n` rows is NULL (whole words at a time where it can).
    pub fn any_null(&self, n: usize) -> bool {
        match *self {
            Validity::Words(w) => {
                let full = n / 64;
                if w[..full].iter().any(|&x| x != u64::MAX) {
                    return true;
                }
                let rest = n % 64;
                rest != 0 && (w[full] | (u64::MAX << rest)) != u64::MAX
            }
            Validity::Bits { .. } => (0..n).any(|i| !self.valid(i)),
        }
    }

    /// How many of the first `n` rows are NULL.
    pub fn count_null(&self, n: usize) -> usize {
        (0..n).filter(|&i| !self.valid(i)).count()
    }
}
