//! LSMA (`ta.linreg(x, L, 0)`): the least-squares line through the last `L` points,
//! read at the newest point; first defined at `L-1`.
//!
//! With `t = 0..L-1` oldest first, the fitted value at `t = L-1` equals
//! `3*WMA - 2*SMA` of the same window, so it runs on one [`WeightedWindow`].
//! For `L = 1` the line through one point is that point. A flat window gives
//! exactly the spec's value (its pairwise mean), see [`super::window`].
use super::window::{sma_of_flat, FlatCache, WeightedWindow};
use crate::codec::{Dec, Enc};
use crate::Result;

#[derive(Clone, Debug, Default)]
pub struct Lsma {
    len: usize,
    w: WeightedWindow,
    inv_wdenom: f64,
    inv_len: f64,
    flat: FlatCache,
}

impl Lsma {
    pub fn with_len(len: usize) -> Self {
        Lsma {
            len,
            w: WeightedWindow::new(len),
            inv_wdenom: 2.0 / (len * (len + 1)) as f64,
            inv_len: 1.0 / len as f64,
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
        if self.len == 1 {
            x
        } else if let Some(v) = self.w.flat() {
            // The centred least-squares fit of a flat window has slope exactly 0: its mean.
            let n = self.len;
            self.flat.get(v, |v| sma_of_flat(v, n))
        } else if self.w.full() {
            3.0 * (self.w.wsum() * self.inv_wdenom) - 2.0 * (self.w.sum() * self.inv_len)
        } else {
            f64::NAN
        }
    }
    pub fn save_fields(&self, e: &mut Enc) {
        self.w.save(e);
    }
    pub fn load_fields(len: usize, d: &mut Dec) -> Result<Self> {
        let mut k = Lsma::with_len(len);
        k.w = WeightedWindow::load(len, d)?;
        Ok(k)
    }
}

super::length_kernel!(Lsma, "lsma", |len| len - 1);
