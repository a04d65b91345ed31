//! WMA: `sum_{k=0}^{L-1} (L-k)*x[i-k] / (L(L+1)/2)`; first defined at `L-1`.
//! (Scaled by the reciprocal of the weight sum: within an ulp of the division, and
//! a flat window still gives exactly the direct formula's value.)
//!
//! The value is read from a [`WeightedWindow`] by a [`WmaHead`], so the ATC can
//! read WMA, LSMA and Hull lines of one length from one shared window.
use super::window::{wma_of_flat, FlatCache, WeightedWindow};
use crate::codec::{Dec, Enc};
use crate::Result;

/// The WMA of a window that has just taken its newest value.
#[derive(Clone, Debug, Default)]
pub struct WmaHead {
    len: usize,
    /// `2/(L(L+1))`: a multiply, not a divide, per bar.
    inv_denom: f64,
    flat: FlatCache,
}

impl WmaHead {
    pub fn with_len(len: usize) -> Self {
        WmaHead {
            len,
            inv_denom: 2.0 / (len * (len + 1)) as f64,
            flat: FlatCache::default(),
        }
    }
    pub fn length(&self) -> usize {
        self.len
    }
    /// The WMA of `w` (which must have length `len`).
    #[inline(always)]
    pub fn value(&mut self, w: &WeightedWindow) -> f64 {
        if let Some(v) = w.flat() {
            let n = self.len;
            self.flat.get(v, |v| wma_of_flat(v, n))
        } else if w.full() {
            w.wsum() * self.inv_denom
        } else {
            f64::NAN
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Wma {
    w: WeightedWindow,
    head: WmaHead,
}

impl Wma {
    pub fn with_len(len: usize) -> Self {
        Wma {
            w: WeightedWindow::new(len),
            head: WmaHead::with_len(len),
        }
    }
    pub fn length(&self) -> usize {
        self.head.len
    }
    pub fn bars(&self) -> u64 {
        self.w.seen()
    }
    pub fn reserve(&mut self, n: usize) {
        self.w.reserve(n);
    }
    #[inline(always)]
    pub fn step(&mut self, x: f64) -> f64 {
        self.w.push(x);
        self.head.value(&self.w)
    }
    pub fn save_fields(&self, e: &mut Enc) {
        self.w.save(e);
    }
    pub fn load_fields(len: usize, d: &mut Dec) -> Result<Self> {
        let mut k = Wma::with_len(len);
        k.w = WeightedWindow::load(len, d)?;
        Ok(k)
    }
}

impl Wma {
    /// `step` over a chunk, by the fast path of [`super::fast`] (equal bit for bit).
    #[inline(always)]
    fn run_fast(&mut self, x: &[f64], out: &mut [f64]) {
        let inv = self.head.inv_denom;
        super::fast::drive(
            self,
            |k| &mut k.w,
            x,
            out,
            Wma::step,
            |k, x, out| k.w.push_unflat(x, out, |_, w| w * inv),
        );
    }
}

super::length_kernel!(Wma, "wma", |len| len - 1, |k, x, out| k.run_fast(x, out));
