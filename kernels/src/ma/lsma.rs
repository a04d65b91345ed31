//! LSMA (`ta.linreg(x, L, 0)`): the least-squares line through the last `L` points,
//! read at the newest point; first defined at `L-1`.
//!
//! With `t = 0..L-1` oldest first, the fitted value at `t = L-1` equals
//! `3*WMA - 2*SMA` of the same window, so it runs on one [`WeightedWindow`]
//! (read by an [`LsmaHead`], which the ATC shares with WMA and Hull lines).
//! For `L = 1` the line through one point is that point. A flat window gives
//! exactly the spec's value (its pairwise mean), see [`super::window`].
use super::window::{sma_of_flat, FlatCache, WeightedWindow};
use crate::codec::{Dec, Enc};
use crate::Result;

/// The LSMA of a window that has just taken its newest value.
#[derive(Clone, Debug, Default)]
pub struct LsmaHead {
    len: usize,
    inv_wdenom: f64,
    inv_len: f64,
    flat: FlatCache,
}

impl LsmaHead {
    pub fn with_len(len: usize) -> Self {
        LsmaHead {
            len,
            inv_wdenom: 2.0 / (len * (len + 1)) as f64,
            inv_len: 1.0 / len as f64,
            flat: FlatCache::default(),
        }
    }
    /// The LSMA of `w` (length `len`) whose newest value is `x`.
    #[inline(always)]
    pub fn value(&mut self, w: &WeightedWindow, x: f64) -> f64 {
        if self.len == 1 {
            x
        } else if let Some(v) = w.flat() {
            // The centred least-squares fit of a flat window has slope exactly 0: its mean.
            let n = self.len;
            self.flat.get(v, |v| sma_of_flat(v, n))
        } else if w.full() {
            3.0 * (w.wsum() * self.inv_wdenom) - 2.0 * (w.sum() * self.inv_len)
        } else {
            f64::NAN
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Lsma {
    w: WeightedWindow,
    head: LsmaHead,
}

impl Lsma {
    pub fn with_len(len: usize) -> Self {
        Lsma {
            w: WeightedWindow::new(len),
            head: LsmaHead::with_len(len),
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
        self.head.value(&self.w, x)
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

impl Lsma {
    /// `step` over a chunk, by the fast path of [`super::fast`] (equal bit for bit; with
    /// `L = 1` every window is flat, so every bar is stepped).
    #[inline(always)]
    fn run_fast(&mut self, x: &[f64], out: &mut [f64]) {
        let (iw, il) = (self.head.inv_wdenom, self.head.inv_len);
        super::fast::drive(
            self,
            |k| &mut k.w,
            x,
            out,
            Lsma::step,
            |k, x, out| {
                k.w.push_unflat(x, out, |s, w| 3.0 * (w * iw) - 2.0 * (s * il))
            },
        );
    }
}

super::length_kernel!(Lsma, "lsma", |len| len - 1, |k, x, out| k.run_fast(x, out));
