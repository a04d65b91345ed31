//! Stdev(L): the population standard deviation of the last `L` values; first defined
//! at `L-1`. Computed around the window's mean (two passes over the window, as
//! Bollinger's `sd`, which calls [`window_sd`] too), so `stdev` and the bands agree bit
//! for bit and a flat window gives 0 rather than `sqrt` of rounding noise.
use crate::codec::{Dec, Enc};
use crate::ma::Sma;
use crate::Result;

#[derive(Clone, Debug, Default)]
pub struct Stdev {
    sma: Sma,
}

/// `sqrt(sum((v - mid)^2) / L)` over the window of `sma`, oldest first.
#[inline]
pub fn window_sd(sma: &Sma, mid: f64) -> f64 {
    let (a, b) = sma.window();
    let ss: f64 = a.iter().chain(b).map(|&v| (v - mid) * (v - mid)).sum();
    (ss / sma.length() as f64).sqrt()
}

impl Stdev {
    pub fn with_len(len: usize) -> Self {
        Stdev {
            sma: Sma::with_len(len),
        }
    }
    pub fn length(&self) -> usize {
        self.sma.length()
    }
    pub fn bars(&self) -> u64 {
        self.sma.bars()
    }
    pub fn reserve(&mut self, n: usize) {
        self.sma.reserve(n);
    }
    #[inline(always)]
    pub fn step(&mut self, x: f64) -> f64 {
        let mid = self.sma.step(x);
        if mid.is_nan() {
            return mid;
        }
        window_sd(&self.sma, mid)
    }
    pub fn save_fields(&self, e: &mut Enc) {
        self.sma.save_fields(e);
    }
    pub fn load_fields(len: usize, d: &mut Dec) -> Result<Self> {
        Ok(Stdev {
            sma: Sma::load_fields(len, d)?,
        })
    }
}

crate::ma::length_kernel!(Stdev, "stdev", |len| len - 1);
