//! Bollinger(L, k): `mid = SMA(x, L)`, `upper/lower = mid +/- k*sd` with `sd` the
//! population standard deviation of the same window. First defined at `L-1`.
//!
//! `sd` is computed from the window around `mid` (two passes), not from a running
//! sum of squares, so a flat window gives `sd` = 0 instead of `sqrt` of rounding noise;
//! the one computation of [`crate::stat::Stdev`] ([`window_sd`]).
use crate::codec::{decode, encode};
use crate::kernel::{check_length, check_out, check_prices};
use crate::ma::Sma;
use crate::stat::stdev::window_sd;
use crate::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BollingerParams {
    pub length: usize,
    pub k: f64,
}

#[derive(Clone, Debug)]
pub struct Bollinger {
    p: BollingerParams,
    sma: Sma,
}

const NAME: &str = "bollinger";

impl Bollinger {
    /// # Errors
    /// `InvalidParam` when `length < 1` or `k` is not finite.
    pub fn new(p: &BollingerParams) -> Result<Self> {
        check_length(NAME, "length", p.length)?;
        if !p.k.is_finite() {
            return Err(Error::param(format!(
                "{NAME}: k must be finite, got {}",
                p.k
            )));
        }
        Ok(Bollinger {
            p: *p,
            sma: Sma::with_len(p.length),
        })
    }
    pub fn first_defined(p: &BollingerParams) -> usize {
        p.length - 1
    }
    /// `(mid, upper, lower)` for the next bar.
    ///
    /// # Panics
    /// When the window is growing and no room was reserved ([`Bollinger::update`] does).
    #[inline(always)]
    pub fn step(&mut self, x: f64) -> (f64, f64, f64) {
        let mid = self.sma.step(x);
        if mid.is_nan() {
            return (mid, mid, mid);
        }
        let sd = window_sd(&self.sma, mid);
        (mid, mid + self.p.k * sd, mid - self.p.k * sd)
    }
    /// Continues the series; `mid`, `upper`, `lower` each get one value per input.
    ///
    /// # Errors
    /// `BadInput` naming the index of a non-finite input; `InvalidParam` on a short buffer.
    pub fn update(
        &mut self,
        x: &[f64],
        mid: &mut [f64],
        upper: &mut [f64],
        lower: &mut [f64],
    ) -> Result<()> {
        for o in [&*mid, &*upper, &*lower] {
            check_out(x.len(), o.len())?;
        }
        check_prices(x, self.sma.bars(), false)?;
        self.sma.reserve(x.len());
        for (i, &v) in x.iter().enumerate() {
            (mid[i], upper[i], lower[i]) = self.step(v);
        }
        Ok(())
    }
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(NAME, |e| {
            e.usize(self.p.length);
            e.f64(self.p.k);
            self.sma.save_fields(e);
        })
    }
    /// # Errors
    /// `InvalidParam` when the bytes were not saved by Bollinger with `p`.
    pub fn from_bytes(p: &BollingerParams, bytes: &[u8]) -> Result<Self> {
        let mut b = Bollinger::new(p)?;
        decode(bytes, NAME, |d| {
            d.expect_u64("length", p.length as u64)?;
            d.expect_f64("k", p.k)?;
            b.sma = Sma::load_fields(p.length, d)?;
            Ok(b)
        })
    }
}
