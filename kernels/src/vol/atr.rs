//! ATR(L): `rma(tr, L)` over the true range from bar 1 on, seeded by the mean of `tr`
//! at bars `1..=L` (TA-Lib's ATR); first defined at `L`. The same bits as the RMA
//! kernel run on `tr[1..]`.
use super::TrueRange;
use crate::codec::{decode, encode};
use crate::kernel::{check_bars, check_length};
use crate::ma::rma::rma_alpha;
use crate::ma::EmaCore;
use crate::Result;

#[derive(Clone, Debug)]
pub struct Atr {
    tr: TrueRange,
    rma: EmaCore,
}

const NAME: &str = "atr";

impl Atr {
    /// # Errors
    /// `InvalidParam` unless `1 <= len <= MAX_LENGTH`.
    pub fn new(len: &usize) -> Result<Self> {
        check_length(NAME, "length", *len)?;
        Ok(Atr {
            tr: TrueRange::new(),
            rma: EmaCore::new(*len, rma_alpha(*len)),
        })
    }
    pub fn length(&self) -> usize {
        self.rma.length()
    }
    /// Bars consumed so far (the global index of the next bar).
    pub fn seen(&self) -> u64 {
        self.tr.seen()
    }
    /// The ATR at the next bar, without checks.
    #[inline(always)]
    pub fn step(&mut self, h: f64, l: f64, c: f64) -> f64 {
        let t = self.tr.step(h, l, c);
        if t.is_nan() {
            return t;
        }
        self.rma.step(t)
    }
    /// Continues the series with these bars, one output each.
    ///
    /// # Errors
    /// `InvalidParam` when the series or `out` differ in length; `BadInput` naming the
    /// series and global index of a non-finite value. On error the state is unchanged.
    pub fn update(&mut self, h: &[f64], l: &[f64], c: &[f64], out: &mut [f64]) -> Result<()> {
        check_bars(h, l, c, &[out.len()], self.seen())?;
        for (i, o) in out.iter_mut().enumerate() {
            *o = self.step(h[i], l[i], c[i]);
        }
        Ok(())
    }
    /// The carried state as bytes (tag, length, values).
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(NAME, |e| {
            e.usize(self.length());
            self.tr.save_fields(e);
            self.rma.save_fields(e);
        })
    }
    /// # Errors
    /// `InvalidParam` when the bytes were not saved by the ATR with this length.
    pub fn from_bytes(len: &usize, bytes: &[u8]) -> Result<Self> {
        check_length(NAME, "length", *len)?;
        decode(bytes, NAME, |d| {
            d.expect_u64("length", *len as u64)?;
            Ok(Atr {
                tr: TrueRange::load_fields(d)?,
                rma: EmaCore::load_fields(*len, rma_alpha(*len), d)?,
            })
        })
    }
}
