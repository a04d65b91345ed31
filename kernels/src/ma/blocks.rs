//! Whole ring laps of a full [`super::window::WeightedWindow`] run side by side.
//!
//! After a wrap the sums are recomputed from the window alone, so the `len` bars that
//! end at the next wrap (a "lap") depend on nothing but the previous lap's values and
//! the sums at its wrap. The laps of a chunk are therefore independent chains of adds:
//! stepping them one after another waits on each add's latency (two chains of one add
//! per bar, plus the recomputation's chain of `len` adds per lap), while eight laps run
//! side by side keep the adder busy. Each lap sees exactly the operations, in the same
//! order, that `WeightedWindow::push` gives it, so the result is the same bit for bit
//! (`kernels/tests/window_fast.rs`).

/// Laps side by side (eight measured 5% faster than four in criterion, 1M bars, length 28).
const L: usize = 8;

/// Runs the laps of `xs` (a multiple of `len` bars, the first pushed right after a wrap):
/// `prev` is the window at that wrap (oldest first) and `(sum, wsum)` its sums; each bar's
/// output is `value(sum, wsum)` after its push, as `push_unflat` writes it. Returns the
/// sums after the last lap's wrap (its window is the last `len` values of `xs`).
#[inline(always)]
pub(super) fn weighted_laps(
    prev: &[f64],
    xs: &[f64],
    sums: (f64, f64),
    out: &mut [f64],
    value: impl Fn(f64, f64) -> f64,
) -> (f64, f64) {
    let len = prev.len();
    debug_assert!(len > 0 && xs.len().is_multiple_of(len) && out.len() == xs.len());
    let laps = xs.len() / len;
    let mut at = sums;
    let mut j = 0;
    while j + L <= laps {
        at = group::<L>(prev, xs, j, at, out, &value);
        j += L;
    }
    while j < laps {
        at = group::<1>(prev, xs, j, at, out, &value);
        j += 1;
    }
    at
}

/// Laps `j..j+K` of `xs`: their wrap sums first (each as `weighted_sums`), then their bars
/// from the previous lap's wrap sums, lap by lap in lanes.
#[inline(always)]
fn group<const K: usize>(
    prev: &[f64],
    xs: &[f64],
    j: usize,
    before: (f64, f64),
    out: &mut [f64],
    value: &impl Fn(f64, f64) -> f64,
) -> (f64, f64) {
    let len = prev.len();
    let n = len as f64;
    let lap = |l: usize| lap_of(xs, len, j + l);
    // The sums of each lap's window, oldest first: `s += v; w += (k+1)*v`.
    let (mut ws, mut ww) = ([0.0f64; K], [0.0f64; K]);
    for t in 0..len {
        let k1 = (t + 1) as f64;
        for l in 0..K {
            let v = lap(l)[t];
            ws[l] += v;
            ww[l] += k1 * v;
        }
    }
    // Each lap starts from the sums at the wrap before it.
    let (mut s, mut w) = ([0.0f64; K], [0.0f64; K]);
    (s[0], w[0]) = before;
    for l in 1..K {
        (s[l], w[l]) = (ws[l - 1], ww[l - 1]);
    }
    let olds: [&[f64]; K] = std::array::from_fn(|l| match j + l {
        0 => prev,
        i => lap_of(xs, len, i - 1),
    });
    let news: [&[f64]; K] = std::array::from_fn(lap);
    for t in 0..len - 1 {
        for l in 0..K {
            let (v, old) = (news[l][t], olds[l][t]);
            w[l] += n * v - s[l];
            s[l] += v - old;
            out[(j + l) * len + t] = value(s[l], w[l]);
        }
    }
    for l in 0..K {
        out[(j + l) * len + len - 1] = value(ws[l], ww[l]);
    }
    (ws[K - 1], ww[K - 1])
}

#[inline(always)]
fn lap_of(xs: &[f64], len: usize, i: usize) -> &[f64] {
    &xs[i * len..(i + 1) * len]
}
