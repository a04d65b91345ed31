//! RSI(L): `up = max(x[i]-x[i-1], 0)`, `dn = max(x[i-1]-x[i], 0)` for `i >= 1`;
//! `u = RMA(up, L)`, `d = RMA(dn, L)` seeded by the SMA of `up[1..L]` (and `dn`);
//! `rsi = d == 0 ? 100 : u == 0 ? 0 : 100 - 100/(1 + u/d)`. First defined at `L`.
use crate::codec::{Dec, Enc};
use crate::kernel::{check_length, Kernel};
use crate::ma::rma::rma_alpha;
use crate::ma::EmaCore;
use crate::Result;

#[derive(Clone, Debug)]
pub struct Rsi {
    len: usize,
    seen: u64,
    prev: f64,
    up: EmaCore,
    dn: EmaCore,
}

impl Rsi {
    pub fn with_len(len: usize) -> Self {
        let a = rma_alpha(len);
        Rsi {
            len,
            seen: 0,
            prev: f64::NAN,
            up: EmaCore::new(len, a),
            dn: EmaCore::new(len, a),
        }
    }
    #[inline(always)]
    pub fn step(&mut self, x: f64) -> f64 {
        let first = self.seen == 0;
        let prev = self.prev;
        self.prev = x;
        self.seen += 1;
        if first {
            return f64::NAN;
        }
        let u = self.up.step((x - prev).max(0.0));
        let d = self.dn.step((prev - x).max(0.0));
        value(u, d)
    }
}

/// The RSI of averages `u` (gains) and `d` (losses): NaN while `u` is (not seeded yet, or
/// overflowed near the float limits).
#[inline(always)]
fn value(u: f64, d: f64) -> f64 {
    if u.is_nan() {
        f64::NAN
    } else if d == 0.0 {
        100.0
    } else if u == 0.0 {
        0.0
    } else {
        100.0 - 100.0 / (1.0 + u / d)
    }
}

impl Kernel for Rsi {
    type Params = usize;
    const NAME: &'static str = "rsi";
    fn new(len: &usize) -> Result<Self> {
        check_length("rsi", "length", *len)?;
        Ok(Rsi::with_len(*len))
    }
    fn first_defined(len: &usize) -> usize {
        *len
    }
    fn seen(&self) -> u64 {
        self.seen
    }
    /// `step` over a chunk: the warm-up bars one by one, then (both averages seeded) the
    /// recurrences on locals with no counters; the same operations in the same order.
    fn run(&mut self, x: &[f64], out: &mut [f64]) {
        let mut i = 0;
        while i < x.len() && !self.up.seeded() {
            out[i] = self.step(x[i]);
            i += 1;
        }
        let ((a, b, mut u), (_, _, mut d)) = (self.up.recurrence(), self.dn.recurrence());
        let mut prev = self.prev;
        for (o, &v) in out[i..].iter_mut().zip(&x[i..]) {
            u = a * (v - prev).max(0.0) + b * u;
            d = a * (prev - v).max(0.0) + b * d;
            prev = v;
            *o = value(u, d);
        }
        let n = x.len() - i;
        self.up.settle(u, n);
        self.dn.settle(d, n);
        self.prev = prev;
        self.seen += n as u64;
    }
    fn save(&self, e: &mut Enc) {
        e.usize(self.len);
        e.u64(self.seen);
        e.f64(self.prev);
        self.up.save_fields(e);
        self.dn.save_fields(e);
    }
    fn load(len: &usize, d: &mut Dec) -> Result<Self> {
        check_length("rsi", "length", *len)?;
        d.expect_u64("length", *len as u64)?;
        let a = rma_alpha(*len);
        Ok(Rsi {
            len: *len,
            seen: d.u64()?,
            prev: d.f64()?,
            up: EmaCore::load_fields(*len, a, d)?,
            dn: EmaCore::load_fields(*len, a, d)?,
        })
    }
}
