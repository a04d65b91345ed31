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

super::length_kernel!(Hma, "hma", |len| len - 1 + sqrt_len(len) - 1);
