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

/// Bars whose deviations [`Bollinger::update`] sums side by side.
const LANES: usize = 8;

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
        // The first L-1 bars stepped (their windows reach into earlier chunks); after them
        // every window lies in `x`: the mids by the SMA's fast path, the deviations
        // `LANES` bars at a time, each summed over its own window oldest first as
        // `window_sd` does (the same sums, bit for bit; side by side they overlap instead
        // of waiting on one chain of adds).
        let len = self.p.length;
        let head = (len - 1).min(x.len());
        for i in 0..head {
            (mid[i], upper[i], lower[i]) = self.step(x[i]);
        }
        crate::kernel::Kernel::run(&mut self.sma, &x[head..], &mut mid[head..]);
        let (k, inv) = (self.p.k, len as f64);
        let mut i = head;
        while i < x.len() {
            let m = LANES.min(x.len() - i);
            let mut ss = [-0.0; LANES];
            if m == LANES {
                // Lane q's window is s[q..q+len]: row t holds value t of every lane's window,
                // so the lanes add in step (one vector op per row, each lane its own order).
                let s = &x[i + 1 - len..i + LANES];
                let c: &[f64; LANES] = mid[i..i + LANES].try_into().expect("LANES mids");
                for row in s.windows(LANES) {
                    let row: &[f64; LANES] = row.try_into().expect("LANES values");
                    for q in 0..LANES {
                        let d = row[q] - c[q];
                        ss[q] += d * d;
                    }
                }
            } else {
                for t in 0..len {
                    for q in 0..m {
                        let d = x[i + q + 1 - len + t] - mid[i + q];
                        ss[q] += d * d;
                    }
                }
            }
            for q in 0..m {
                let c = mid[i + q];
                let sd = (ss[q] / inv).sqrt();
                (upper[i + q], lower[i + q]) = if c.is_nan() {
                    (c, c)
                } else {
                    (c + k * sd, c - k * sd)
                };
            }
            i += m;
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
