//! The ATC of several symbols at once: [`W`] symbols of the same parameters run as one
//! lane group, every line ([`lines`]), trend state, Layer-1 equity, Layer 1, Layer 2,
//! `Average_Signal` and event held as `[f64; W]` (structure of arrays) and stepped with
//! exactly the scalar kernel's operations in the same order per lane, so each lane
//! equals [`Atc`] over that symbol alone bit for bit (`tests/atc_symbols.rs`).
//!
//! Symbols of different lengths: the group runs until its longest symbol ends; a symbol
//! that has ended is fed its last price again (masked: its outputs go nowhere), which
//! changes no other lane. A lane group only takes symbols whose prices are at most
//! [`LANE_MAX`]: there no window sum can overflow, so no line turns NaN after its
//! warm-up and every branch of the kernels goes the same way in every lane. A symbol
//! with a larger price runs alone on the six-type path ([`Atc`]).
//!
//! [`run_group_with_states`] also returns each symbol's carried state at its own last
//! bar, the bytes [`Atc::to_bytes`] gives for it alone (`tests/atc_symbols_state.rs`).
pub mod lines;
mod state;
pub mod window;

use super::fused::Phase;
use super::lanes::{round2, LENS, TYPES};
use super::layers::{Atc, NCOL};
use super::params::AtcParams;
use crate::Result;
use lines::{Lines, LINES};
pub use state::run_group_with_states;
pub use window::W;
use window::{lanes, NAN, V};

/// The largest price a lane group takes: windows of up to `MAX_LENGTH` (1e6) values sum
/// to at most about 1e12 times their largest value (weighted), far below `f64::MAX`.
pub const LANE_MAX: f64 = 1e250;

/// Bars per sweep: the block's lines (`BLOCK * 54` lanes of 32 bytes) stay in L2.
const BLOCK: usize = 64;
const FLOOR: f64 = 0.25;
const AVG: usize = 0;
const SIG: usize = 1;
const S: usize = 7;
const EVENT: usize = 13;

/// Whether `x` can run in a lane group: every price > 0 and at most [`LANE_MAX`] (so
/// finite: NaN fails both comparisons). Branch-free, one pass.
pub fn lane_safe(x: &[f64]) -> bool {
    x.iter().fold(true, |a, &v| a & (v > 0.0) & (v <= LANE_MAX))
}

/// The per-bar state after the lines: Layer-1 trends and equities of the 54 lines,
/// the six Layer-2 equities, the average and the event, per lane.
struct Tail {
    px: V,
    /// Lines at the previous bar, trend state and equity per line (type-major).
    pm: [V; LINES],
    sig: [V; LINES],
    eq: [V; LINES],
    /// Layer 2: previous signal and equity per type.
    prev_g: [V; TYPES],
    e2: [V; TYPES],
    prev_avg: V,
    last_event: V,
    /// ROC: the previous price.
    prev_x: V,
}

impl Tail {
    fn new() -> Self {
        Tail {
            px: NAN,
            pm: [NAN; LINES],
            sig: [[0.0; W]; LINES],
            eq: [NAN; LINES],
            prev_g: [NAN; TYPES],
            e2: [NAN; TYPES],
            prev_avg: NAN,
            last_event: [0.0; W],
            prev_x: NAN,
        }
    }
}

/// Runs the ATC over `xs` (1 to [`W`] whole series, prices finite, > 0 and at most
/// [`LANE_MAX`], as [`lane_safe`] checks): `out[s][c]` receives column `c` of series `s`,
/// one value per bar.
///
/// # Panics
/// When `xs` is empty or longer than [`W`], or an output column's length is not its
/// series' (callers pass whole series they have checked).
pub fn run_group(p: &AtcParams, xs: &[&[f64]], out: &mut [&mut [&mut [f64]; NCOL]]) {
    run(p, xs, out, None);
}

/// [`run_group`]; with `states`, `states[s]` receives series `s`'s carried state after
/// its last bar (blocks are then cut where a series ends, so each lane is saved there).
fn run(
    p: &AtcParams,
    xs: &[&[f64]],
    out: &mut [&mut [&mut [f64]; NCOL]],
    mut states: Option<&mut [Vec<u8>]>,
) {
    assert!((1..=W).contains(&xs.len()) && out.len() == xs.len());
    let bars = xs.iter().map(|x| x.len()).max().unwrap_or(0);
    // Unused lanes run a copy of the first series.
    let x: [&[f64]; W] = std::array::from_fn(|l| xs.get(l).copied().unwrap_or(xs[0]));
    let mut lines = Lines::new(p, bars);
    let mut tail = Tail::new();
    let la = p.lambda / 1000.0;
    let cutout = p.cutout as u64;
    let keep = 1.0 - p.decay / 100.0;
    let (mut xb, mut rr, mut m, mut ob) = (
        vec![[0.0; W]; BLOCK],
        vec![[0.0; W]; BLOCK],
        vec![[0.0; W]; BLOCK * LINES],
        vec![[0.0; W]; NCOL * BLOCK],
    );
    let mut lo = 0;
    let cut = states.is_some();
    // Saves the state of each series that ends at bar `at` (`x.len() == at`).
    let mut save = |at: usize, lines: &Lines, tail: &Tail| {
        if let Some(st) = states.as_deref_mut() {
            for (s, x) in xs.iter().enumerate() {
                if x.len() == at {
                    st[s] = state::save(p, lines, tail, s, x);
                }
            }
        }
    };
    save(0, &lines, &tail);
    while lo < bars {
        let mut hi = (lo + BLOCK).min(bars);
        if cut {
            // The block ends where the first series still running ends.
            hi = xs
                .iter()
                .map(|x| x.len())
                .filter(|&n| n > lo)
                .fold(hi, usize::min);
        }
        let nb = hi - lo;
        for (j, v) in xb[..nb].iter_mut().enumerate() {
            // A series that has ended repeats its last price (1.0 when it has none).
            *v = lanes(|l| {
                let s = x[l];
                s.get(lo + j).or(s.last()).copied().unwrap_or(1.0)
            });
        }
        for (j, r) in rr[..nb].iter_mut().enumerate() {
            // As `Roc::step` then `Equity::scaled_return` per lane (one `exp` per bar).
            let i = (lo + j) as u64;
            let v = xb[j];
            let roc = if i == 0 {
                NAN
            } else {
                lanes(|l| (v[l] - tail.prev_x[l]) / tail.prev_x[l])
            };
            tail.prev_x = v;
            *r = if i > cutout {
                let g = (la * (i - cutout) as f64).exp();
                lanes(|l| roc[l] * g)
            } else {
                roc
            };
        }
        lines.run(&xb[..nb], &mut m[..nb * LINES]);
        let first_prev = tail.pm;
        for j in 0..nb {
            let i = (lo + j) as u64;
            let phase = match i.cmp(&cutout) {
                std::cmp::Ordering::Less => Phase::Before,
                std::cmp::Ordering::Equal => Phase::At,
                std::cmp::Ordering::Greater => Phase::After,
            };
            let now: &[V; LINES] = m[j * LINES..(j + 1) * LINES].try_into().expect("54");
            // By reference: a copy of 54 lanes per bar costs as much as a line.
            let prev: &[V; LINES] = if j == 0 {
                &first_prev
            } else {
                m[(j - 1) * LINES..j * LINES].try_into().expect("54")
            };
            tail.bar(p, now, prev, xb[j], rr[j], keep, phase, &mut ob[j..]);
        }
        tail.pm = m[(nb - 1) * LINES..nb * LINES].try_into().expect("54");
        save(hi, &lines, &tail);
        // Each series' bars of the block, column by column (a masked lane's go nowhere).
        for (s, cols) in out.iter_mut().enumerate() {
            let end = hi.min(cols[0].len());
            for (c, col) in cols.iter_mut().enumerate() {
                let from = &ob[c * BLOCK..(c + 1) * BLOCK];
                for (d, o) in col
                    .get_mut(lo..end)
                    .unwrap_or_default()
                    .iter_mut()
                    .zip(from)
                {
                    *d = o[s];
                }
            }
        }
        lo = hi;
    }
}

impl Tail {
    /// One bar after the lines: `m` the 54 lines now, `pm` at the previous bar; output
    /// column `c` goes to `out[c * BLOCK]` (the block's outputs column-major, so copying
    /// them out reads each column's bars in order).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn bar(
        &mut self,
        p: &AtcParams,
        m: &[V; LINES],
        pm: &[V; LINES],
        x: V,
        rr: V,
        keep: f64,
        phase: Phase,
        out: &mut [V],
    ) {
        // Per line as `Fused::bar` (the equity follows the state before this bar's update),
        // and Layer 1 summed in length order, in one pass over each type's 9 lines.
        let r = lanes(|l| if rr[l].is_nan() { 0.0 } else { rr[l] });
        let px = self.px;
        self.px = x;
        let (mut nu, mut de) = ([0.0; W], [0.0; W]);
        for t in 0..TYPES {
            let (mut num, mut den) = ([0.0; W], [0.0; W]);
            for k in t * LENS..(t + 1) * LENS {
                let (old, e0) = (self.sig[k], self.eq[k]);
                let e = match phase {
                    Phase::After => lanes(|l| {
                        let neg = if old[l] < 0.0 { -r[l] } else { 0.0 };
                        let a = if old[l] > 0.0 { r[l] } else { neg };
                        let grown = e0[l] * keep * (1.0 + a);
                        if grown > FLOOR {
                            grown
                        } else {
                            FLOOR
                        }
                    }),
                    Phase::At => [1.0; W],
                    Phase::Before => NAN,
                };
                let (mv, pv) = (m[k], pm[k]);
                let s = lanes(|l| {
                    let up = (x[l] > mv[l]) & (px[l] <= pv[l]);
                    let dn = (x[l] < mv[l]) & (px[l] >= pv[l]);
                    let held = if dn { -1.0 } else { old[l] };
                    if up {
                        1.0
                    } else {
                        held
                    }
                });
                (self.sig[k], self.eq[k]) = (s, e);
                num = lanes(|l| num[l] + s[l] * e[l]);
                den = lanes(|l| den[l] + e[l]);
            }
            let g = lanes(|l| round2(num[l] / den[l]));
            // Layer 2: as `Equity::step_scaled`.
            let start = p.weights[t].max(FLOOR);
            let e2 = &mut self.e2[t];
            let ps = self.prev_g[t];
            *e2 = match phase {
                Phase::Before => NAN,
                Phase::At => [start; W],
                Phase::After => lanes(|l| {
                    let a = if ps[l].is_nan() || ps[l] == 0.0 || rr[l].is_nan() {
                        0.0
                    } else if ps[l] > 0.0 {
                        rr[l]
                    } else {
                        -rr[l]
                    };
                    (e2[l] * keep * (1.0 + a)).max(FLOOR)
                }),
            };
            self.prev_g[t] = g;
            let w = *e2;
            out[(SIG + t) * BLOCK] = g;
            out[(S + t) * BLOCK] = w;
            // `Average_Signal`: the types in order, skipping undefined ones (kept as they
            // were: a select, not an add of 0, which could turn -0 into +0).
            for l in 0..W {
                let ok = !g[l].is_nan() & !w[l].is_nan();
                let dn = if g[l] < -p.cut { -1.0 } else { 0.0 };
                let c = if g[l] > p.cut { 1.0 } else { dn };
                let (n1, d1) = (nu[l] + c * w[l], de[l] + w[l]);
                nu[l] = if ok { n1 } else { nu[l] };
                de[l] = if ok { d1 } else { de[l] };
            }
        }
        let avg = lanes(|l| if de[l] == 0.0 { 0.0 } else { nu[l] / de[l] });
        let (lt, st) = (p.long_threshold, p.short_threshold);
        let prev = self.prev_avg;
        let ev = lanes(|l| {
            if avg[l] > lt && prev[l] <= lt && self.last_event[l] != 1.0 {
                1.0
            } else if avg[l] < st && prev[l] >= st && self.last_event[l] == 1.0 {
                -1.0
            } else {
                0.0
            }
        });
        self.last_event = lanes(|l| {
            if ev[l] != 0.0 {
                ev[l]
            } else {
                self.last_event[l]
            }
        });
        self.prev_avg = avg;
        out[AVG * BLOCK] = avg;
        out[EVENT * BLOCK] = ev;
    }
}

/// The ATC over `x` alone on the six-type path (a symbol a lane group does not take).
///
/// # Errors
/// As [`Atc::update`].
pub fn run_alone(p: &AtcParams, x: &[f64], out: &mut [&mut [f64]; NCOL]) -> Result<()> {
    Atc::new(p)?.update(x, out)
}
