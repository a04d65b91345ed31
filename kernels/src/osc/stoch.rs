//! Stochastic(k, d): `%K = 100 * (c - lowest(l, k)) / (highest(h, k) - lowest(l, k))`,
//! evaluated left to right, NaN where the range is 0 (first defined at `k-1`); `%D` =
//! SMA(d) over the defined %K values only: a NaN %K does not enter it, and its %D is NaN
//! (first defined at `k-1 + d-1` when no range is 0).
use crate::codec::{decode, encode};
use crate::kernel::{check_bars, check_length};
use crate::ma::Sma;
use crate::stat::{Highest, Lowest};
use crate::Result;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StochParams {
    /// The %K window.
    pub k: usize,
    /// The %D smoothing.
    pub d: usize,
}

#[derive(Clone, Debug)]
pub struct Stoch {
    p: StochParams,
    hi: Highest,
    lo: Lowest,
    d: Sma,
}

const NAME: &str = "stoch";

impl Stoch {
    /// # Errors
    /// `InvalidParam` naming `k` or `d` unless each is from 1 to `MAX_LENGTH`.
    pub fn new(p: &StochParams) -> Result<Self> {
        check_length(NAME, "k", p.k)?;
        check_length(NAME, "d", p.d)?;
        Ok(Stoch {
            p: *p,
            hi: Highest::with_len(p.k),
            lo: Lowest::with_len(p.k),
            d: Sma::with_len(p.d),
        })
    }
    pub fn params(&self) -> StochParams {
        self.p
    }
    /// Bars consumed so far (the global index of the next bar).
    pub fn seen(&self) -> u64 {
        self.hi.bars()
    }
    /// Makes room in the windows for the next `n` steps; call it before them.
    pub fn reserve(&mut self, n: usize) {
        self.hi.reserve(n);
        self.lo.reserve(n);
        self.d.reserve(n);
    }
    /// `(%K, %D)` at the next bar, without checks.
    ///
    /// # Panics
    /// When the %D window is growing and no room was reserved ([`Stoch::reserve`]).
    #[inline(always)]
    pub fn step(&mut self, h: f64, l: f64, c: f64) -> (f64, f64) {
        let hh = self.hi.step(h);
        let ll = self.lo.step(l);
        let range = hh - ll;
        // NaN before `k` bars (the range is NaN), and where the range is 0.
        if range.is_nan() || range == 0.0 {
            return (f64::NAN, f64::NAN);
        }
        let k = 100.0 * (c - ll) / range;
        (k, self.d.step(k))
    }
    /// Continues the series with these bars; `k` and `d` get one value per bar.
    ///
    /// # Errors
    /// `InvalidParam` when the series or outputs differ in length; `BadInput` naming the
    /// series and global index of a non-finite value. On error the state is unchanged.
    pub fn update(
        &mut self,
        h: &[f64],
        l: &[f64],
        c: &[f64],
        k: &mut [f64],
        d: &mut [f64],
    ) -> Result<()> {
        check_bars(h, l, c, &[k.len(), d.len()], self.seen())?;
        self.reserve(h.len());
        for i in 0..h.len() {
            (k[i], d[i]) = self.step(h[i], l[i], c[i]);
        }
        Ok(())
    }
    /// The carried state as bytes (tag, parameters, values).
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(NAME, |e| {
            e.usize(self.p.k);
            e.usize(self.p.d);
            self.hi.save_fields(e);
            self.lo.save_fields(e);
            self.d.save_fields(e);
        })
    }
    /// # Errors
    /// `InvalidParam` when the bytes were not saved by the stochastic with `p`.
    pub fn from_bytes(p: &StochParams, bytes: &[u8]) -> Result<Self> {
        let mut s = Stoch::new(p)?;
        decode(bytes, NAME, |d| {
            d.expect_u64("k", p.k as u64)?;
            d.expect_u64("d", p.d as u64)?;
            s.hi = Highest::load_fields(p.k, d)?;
            s.lo = Lowest::load_fields(p.k, d)?;
            s.d = Sma::load_fields(p.d, d)?;
            if s.lo.bars() != s.hi.bars() {
                return Err(crate::Error::param(
                    "state: the windows disagree on the bars seen",
                ));
            }
            Ok(s)
        })
    }
}
