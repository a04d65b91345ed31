//! WMA: `sum_{k=0}^{L-1} (L-k)*x[i-k] / (L(L+1)/2)`; first defined at `L-1`.
//! (Scaled by the reciprocal of the weight sum: within an ulp of the division, and
//! a flat window still gives exactly the direct formula's value.)
use super::window::{wma_of_flat, FlatCache, WeightedWindow};
use crate::codec::{Dec, Enc};
use crate::Result;

#[derive(Clone, Debug, Default)]
pub struct Wma {
    len: usize,
    w: WeightedWindow,
    /// `2/(L(L+1))`: a multiply, not a divide, per bar.
    inv_denom: f64,
    flat: FlatCache,
}

impl Wma {
    pub fn with_len(len: usize) -> Self {
        Wma {
            len,
            w: WeightedWindow::new(len),
            inv_denom: 2.0 / (len * (len + 1)) as f64,
            flat: FlatCache::default(),
        }
    }
    pub fn length(&self) -> usize {
        self.len
    }
    pub fn bars(&self) -> u64 {
        self.w.seen()
    }
    #[inline(always)]
    pub fn step(&mut self, x: f64) -> f64 {
        self.w.push(x);
        if let Some(v) = self.w.flat() {
            let n = self.len;
            self.flat.get(v, |v| wma_of_flat(v, n))
        } else if self.w.full() {
            self.w.wsum() * self.inv_denom
        } else {
            f64::NAN
        }
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

super::length_kernel!(Wma, "wma", |len| len - 1);
