//! The fast path of the window kernels over a chunk, equal bit for bit to stepping it.
//!
//! Stepping a window ([`SumWindow::push`], [`WeightedWindow::push`]) asks two questions
//! every bar: did the ring wrap (then the sums are recomputed from the window), and is the
//! window flat (then the kernel returns the direct formula's value, see [`super::window`])?
//! Both answers are known ahead for a whole stretch: wraps fall every `len` bars from the
//! ring's position, and a flat window needs `len` identical values in a row. So a chunk is
//! cut at the bars whose window is flat ([`next_flat`], about one comparison per `len`
//! bars on prices that move); the stretches between them run a loop with no per-bar
//! check, split where the ring wraps (`push_unflat`), and the flat bars (and the warm-up
//! before the window is full) are stepped one by one. `kernels/tests/window_fast.rs`
//! checks this against stepping on random series.
use super::window::{SumWindow, WeightedWindow};

/// What the driver needs of a window.
pub(super) trait Window {
    fn full(&self) -> bool;
    fn length(&self) -> usize;
    fn run_state(&self) -> (u64, f64);
    fn set_run_state(&mut self, run: u64, last: f64);
}

macro_rules! window {
    ($ty:ident) => {
        impl Window for $ty {
            #[inline]
            fn full(&self) -> bool {
                $ty::full(self)
            }
            #[inline]
            fn length(&self) -> usize {
                $ty::length(self)
            }
            #[inline]
            fn run_state(&self) -> (u64, f64) {
                $ty::run_state(self)
            }
            fn set_run_state(&mut self, run: u64, last: f64) {
                $ty::set_run_state(self, run, last)
            }
        }
    };
}
window!(SumWindow);
window!(WeightedWindow);

/// The first bar `i >= from` of `x` whose window of `len` values is flat (all `==`, as
/// `push` compares them), or `x.len()`. `start` is where the run of identical values
/// holding `x[from-1]` began (negative: in an earlier chunk; `prev` is `x[-1]`). Only the
/// bars where a window could first turn flat are compared, back to the last change.
#[inline]
pub(super) fn next_flat(x: &[f64], prev: f64, len: usize, mut start: i64, from: usize) -> usize {
    let n = x.len() as i64;
    let at = |j: i64| if j < 0 { prev } else { x[j as usize] };
    loop {
        // The window ending at `c` holds `start`; it is flat unless the values change after it.
        let c = (start + len as i64 - 1).max(from as i64);
        if c >= n {
            return x.len();
        }
        let lo = (start + 1).max(from as i64);
        let mut j = c;
        while j >= lo && x[j as usize] == at(j - 1) {
            j -= 1;
        }
        if j < lo {
            return c as usize;
        }
        start = j;
    }
}

/// Runs a window kernel over `x` into `out`: `step` is its exact per-bar step, `fast`
/// its `push_unflat` over a stretch where no window is flat (see the module).
#[inline(always)]
pub(super) fn drive<W: Window, K>(
    k: &mut K,
    win: impl Fn(&mut K) -> &mut W,
    x: &[f64],
    out: &mut [f64],
    mut step: impl FnMut(&mut K, f64) -> f64,
    mut fast: impl FnMut(&mut K, &[f64], &mut [f64]),
) {
    let n = x.len();
    let mut i = 0;
    while i < n && !win(k).full() {
        out[i] = step(k, x[i]);
        i += 1;
    }
    while i < n {
        let (run, last) = win(k).run_state();
        // The run holding x[i-1] began `run` bars back (none seen yet: x[i] starts one).
        let start = i as i64 - run.max(1) as i64 + (run == 0) as i64;
        let f = next_flat(x, last, win(k).length(), start, i);
        if f > i {
            fast(k, &x[i..f], &mut out[i..f]);
            // The run holding x[f-1] (shorter than `len`: no window was flat): back to the
            // last change, or on into the run carried to x[i-1].
            let mut j = f - 1;
            while j > i && x[j] == x[j - 1] {
                j -= 1;
            }
            let prev = if i == 0 { last } else { x[i - 1] };
            let began = if j == i && x[i] == prev {
                start
            } else {
                j as i64
            };
            win(k).set_run_state((f as i64 - began) as u64, x[f - 1]);
            i = f;
        }
        if i < n {
            out[i] = step(k, x[i]);
            i += 1;
        }
    }
}
