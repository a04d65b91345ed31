//! KAMA, the ATC variant: `y[0] = x[0]`, held for `0 < i < L`; from `i = L`,
//! `noise = sum of |x[j]-x[j-1]|` over the last `L` differences,
//! `signal = |x[i]-x[i-L]|`, `ratio = noise != 0 ? signal/noise : 0`,
//! `sc = (ratio*(0.666-0.064)+0.064)^2`, `y += sc*(x-y)`. Defined from index 0.
use super::window::SumWindow;
use crate::codec::{Dec, Enc};
use crate::Result;

pub(crate) const FAST: f64 = 0.666;
pub(crate) const SLOW: f64 = 0.064;

#[derive(Clone, Debug, Default)]
pub struct Kama {
    len: usize,
    /// The last `L+1` prices (oldest is `x[i-L]` once the new bar is in).
    xs: SumWindow,
    /// The last `L` absolute differences and their sum (the noise).
    diffs: SumWindow,
    prev: f64,
    y: f64,
}

impl Kama {
    pub fn with_len(len: usize) -> Self {
        Kama {
            len,
            xs: SumWindow::new(len + 1),
            diffs: SumWindow::new(len),
            prev: f64::NAN,
            y: f64::NAN,
        }
    }
    pub fn length(&self) -> usize {
        self.len
    }
    pub fn bars(&self) -> u64 {
        self.xs.seen()
    }
    pub fn reserve(&mut self, n: usize) {
        self.xs.reserve(n);
        self.diffs.reserve(n);
    }
    #[inline(always)]
    pub fn step(&mut self, x: f64) -> f64 {
        let i = self.xs.seen();
        self.xs.push(x);
        if i == 0 {
            self.y = x;
        } else {
            self.diffs.push((x - self.prev).abs());
            if i >= self.len as u64 {
                let signal = (x - self.xs.oldest()).abs();
                let noise = self.diffs.sum();
                let ratio = if noise != 0.0 { signal / noise } else { 0.0 };
                let sc = ratio * (FAST - SLOW) + SLOW;
                let sc = sc * sc;
                self.y += sc * (x - self.y);
            }
        }
        self.prev = x;
        self.y
    }
    pub fn save_fields(&self, e: &mut Enc) {
        self.xs.save(e);
        self.diffs.save(e);
        e.f64(self.prev);
        e.f64(self.y);
    }
    pub fn load_fields(len: usize, d: &mut Dec) -> Result<Self> {
        Ok(Kama {
            len,
            xs: SumWindow::load(len + 1, d)?,
            diffs: SumWindow::load(len, d)?,
            prev: d.f64()?,
            y: d.f64()?,
        })
    }
}

super::length_kernel!(Kama, "kama", |_| 0);
