//! Carried kernel state as bytes: a small hand-written little-endian encoding.
//!
//! Every state starts with a tag (the kernel's name) and its parameters, so bytes
//! saved by one kernel or with other parameters are refused instead of misread.
use crate::{Error, Result};

/// Appends little-endian fields to a byte vector.
#[derive(Default)]
pub struct Enc {
    pub bytes: Vec<u8>,
}

impl Enc {
    pub fn new(tag: &str) -> Self {
        let mut e = Enc::default();
        e.str(tag);
        e
    }
    pub fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    pub fn usize(&mut self, v: usize) {
        self.u64(v as u64);
    }
    pub fn i64(&mut self, v: i64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    pub fn f64(&mut self, v: f64) {
        self.u64(v.to_bits());
    }
    pub fn f64s(&mut self, v: &[f64]) {
        self.usize(v.len());
        v.iter().for_each(|&x| self.f64(x));
    }
    pub fn str(&mut self, s: &str) {
        self.usize(s.len());
        self.bytes.extend_from_slice(s.as_bytes());
    }
    /// Bytes of a nested state, length first.
    pub fn blob(&mut self, b: &[u8]) {
        self.usize(b.len());
        self.bytes.extend_from_slice(b);
    }
}

/// A state as bytes: `tag`, then the fields `save` writes.
pub fn encode(tag: &str, save: impl FnOnce(&mut Enc)) -> Vec<u8> {
    let mut e = Enc::new(tag);
    save(&mut e);
    e.bytes
}

/// Reads a state written by [`encode`] with `tag`: `load` reads the fields, and every
/// byte must have been read.
///
/// # Errors
/// `InvalidParam` when the tag differs, the bytes are truncated or some are left over,
/// or `load`'s own error.
pub fn decode<T>(bytes: &[u8], tag: &str, load: impl FnOnce(&mut Dec) -> Result<T>) -> Result<T> {
    let mut d = Dec::new(bytes, tag)?;
    let t = load(&mut d)?;
    d.finish()?;
    Ok(t)
}

/// Reads what [`Enc`] wrote, failing cleanly on truncated or foreign bytes.
pub struct Dec<'a> {
    bytes: &'a [u8],
    at: usize,
}

fn corrupt(what: &str) -> Error {
    Error::param(format!(
        "state: {what}; pass bytes returned by state() of the same kernel and parameters"
    ))
}

impl<'a> Dec<'a> {
    /// Starts reading and checks the tag.
    ///
    /// # Errors
    /// `InvalidParam` when the bytes do not start with `tag`.
    pub fn new(bytes: &'a [u8], tag: &str) -> Result<Self> {
        let mut d = Dec { bytes, at: 0 };
        let got = d.str()?;
        if got != tag {
            return Err(corrupt(&format!("saved by `{got}`, not `{tag}`")));
        }
        Ok(d)
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| corrupt("truncated"))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    pub fn usize(&mut self) -> Result<usize> {
        usize::try_from(self.u64()?).map_err(|_| corrupt("size out of range"))
    }
    pub fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    pub fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_bits(self.u64()?))
    }
    /// A vector that must have exactly `len` values.
    pub fn f64s(&mut self, len: usize) -> Result<Vec<f64>> {
        if self.usize()? != len {
            return Err(corrupt("window size differs from the parameters"));
        }
        (0..len).map(|_| self.f64()).collect()
    }
    /// A vector of at most `max` values, as many as the bytes claim; the claim is checked
    /// against `max` and the bytes left before anything is allocated.
    ///
    /// # Errors
    /// `InvalidParam` when the count exceeds `max` or the bytes are truncated.
    pub fn f64s_upto(&mut self, max: usize) -> Result<Vec<f64>> {
        let n = self.usize()?;
        if n > max {
            return Err(corrupt("window holds more values than its length"));
        }
        let left = self.bytes.len() - self.at;
        if n.checked_mul(8).is_none_or(|b| b > left) {
            return Err(corrupt("truncated"));
        }
        let mut v = Vec::new();
        v.try_reserve_exact(n)
            .map_err(|_| corrupt("window too large for memory"))?;
        for _ in 0..n {
            v.push(self.f64()?);
        }
        Ok(v)
    }
    pub fn str(&mut self) -> Result<String> {
        let n = self.usize()?;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| corrupt("bad tag"))
    }
    /// Bytes written by [`Enc::blob`].
    pub fn blob(&mut self) -> Result<&'a [u8]> {
        let n = self.usize()?;
        self.take(n)
    }
    /// Checks a saved parameter against the one given now.
    pub fn expect_u64(&mut self, name: &str, want: u64) -> Result<()> {
        let got = self.u64()?;
        if got != want {
            return Err(Error::param(format!(
                "state: saved with {name} {got}, resumed with {want}"
            )));
        }
        Ok(())
    }
    pub fn expect_f64(&mut self, name: &str, want: f64) -> Result<()> {
        let got = self.f64()?;
        if got.to_bits() != want.to_bits() {
            return Err(Error::param(format!(
                "state: saved with {name} {got}, resumed with {want}"
            )));
        }
        Ok(())
    }
    /// Fails unless every byte was read.
    pub fn finish(self) -> Result<()> {
        if self.at != self.bytes.len() {
            return Err(corrupt("trailing bytes"));
        }
        Ok(())
    }
}
