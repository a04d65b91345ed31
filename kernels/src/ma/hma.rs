//! HMA (Hull): `WMA(2*WMA(x, floor(L/2)) - WMA(x, L), floor(sqrt(L)))`, each length
//! at least 1; first defined at `L-1 + floor(sqrt(L))-1`.
use super::wma::Wma;
use crate::codec::{Dec, Enc};
use crate::Result;

#[derive(Clone, Debug, Default)]
pub struct Hma {
    len: usize,
    half: Wma,
    full: Wma,
    outer: Wma,
}

/// `floor(sqrt(len))`, at least 1, computed in integers.
pub fn sqrt_len(len: usize) -> usize {
    let mut r = (len as f64).sqrt() as usize;
    while r * r > len {
        r -= 1;
    }
    while (r + 1) * (r + 1) <= len {
        r += 1;
    }
    r.max(1)
}

impl Hma {
    pub fn with_len(len: usize) -> Self {
        Hma {
            len,
            half: Wma::with_len((len / 2).max(1)),
            full: Wma::with_len(len),
            outer: Wma::with_len(sqrt_len(len)),
        }
    }
    pub fn length(&self) -> usize {
        self.len
    }
    pub fn bars(&self) -> u64 {
        self.full.bars()
    }
    pub fn reserve(&mut self, n: usize) {
        self.half.reserve(n);
        self.full.reserve(n);
        self.outer.reserve(n);
    }
    #[inline(always)]
    pub fn step(&mut self, x: f64) -> f64 {
        let h = self.half.step(x);
        let f = self.full.step(x);
        if f.is_nan() {
            return f64::NAN;
        }
        self.outer.step(2.0 * h - f)
    }
    pub fn save_fields(&self, e: &mut Enc) {
        self.half.save_fields(e);
        self.full.save_fields(e);
        self.outer.save_fields(e);
    }
    pub fn load_fields(len: usize, d: &mut Dec) -> Result<Self> {
        let mut k = Hma::with_len(len);
        k.half = Wma::load_fields(k.half.length(), d)?;
        k.full = Wma::load_fields(len, d)?;
        k.outer = Wma::load_fields(k.outer.length(), d)?;
        Ok(k)
    }
}

/// Bars per block of [`Hma::run_blocks`] (two scratch columns of this many on the stack).
const BLOCK: usize = 512;

impl Hma {
    /// `step` over a chunk, a block at a time: the two inner WMAs each over the block by
    /// their fast path, then the outer one over `2*half - full` from the first bar where
    /// `full` is defined (it stays defined after). Each WMA sees the same values in the same
    /// order as stepping gives it, so the outputs are the same bit for bit.
    #[inline(always)]
    fn run_blocks(&mut self, x: &[f64], out: &mut [f64]) {
        use crate::kernel::Kernel;
        let (mut h, mut f) = ([0.0; BLOCK], [0.0; BLOCK]);
        for (xb, ob) in x.chunks(BLOCK).zip(out.chunks_mut(BLOCK)) {
            let n = xb.len();
            Kernel::run(&mut self.half, xb, &mut h[..n]);
            Kernel::run(&mut self.full, xb, &mut f[..n]);
            let from = f[..n].iter().position(|v| !v.is_nan()).unwrap_or(n);
            ob[..from].fill(f64::NAN);
            if f[from..n].iter().any(|v| v.is_nan()) {
                // `full` undefined again (sums overflowed near the float limits): stepping
                // skips the outer WMA at those bars, so step it bar by bar here.
                self.outer.reserve(n);
                for j in from..n {
                    ob[j] = if f[j].is_nan() {
                        f64::NAN
                    } else {
                        self.outer.step(2.0 * h[j] - f[j])
                    };
                }
                continue;
            }
            for (hv, &fv) in h[from..n].iter_mut().zip(&f[from..n]) {
                *hv = 2.0 * *hv - fv;
            }
            Kernel::run(&mut self.outer, &h[from..n], &mut ob[from..]);
        }
    }
}

super::length_kernel!(
    Hma,
    "hma",
    |len| len - 1 + sqrt_len(len) - 1,
    |k, x, out| k.run_blocks(x, out)
);
