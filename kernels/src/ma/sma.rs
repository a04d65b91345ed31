//! SMA: the mean of the last `L` values; first defined at `L-1`.
use super::window::{sma_of_flat, FlatCache, SumWindow};
use crate::codec::{Dec, Enc};
use crate::Result;

#[derive(Clone, Debug, Default)]
pub struct Sma {
    w: SumWindow,
    /// `1/L`: a multiply, not a divide, per bar (a flat window still gives the direct value).
    inv_len: f64,
    flat: FlatCache,
}

impl Sma {
    pub fn with_len(len: usize) -> Self {
        Sma {
            w: SumWindow::new(len),
            inv_len: 1.0 / len as f64,
            flat: FlatCache::default(),
        }
    }
    pub fn length(&self) -> usize {
        self.w.length()
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
        if let Some(v) = self.w.flat() {
            let n = self.w.length();
            self.flat.get(v, |v| sma_of_flat(v, n))
        } else if self.w.full() {
            self.w.sum() * self.inv_len
        } else {
            f64::NAN
        }
    }
    /// The current window, oldest first (for Bollinger's deviation).
    pub fn window(&self) -> (&[f64], &[f64]) {
        self.w.ordered()
    }
    pub fn save_fields(&self, e: &mut Enc) {
        self.w.save(e);
    }
    pub fn load_fields(len: usize, d: &mut Dec) -> Result<Self> {
        Ok(Sma {
            w: SumWindow::load(len, d)?,
            inv_len: 1.0 / len as f64,
            flat: FlatCache::default(),
        })
    }
}

impl Sma {
    /// `step` over a chunk, by the fast path of [`super::fast`] (equal bit for bit).
    #[inline(always)]
    fn run_fast(&mut self, x: &[f64], out: &mut [f64]) {
        let inv = self.inv_len;
        super::fast::drive(
            self,
            |k| &mut k.w,
            x,
            out,
            Sma::step,
            |k, x, out| k.w.push_unflat(x, out, |s| s * inv),
        );
    }
}

super::length_kernel!(Sma, "sma", |len| len - 1, |k, x, out| k.run_fast(x, out));
