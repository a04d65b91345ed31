//! The monotonic deque behind [`Highest`](super::Highest) and [`Lowest`](super::Lowest).
//!
//! It holds the bars of the window that can still be the extreme: each newer than the
//! one before it and strictly below it (for the max; above it for the min). A new value
//! drops the values it dominates from the back, the bar leaving the window drops from the
//! front, and the front is the window's extreme: O(1) amortised per bar, and the output
//! is a value of the input (no arithmetic), so a resumed series agrees bit for bit.
//!
//! Its storage grows with the bars held (at most `min(L, bars seen)`), reserved per chunk
//! ([`Extreme::reserve`]) so the per-bar loop allocates nothing.
use crate::codec::{Dec, Enc};
use crate::{Error, Result};
use std::collections::VecDeque;

/// The max (`MAX = true`) or min (`MAX = false`) of the last `len` values.
#[derive(Clone, Debug, Default)]
pub struct Extreme<const MAX: bool> {
    len: usize,
    seen: u64,
    /// `(global bar index, value)`, oldest first.
    q: VecDeque<(u64, f64)>,
}

impl<const MAX: bool> Extreme<MAX> {
    pub fn with_len(len: usize) -> Self {
        Extreme {
            len,
            seen: 0,
            q: VecDeque::new(),
        }
    }
    pub fn length(&self) -> usize {
        self.len
    }
    pub fn bars(&self) -> u64 {
        self.seen
    }
    /// Entries allocated (never above the length, at most about twice the bars seen).
    pub fn capacity(&self) -> usize {
        self.q.capacity()
    }
    /// Makes room for the next `n` steps (the deque holds at most `len` entries), at
    /// least doubling when it grows: call it before them, outside the per-bar loop.
    pub fn reserve(&mut self, n: usize) {
        let held = self.q.len();
        let need = held.saturating_add(n).min(self.len);
        let cap = self.q.capacity();
        if need > cap {
            let want = need.max(cap.saturating_mul(2).min(self.len));
            self.q.reserve_exact(want - held);
        }
    }
    /// Whether an older `old` can no longer be the extreme once `new` is in the window.
    #[inline(always)]
    fn dominated(old: f64, new: f64) -> bool {
        if MAX {
            old <= new
        } else {
            old >= new
        }
    }
    /// The extreme of the window ending at this bar (NaN before `len` bars).
    #[inline(always)]
    pub fn step(&mut self, x: f64) -> f64 {
        let i = self.seen;
        // Only bar `i - len` leaves the window at bar `i`.
        if let Some(&(j, _)) = self.q.front() {
            if j + self.len as u64 <= i {
                self.q.pop_front();
            }
        }
        while let Some(&(_, v)) = self.q.back() {
            if Self::dominated(v, x) {
                self.q.pop_back();
            } else {
                break;
            }
        }
        self.q.push_back((i, x));
        self.seen += 1;
        if self.seen >= self.len as u64 {
            self.q.front().map_or(f64::NAN, |e| e.1)
        } else {
            f64::NAN
        }
    }
    pub fn save_fields(&self, e: &mut Enc) {
        e.u64(self.seen);
        e.usize(self.q.len());
        for &(j, v) in &self.q {
            e.u64(j);
            e.f64(v);
        }
    }
    /// # Errors
    /// `InvalidParam` when the entries could not have been left by stepping: too many,
    /// outside the window, out of order, not finite or not strictly monotonic.
    pub fn load_fields(len: usize, d: &mut Dec) -> Result<Self> {
        let bad = |what: &str| Error::param(format!("state: {what}"));
        let seen = d.u64()?;
        let n = d.usize()?;
        if n as u64 > seen || n > len || (seen > 0 && n == 0) {
            return Err(bad("window entries do not fit the bars seen"));
        }
        let mut q = VecDeque::new();
        for _ in 0..n {
            let (j, v) = (d.u64()?, d.f64()?);
            let in_window = j < seen && j.saturating_add(len as u64) >= seen;
            let ordered = q
                .back()
                .is_none_or(|&(pj, pv): &(u64, f64)| pj < j && !Self::dominated(pv, v));
            if !in_window || !ordered || !v.is_finite() {
                return Err(bad("window entry out of range"));
            }
            q.push_back((j, v));
        }
        if q.back().is_some_and(|&(j, _)| j + 1 != seen) {
            return Err(bad("the newest bar is missing from the window"));
        }
        Ok(Extreme { len, seen, q })
    }
}
