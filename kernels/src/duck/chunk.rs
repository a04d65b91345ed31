//! Data chunks and their column vectors, read in place or written.
use super::c_text;
use super::ffi::*;
use super::result::{ArrowOptions, OwnedArrowArray};
use crate::error::{Error, Result};

/// A chunk of up to [`vector_size`] rows, owned.
pub struct DataChunk {
    pub(super) chunk: duckdb_data_chunk,
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
    /// The bytes of row `row` of a VARCHAR or BLOB vector (both hold `duckdb_string_t`).
    ///
    /// # Safety
    /// The column must be VARCHAR or BLOB and `row` below the chunk's size.
    pub unsafe fn bytes(&self, row: usize) -> &'a [u8] {
        string_bytes(&*(duckdb_vector_get_data(self.v) as *const duckdb_string_t).add(row))
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

/// The bytes of a DuckDB `string_t` (VARCHAR or BLOB): inline up to 12 bytes, else a
/// 4-byte prefix and a pointer to bytes owned by the vector.
#[inline]
pub fn string_bytes(s: &duckdb_string_t) -> &[u8] {
    let len = s.length as usize;
    if len <= 12 {
        // Inline: the bytes follow the length field.
        let base = (s as *const duckdb_string_t as *const u8).wrapping_add(4);
        unsafe { std::slice::from_raw_parts(base, len) }
    } else {
        let ptr = usize::from_ne_bytes(s.rest) as *const u8;
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }
}
