//! Sliding-window sums shared by SMA, WMA, LSMA, HMA and Bollinger.
//!
//! Sums run incrementally (one add per bar) and are recomputed from the window,
//! oldest first, each time the ring wraps, so rounding error never builds up over
//! more than one window. Wrapping depends only on the bar count, so a chunked run
//! recomputes on the same bars as a whole run: results agree bit for bit.
//!
//! Flat windows (all `len` values identical) are reported by `flat()`: there a
//! line sits within an ulp of the price, and the trend state's crossings are
//! decided by the last bit, so kernels return exactly what the spec's direct
//! formula gives for that window (see [`sma_of_flat`], [`wma_of_flat`]).
use crate::codec::{Dec, Enc};
use crate::Result;

/// A ring of the last `len` values with their plain sum.
#[derive(Clone, Debug, Default)]
pub struct SumWindow {
    buf: Vec<f64>,
    pos: usize,
    seen: u64,
    sum: f64,
    /// Consecutive identical values ending at the newest, and the newest.
    run: u64,
    last: f64,
}

impl SumWindow {
    pub fn new(len: usize) -> Self {
        SumWindow {
            buf: vec![0.0; len],
            pos: 0,
            seen: 0,
            sum: 0.0,
            run: 0,
            last: f64::NAN,
        }
    }
    #[inline]
    pub fn length(&self) -> usize {
        self.buf.len()
    }
    /// Whether the window holds `len` real values.
    #[inline(always)]
    pub fn full(&self) -> bool {
        self.seen >= self.buf.len() as u64
    }
    #[inline(always)]
    pub fn sum(&self) -> f64 {
        self.sum
    }
    pub fn seen(&self) -> u64 {
        self.seen
    }
    /// `Some(v)` when the window is full and every value in it is `v`.
    #[inline(always)]
    pub fn flat(&self) -> Option<f64> {
        if self.run >= self.buf.len() as u64 {
            Some(self.last)
        } else {
            None
        }
    }

    /// The window, oldest first, as two slices.
    pub fn ordered(&self) -> (&[f64], &[f64]) {
        (&self.buf[self.pos..], &self.buf[..self.pos])
    }
    /// Adds `x`, drops the oldest value.
    #[inline(always)]
    pub fn push(&mut self, x: f64) {
        let old = self.buf[self.pos];
        // Before the first value `last` is NaN, which equals nothing.
        self.run = if x == self.last { self.run + 1 } else { 1 };
        self.last = x;
        self.buf[self.pos] = x;
        self.pos += 1;
        self.seen += 1;
        if self.pos == self.buf.len() {
            self.pos = 0;
            self.sum = self.buf.iter().sum();
        } else {
            self.sum += x - old;
        }
    }
    pub fn save(&self, e: &mut Enc) {
        e.f64s(&self.buf);
        e.usize(self.pos);
        e.u64(self.seen);
        e.f64(self.sum);
        e.u64(self.run);
        e.f64(self.last);
    }
    pub fn load(len: usize, d: &mut Dec) -> Result<Self> {
        let buf = d.f64s(len)?;
        let pos = d.usize()?;
        let seen = d.u64()?;
        let sum = d.f64()?;
        let run = d.u64()?;
        let last = d.f64()?;
        if pos >= len.max(1) {
            return Err(crate::Error::param("state: window position out of range"));
        }
        Ok(SumWindow {
            buf,
            pos,
            seen,
            sum,
            run,
            last,
        })
    }
}

/// A ring of the last `len` values with their sum and their linearly weighted sum
/// (weight `len` on the newest value, 1 on the oldest).
#[derive(Clone, Debug, Default)]
pub struct WeightedWindow {
    buf: Vec<f64>,
    pos: usize,
    seen: u64,
    sum: f64,
    wsum: f64,
    /// Consecutive identical values ending at the newest, and the newest.
    run: u64,
    last: f64,
}

impl WeightedWindow {
    pub fn new(len: usize) -> Self {
        WeightedWindow {
            buf: vec![0.0; len],
            pos: 0,
            seen: 0,
            sum: 0.0,
            wsum: 0.0,
            run: 0,
            last: f64::NAN,
        }
    }
    #[inline(always)]
    pub fn full(&self) -> bool {
        self.seen >= self.buf.len() as u64
    }
    #[inline(always)]
    pub fn sum(&self) -> f64 {
        self.sum
    }
    #[inline(always)]
    pub fn wsum(&self) -> f64 {
        self.wsum
    }
    pub fn seen(&self) -> u64 {
        self.seen
    }
    /// `Some(v)` when the window is full and every value in it is `v`.
    #[inline(always)]
    pub fn flat(&self) -> Option<f64> {
        if self.run >= self.buf.len() as u64 {
            Some(self.last)
        } else {
            None
        }
    }

    /// Adds `x`, drops the oldest value: `W' = W - S + len*x`, `S' = S - oldest + x`.
    #[inline(always)]
    pub fn push(&mut self, x: f64) {
        let n = self.buf.len();
        let old = self.buf[self.pos];
        // Before the first value `last` is NaN, which equals nothing.
        self.run = if x == self.last { self.run + 1 } else { 1 };
        self.last = x;
        self.buf[self.pos] = x;
        self.pos += 1;
        self.seen += 1;
        if self.pos == n {
            self.pos = 0;
            let (mut s, mut w) = (0.0, 0.0);
            for (k, &v) in self.buf.iter().enumerate() {
                s += v;
                w += (k + 1) as f64 * v;
            }
            self.sum = s;
            self.wsum = w;
        } else {
            self.wsum += n as f64 * x - self.sum;
            self.sum += x - old;
        }
    }
    pub fn save(&self, e: &mut Enc) {
        e.f64s(&self.buf);
        e.usize(self.pos);
        e.u64(self.seen);
        e.f64(self.sum);
        e.f64(self.wsum);
        e.u64(self.run);
        e.f64(self.last);
    }
    pub fn load(len: usize, d: &mut Dec) -> Result<Self> {
        let buf = d.f64s(len)?;
        let pos = d.usize()?;
        let seen = d.u64()?;
        let sum = d.f64()?;
        let wsum = d.f64()?;
        let run = d.u64()?;
        let last = d.f64()?;
        if pos >= len.max(1) {
            return Err(crate::Error::param("state: window position out of range"));
        }
        Ok(WeightedWindow {
            buf,
            pos,
            seen,
            sum,
            wsum,
            run,
            last,
        })
    }
}

/// The sum of `n` copies of `v`, added in numpy's pairwise order (8 running
/// partial sums per block of at most 128, halves above that), as the spec's
/// reference sums a window.
pub fn pairwise_sum_of_flat(v: f64, n: usize) -> f64 {
    if n < 8 {
        return (0..n).fold(-0.0, |s, _| s + v);
    }
    if n <= 128 {
        let mut r = [v; 8];
        for _ in 1..n / 8 {
            for p in r.iter_mut() {
                *p += v;
            }
        }
        let mut s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for _ in 0..n % 8 {
            s += v;
        }
        return s;
    }
    let half = n / 2 - (n / 2) % 8;
    pairwise_sum_of_flat(v, half) + pairwise_sum_of_flat(v, n - half)
}

/// The SMA of a window of `n` copies of `v`, exactly as the direct formula gives it.
pub fn sma_of_flat(v: f64, n: usize) -> f64 {
    pairwise_sum_of_flat(v, n) / n as f64
}

/// The WMA of a window of `n` copies of `v`: `sum_k (k+1)*v` oldest first, over `n(n+1)/2`.
pub fn wma_of_flat(v: f64, n: usize) -> f64 {
    (0..n).fold(0.0, |s, k| s + (k + 1) as f64 * v) / ((n * (n + 1)) as f64 / 2.0)
}

/// Caches `f(v)` for the last flat value `v` (a flat run costs one evaluation).
#[derive(Clone, Debug)]
pub struct FlatCache {
    v: f64,
    out: f64,
}

impl Default for FlatCache {
    fn default() -> Self {
        FlatCache {
            v: f64::NAN,
            out: f64::NAN,
        }
    }
}

impl FlatCache {
    #[inline]
    pub fn get(&mut self, v: f64, f: impl FnOnce(f64) -> f64) -> f64 {
        if v.to_bits() != self.v.to_bits() {
            self.v = v;
            self.out = cold(v, f);
        }
        self.out
    }
}

/// Out of the hot loop, and by value so the caller's state can stay in registers.
#[cold]
#[inline(never)]
fn cold(v: f64, f: impl FnOnce(f64) -> f64) -> f64 {
    f(v)
}

impl FlatCache {}
