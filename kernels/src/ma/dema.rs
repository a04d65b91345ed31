//! DEMA: `2*e1 - EMA(e1, L)` with `e1 = EMA(x, L)`; the inner EMA is seeded by the
//! SMA of the first `L` defined values of `e1`. First defined at `2L-2`.
use super::ema::{ema_alpha, EmaCore};
use crate::codec::{Dec, Enc};
use crate::Result;

#[derive(Clone, Debug, Default)]
pub struct Dema {
    e1: EmaCore,
    e2: EmaCore,
}

impl Dema {
    pub fn with_len(len: usize) -> Self {
        Dema {
            e1: EmaCore::new(len, ema_alpha(len)),
            e2: EmaCore::new(len, ema_alpha(len)),
        }
    }
    pub fn length(&self) -> usize {
        self.e1.length()
    }
    pub fn bars(&self) -> u64 {
        self.e1.bars()
    }
    /// No window: nothing to reserve.
    pub fn reserve(&mut self, _n: usize) {}
    #[inline(always)]
    pub fn step(&mut self, x: f64) -> f64 {
        let e1 = self.e1.step(x);
        if e1.is_nan() {
            return f64::NAN;
        }
        let e2 = self.e2.step(e1);
        2.0 * e1 - e2
    }
    pub fn save_fields(&self, e: &mut Enc) {
        self.e1.save_fields(e);
        self.e2.save_fields(e);
    }
    pub fn load_fields(len: usize, d: &mut Dec) -> Result<Self> {
        let a = ema_alpha(len);
        Ok(Dema {
            e1: EmaCore::load_fields(len, a, d)?,
            e2: EmaCore::load_fields(len, a, d)?,
        })
    }
}

impl Dema {
    /// `step` over a chunk: the warm-up bars one by one, then (both EMAs seeded) the two
    /// recurrences on locals with no per-bar check; the same operations in the same order.
    #[inline(always)]
    fn run_fast(&mut self, x: &[f64], out: &mut [f64]) {
        let mut i = 0;
        while i < x.len() && !self.e2.seeded() {
            out[i] = self.step(x[i]);
            i += 1;
        }
        let ((a1, b1, mut y1), (a2, b2, mut y2)) = (self.e1.recurrence(), self.e2.recurrence());
        for (o, &v) in out[i..].iter_mut().zip(&x[i..]) {
            y1 = a1 * v + b1 * y1;
            y2 = a2 * y1 + b2 * y2;
            *o = 2.0 * y1 - y2;
        }
        self.e1.settle(y1, x.len() - i);
        self.e2.settle(y2, x.len() - i);
    }
}

super::length_kernel!(Dema, "dema", |len| 2 * len - 2, |k, x, out| k
    .run_fast(x, out));
