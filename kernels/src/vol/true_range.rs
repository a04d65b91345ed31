//! True range: NaN at bar 0, then `max(h - l, |h - c[i-1]|, |l - c[i-1]|)`.
use crate::codec::{decode, encode, Dec, Enc};
use crate::kernel::check_bars;
use crate::Result;

#[derive(Clone, Debug)]
pub struct TrueRange {
    seen: u64,
    /// The previous bar's close.
    prev: f64,
}

impl Default for TrueRange {
    fn default() -> Self {
        TrueRange::new()
    }
}

const NAME: &str = "true_range";

impl TrueRange {
    pub fn new() -> Self {
        TrueRange {
            seen: 0,
            prev: f64::NAN,
        }
    }
    /// Bars consumed so far (the global index of the next bar).
    pub fn seen(&self) -> u64 {
        self.seen
    }
    /// The true range of the next bar, without checks.
    #[inline(always)]
    pub fn step(&mut self, h: f64, l: f64, c: f64) -> f64 {
        let pc = self.prev;
        let first = self.seen == 0;
        self.prev = c;
        self.seen += 1;
        if first {
            return f64::NAN;
        }
        (h - l).max((h - pc).abs()).max((l - pc).abs())
    }
    /// Continues the series with these bars, one output each.
    ///
    /// # Errors
    /// `InvalidParam` when the series or `out` differ in length; `BadInput` naming the
    /// series and global index of a non-finite value. On error the state is unchanged.
    pub fn update(&mut self, h: &[f64], l: &[f64], c: &[f64], out: &mut [f64]) -> Result<()> {
        check_bars(h, l, c, &[out.len()], self.seen)?;
        for (i, o) in out.iter_mut().enumerate() {
            *o = self.step(h[i], l[i], c[i]);
        }
        Ok(())
    }
    pub fn save_fields(&self, e: &mut Enc) {
        e.u64(self.seen);
        e.f64(self.prev);
    }
    pub fn load_fields(d: &mut Dec) -> Result<Self> {
        Ok(TrueRange {
            seen: d.u64()?,
            prev: d.f64()?,
        })
    }
    /// The carried state as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(NAME, |e| self.save_fields(e))
    }
    /// # Errors
    /// `InvalidParam` when the bytes were not saved by the true range.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        decode(bytes, NAME, TrueRange::load_fields)
    }
}
