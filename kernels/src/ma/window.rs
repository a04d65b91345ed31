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
//!
//! A window's storage grows with the values pushed until it holds `len` of them, then
//! turns into a ring: a long length over a short series allocates only the bars seen.
//! Room is reserved per chunk (`reserve(n)` before `n` pushes), so the per-bar loops
//! hold no call that allocates.
//! Slots not yet grown count as 0.0, as the zero-filled ring they stand in for did, so
//! sums and saved states are what a preallocated ring gives.
use super::blocks::weighted_laps;
use crate::codec::{Dec, Enc};
use crate::{Error, Result};

/// The values of a window of `len`: `len` slots once grown, a ring whose next slot is
/// `pos`. While growing it holds the values so far in `buf[..pos]` and zeros after them
/// (room reserved ahead), and `pos` counts the values.
#[derive(Clone, Debug, Default)]
struct Ring {
    buf: Box<[f64]>,
    len: usize,
    pos: usize,
}

impl Ring {
    fn new(len: usize) -> Self {
        Ring {
            buf: Box::default(),
            len,
            pos: 0,
        }
    }

    /// Makes room for the next `n` values, so that putting them allocates nothing (the
    /// slots at least double when they grow, and never exceed `len`).
    fn reserve(&mut self, n: usize) {
        let have = self.buf.len();
        if have == self.len {
            return;
        }
        let need = self.pos.saturating_add(n).min(self.len);
        if need > have {
            let want = need.max(have.saturating_mul(2).min(self.len));
            let mut v = std::mem::take(&mut self.buf).into_vec();
            v.reserve_exact(want - have);
            v.resize(want, 0.0);
            self.buf = v.into_boxed_slice();
        }
    }

    /// Stores `x` in the next slot; returns the value it replaces (0.0 while growing) and
    /// whether the ring just wrapped (its values are then in storage order, oldest first).
    ///
    /// # Panics
    /// While growing, when [`Ring::reserve`] did not make room first: the per-bar loops
    /// hold no call that returns (it would cost the registers their values live in).
    #[inline(always)]
    fn put(&mut self, x: f64) -> (f64, bool) {
        let Some(slot) = self.buf.get_mut(self.pos) else {
            unreserved()
        };
        let old = std::mem::replace(slot, x);
        self.pos += 1;
        // The end of the slots is a wrap once all `len` are there, else the end of the room.
        let wrapped = self.pos == self.buf.len() && self.pos == self.len;
        if wrapped {
            self.pos = 0;
        }
        (old, wrapped)
    }

    /// The stretch of a grown ring the next (at most `m`) values fill before it wraps or
    /// they run out: `(start, count, wraps)`. The caller stores them and calls `advance`.
    #[inline(always)]
    fn stretch(&self, m: usize) -> (usize, usize, bool) {
        debug_assert_eq!(self.buf.len(), self.len, "a grown ring");
        let k = (self.len - self.pos).min(m);
        (self.pos, k, self.pos + k == self.len)
    }
    #[inline(always)]
    fn advance(&mut self, k: usize, wraps: bool) {
        self.pos = if wraps { 0 } else { self.pos + k };
    }

    /// The values held, oldest first, as two slices (`full`: `len` values were seen).
    #[inline]
    fn ordered(&self, full: bool) -> (&[f64], &[f64]) {
        if full {
            (&self.buf[self.pos..], &self.buf[..self.pos])
        } else {
            (&[], &self.buf[..self.pos])
        }
    }

    /// As a preallocated ring saved itself when full; only the values held when not.
    fn save(&self, e: &mut Enc, full: bool) {
        let (a, b) = self.ordered(full);
        e.f64s(if full { &self.buf } else { b });
        debug_assert!(full || a.is_empty());
        e.usize(self.pos);
    }

    /// The values and position saved by [`Ring::save`] (settled by [`Ring::settle`]).
    fn load(len: usize, d: &mut Dec) -> Result<(Vec<f64>, usize)> {
        Ok((d.f64s_upto(len)?, d.usize()?))
    }

    /// A ring from saved values once `seen` is known. A window that is not yet full holds
    /// `seen` values from slot 0; states saved by a preallocated ring pad them with zeros
    /// up to `len`, which are dropped here.
    fn settle(len: usize, mut buf: Vec<f64>, pos: usize, seen: u64) -> Result<Self> {
        let bad = || Error::param("state: window position out of range");
        if seen < len as u64 {
            let held = seen as usize;
            if pos != held || (buf.len() != held && buf.len() != len) {
                return Err(bad());
            }
            buf.truncate(held);
        } else if buf.len() != len || pos >= len {
            return Err(bad());
        }
        Ok(Ring {
            buf: buf.into_boxed_slice(),
            len,
            pos,
        })
    }
}

#[cold]
#[inline(never)]
fn unreserved() -> ! {
    panic!("a window grew past the room reserved for it (reserve before stepping)")
}

/// A window of the last `len` values with their plain sum.
#[derive(Clone, Debug, Default)]
pub struct SumWindow {
    ring: Ring,
    seen: u64,
    sum: f64,
    /// Consecutive identical values ending at the newest, and the newest.
    run: u64,
    last: f64,
}

impl SumWindow {
    pub fn new(len: usize) -> Self {
        SumWindow {
            ring: Ring::new(len),
            seen: 0,
            sum: 0.0,
            run: 0,
            last: f64::NAN,
        }
    }
    #[inline]
    pub fn length(&self) -> usize {
        self.ring.len
    }
    /// Values allocated (at most the bars seen, rounded up, and never above the length).
    pub fn capacity(&self) -> usize {
        self.ring.buf.len()
    }
    /// Makes room for the next `n` pushes: call it before them (outside the hot loop).
    pub fn reserve(&mut self, n: usize) {
        self.ring.reserve(n);
    }
    /// Whether the window holds `len` real values.
    #[inline(always)]
    pub fn full(&self) -> bool {
        self.seen >= self.ring.len as u64
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
        if self.run >= self.ring.len as u64 {
            Some(self.last)
        } else {
            None
        }
    }

    /// The oldest value of a full window (the one the next push drops).
    #[inline(always)]
    pub fn oldest(&self) -> f64 {
        self.ring.buf.get(self.ring.pos).copied().unwrap_or(0.0)
    }
    /// The window, oldest first, as two slices.
    #[inline]
    pub fn ordered(&self) -> (&[f64], &[f64]) {
        self.ring.ordered(self.full())
    }
    /// Adds `x`, drops the oldest value.
    ///
    /// # Panics
    /// While the window is growing, when [`SumWindow::reserve`] made no room for `x`.
    #[inline(always)]
    pub fn push(&mut self, x: f64) {
        // Before the first value `last` is NaN, which equals nothing.
        self.run = if x == self.last { self.run + 1 } else { 1 };
        self.last = x;
        let (old, wrapped) = self.ring.put(x);
        self.seen += 1;
        if wrapped {
            self.sum = self.ring.buf.iter().sum();
        } else {
            self.sum += x - old;
        }
    }
    /// The identical-values run ending at the newest value: its length and the value.
    #[inline]
    pub(super) fn run_state(&self) -> (u64, f64) {
        (self.run, self.last)
    }
    pub(super) fn set_run_state(&mut self, run: u64, last: f64) {
        (self.run, self.last) = (run, last);
    }

    /// [`SumWindow::push`] of each value of `x`, writing `value(sum)` to `out`, for a full
    /// window that none of these pushes leaves flat (the caller has found that out, and
    /// sets the run after them: see [`super::fast`]). The same operations in the same order
    /// as `push`, without its per-bar checks: the loop is split where the ring wraps, and
    /// only there is the sum recomputed from the window.
    #[inline(always)]
    pub(super) fn push_unflat(&mut self, x: &[f64], out: &mut [f64], value: impl Fn(f64) -> f64) {
        debug_assert!(self.full() && x.len() == out.len());
        let mut sum = self.sum;
        let mut from = 0;
        while from < x.len() {
            let (pos, k, wraps) = self.ring.stretch(x.len() - from);
            let body = k - wraps as usize;
            let slots = &mut self.ring.buf[pos..pos + body];
            let (xs, os) = (&x[from..from + body], &mut out[from..from + body]);
            for ((slot, &v), o) in slots.iter_mut().zip(xs).zip(os) {
                let old = std::mem::replace(slot, v);
                sum += v - old;
                *o = value(sum);
            }
            if wraps {
                let last = from + body;
                self.ring.buf[pos + body] = x[last];
                sum = self.ring.buf.iter().sum();
                out[last] = value(sum);
            }
            self.ring.advance(k, wraps);
            from += k;
        }
        self.sum = sum;
        self.seen += x.len() as u64;
    }

    pub fn save(&self, e: &mut Enc) {
        self.ring.save(e, self.full());
        e.u64(self.seen);
        e.f64(self.sum);
        e.u64(self.run);
        e.f64(self.last);
    }
    pub fn load(len: usize, d: &mut Dec) -> Result<Self> {
        let (buf, pos) = Ring::load(len, d)?;
        let seen = d.u64()?;
        Ok(SumWindow {
            ring: Ring::settle(len, buf, pos, seen)?,
            seen,
            sum: d.f64()?,
            run: d.u64()?,
            last: d.f64()?,
        })
    }
}

/// A window of the last `len` values with their sum and their linearly weighted sum
/// (weight `len` on the newest value, 1 on the oldest).
#[derive(Clone, Debug, Default)]
pub struct WeightedWindow {
    ring: Ring,
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
            ring: Ring::new(len),
            seen: 0,
            sum: 0.0,
            wsum: 0.0,
            run: 0,
            last: f64::NAN,
        }
    }
    #[inline]
    pub fn length(&self) -> usize {
        self.ring.len
    }
    /// Values allocated (at most the bars seen, rounded up, and never above the length).
    pub fn capacity(&self) -> usize {
        self.ring.buf.len()
    }
    /// Makes room for the next `n` pushes: call it before them (outside the hot loop).
    pub fn reserve(&mut self, n: usize) {
        self.ring.reserve(n);
    }
    #[inline(always)]
    pub fn full(&self) -> bool {
        self.seen >= self.ring.len as u64
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
        if self.run >= self.ring.len as u64 {
            Some(self.last)
        } else {
            None
        }
    }

    /// Adds `x`, drops the oldest value: `W' = W - S + len*x`, `S' = S - oldest + x`.
    ///
    /// # Panics
    /// While the window is growing, when [`WeightedWindow::reserve`] made no room for `x`.
    #[inline(always)]
    pub fn push(&mut self, x: f64) {
        // Before the first value `last` is NaN, which equals nothing.
        self.run = if x == self.last { self.run + 1 } else { 1 };
        self.last = x;
        let n = self.ring.len;
        let (old, wrapped) = self.ring.put(x);
        self.seen += 1;
        if wrapped {
            (self.sum, self.wsum) = weighted_sums(&self.ring.buf);
        } else {
            self.wsum += n as f64 * x - self.sum;
            self.sum += x - old;
        }
    }
    /// The identical-values run ending at the newest value: its length and the value.
    #[inline]
    pub(super) fn run_state(&self) -> (u64, f64) {
        (self.run, self.last)
    }
    pub(super) fn set_run_state(&mut self, run: u64, last: f64) {
        (self.run, self.last) = (run, last);
    }

    /// [`WeightedWindow::push`] of each value of `x`, writing `value(sum, wsum)` to `out`,
    /// for a full window that none of these pushes leaves flat: as
    /// [`SumWindow::push_unflat`].
    #[inline(always)]
    pub(super) fn push_unflat(
        &mut self,
        x: &[f64],
        out: &mut [f64],
        value: impl Fn(f64, f64) -> f64,
    ) {
        debug_assert!(self.full() && x.len() == out.len());
        let len = self.ring.len;
        let n = len as f64;
        let (mut sum, mut wsum) = (self.sum, self.wsum);
        let mut from = 0;
        while from < x.len() {
            // Right after a wrap: the whole laps ahead side by side (see [`super::blocks`]).
            let laps = (x.len() - from) / len;
            if self.ring.pos == 0 && laps > 1 {
                let to = from + laps * len;
                (sum, wsum) = weighted_laps(
                    &self.ring.buf,
                    &x[from..to],
                    (sum, wsum),
                    &mut out[from..to],
                    &value,
                );
                self.ring.buf.copy_from_slice(&x[to - len..to]);
                from = to;
                continue;
            }
            let (pos, k, wraps) = self.ring.stretch(x.len() - from);
            let body = k - wraps as usize;
            let slots = &mut self.ring.buf[pos..pos + body];
            let (xs, os) = (&x[from..from + body], &mut out[from..from + body]);
            for ((slot, &v), o) in slots.iter_mut().zip(xs).zip(os) {
                let old = std::mem::replace(slot, v);
                wsum += n * v - sum;
                sum += v - old;
                *o = value(sum, wsum);
            }
            if wraps {
                let last = from + body;
                self.ring.buf[pos + body] = x[last];
                (sum, wsum) = weighted_sums(&self.ring.buf);
                out[last] = value(sum, wsum);
            }
            self.ring.advance(k, wraps);
            from += k;
        }
        self.sum = sum;
        self.wsum = wsum;
        self.seen += x.len() as u64;
    }

    pub fn save(&self, e: &mut Enc) {
        self.ring.save(e, self.full());
        e.u64(self.seen);
        e.f64(self.sum);
        e.f64(self.wsum);
        e.u64(self.run);
        e.f64(self.last);
    }
    pub fn load(len: usize, d: &mut Dec) -> Result<Self> {
        let (buf, pos) = Ring::load(len, d)?;
        let seen = d.u64()?;
        Ok(WeightedWindow {
            ring: Ring::settle(len, buf, pos, seen)?,
            seen,
            sum: d.f64()?,
            wsum: d.f64()?,
            run: d.u64()?,
            last: d.f64()?,
        })
    }
}

/// The sum and the weighted sum (weight `k+1` on `buf[k]`) of a window in storage order,
/// oldest first: the recomputation at each wrap.
#[inline]
fn weighted_sums(buf: &[f64]) -> (f64, f64) {
    let (mut s, mut w) = (0.0, 0.0);
    for (k, &v) in buf.iter().enumerate() {
        s += v;
        w += (k + 1) as f64 * v;
    }
    (s, w)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The same pushes on a window that was allocated whole: the old layout, for reference.
    fn preallocated_sums(len: usize, xs: &[f64]) -> Vec<(f64, f64)> {
        let (mut buf, mut pos, mut sum, mut wsum) = (vec![0.0; len], 0, 0.0, 0.0);
        xs.iter()
            .map(|&x| {
                let old = buf[pos];
                buf[pos] = x;
                pos += 1;
                if pos == len {
                    pos = 0;
                    sum = buf.iter().sum();
                    wsum = buf
                        .iter()
                        .enumerate()
                        .map(|(k, v)| (k + 1) as f64 * v)
                        .fold(0.0, |a, b| a + b);
                } else {
                    wsum += len as f64 * x - sum;
                    sum += x - old;
                }
                (sum, wsum)
            })
            .collect()
    }

    #[test]
    fn windows_grow_with_the_bars_seen_up_to_their_length() {
        let xs: Vec<f64> = (0..700).map(|i| 1.0 + (i as f64 * 0.37).sin()).collect();
        for len in [1, 2, 7, 8, 17, 300, 1_000_000] {
            let mut s = SumWindow::new(len);
            let mut w = WeightedWindow::new(len);
            let want = preallocated_sums(len.min(2000), &xs);
            for (i, &x) in xs.iter().enumerate() {
                // Reserve in chunks of 1 and 64 bars alike.
                let n = if len % 2 == 0 { 1 } else { 64 };
                if i % n == 0 {
                    s.reserve(n);
                    w.reserve(n);
                }
                s.push(x);
                w.push(x);
                let seen = i + 1;
                assert!(s.capacity() <= len, "len {len}: capacity above the length");
                assert!(
                    s.capacity() <= (2 * seen).max(seen + 64),
                    "len {len}: {} for {seen}",
                    s.capacity()
                );
                assert_eq!(w.capacity(), s.capacity());
                if len <= 2000 {
                    assert_eq!(s.sum().to_bits(), want[i].0.to_bits(), "len {len} bar {i}");
                    assert_eq!(w.wsum().to_bits(), want[i].1.to_bits(), "len {len} bar {i}");
                }
            }
            let (a, b) = s.ordered();
            let held: Vec<f64> = a.iter().chain(b).copied().collect();
            assert_eq!(
                held,
                xs[xs.len().saturating_sub(len)..],
                "len {len}: oldest first"
            );
        }
    }
}
