//! Trend state, equity and Layer-1 sums of the 54 ATC lines, one bar at a time.
//!
//! The same arithmetic as [`Trend::step`](super::Trend::step) followed by
//! [`Equity::step_scaled`](super::Equity::step_scaled) with start 1, written
//! branch-free over plain arrays so the 54 independent recurrences overlap.
//! The equity reads the previous signal, which is the trend state before this
//! bar's update, so no separate copy is kept. `tests/atc_reference.rs` checks
//! the ATC built on this against the scalar kernels bit for bit.
use super::lanes::{Layout, LENS, TYPES};
use crate::codec::{Dec, Enc};
use crate::Result;

pub const LINES: usize = 54;
const FLOOR: f64 = 0.25;

#[derive(Clone, Debug)]
pub struct Fused {
    /// Where each line sits in the arrays (saved type-major either way).
    layout: Layout,
    /// Previous price (shared by every line).
    px: f64,
    /// Previous line value, trend state and equity per line.
    pm: [f64; LINES],
    sig: [f64; LINES],
    eq: [f64; LINES],
}

impl Fused {
    pub fn new(layout: Layout) -> Self {
        Fused {
            layout,
            px: f64::NAN,
            pm: [f64::NAN; LINES],
            sig: [0.0; LINES],
            eq: [f64::NAN; LINES],
        }
    }
}

/// Where bar `i` stands against the cutout.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Before,
    At,
    After,
}

/// One bar's inputs shared by every line.
#[derive(Clone, Copy)]
pub struct Bar {
    /// The price.
    pub x: f64,
    /// The scaled return `R*exp(la*(i-cutout))`.
    pub rr: f64,
    /// `1 - de`.
    pub keep: f64,
    pub phase: Phase,
}

impl Fused {
    /// Steps the 54 lines at one bar: `m[l]` is line `l`'s value now, `pm[l]` its
    /// value at the previous bar (see [`Fused::prev_lines`]); each line's new state
    /// and equity are then in [`Fused::sig`] and [`Fused::eq`] (updated in place).
    #[inline(always)]
    pub fn bar(&mut self, b: Bar, m: &[f64], pm: &[f64]) {
        let Bar { x, rr, keep, phase } = b;
        // `a` is 0 when the return is NaN; `1 + -0.0` equals `1 + 0.0`, so using 0 for NaN is exact.
        let r = if rr.is_nan() { 0.0 } else { rr };
        let px = self.px;
        let m: &[f64; LINES] = m[..LINES].try_into().expect("54 lines");
        let pm: &[f64; LINES] = pm[..LINES].try_into().expect("54 lines");
        // The equity follows the state before this bar's update.
        match phase {
            Phase::After => {
                for (e, &old) in self.eq.iter_mut().zip(&self.sig) {
                    let neg = if old < 0.0 { -r } else { 0.0 };
                    let a = if old > 0.0 { r } else { neg };
                    let grown = *e * keep * (1.0 + a);
                    *e = if grown > FLOOR { grown } else { FLOOR };
                }
            }
            Phase::At => self.eq.fill(1.0),
            Phase::Before => self.eq.fill(f64::NAN),
        }
        for l in 0..LINES {
            let (mv, pm, old) = (m[l], pm[l], self.sig[l]);
            let up = (x > mv) & (px <= pm);
            let dn = (x < mv) & (px >= pm);
            let held = if dn { -1.0 } else { old };
            self.sig[l] = if up { 1.0 } else { held };
        }
        self.px = x;
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The lines' values at the last bar stepped (before the first bar of a block).
    pub fn prev_lines(&self) -> &[f64; LINES] {
        &self.pm
    }

    /// Records the lines' values at the last bar of a block.
    pub fn set_prev_lines(&mut self, m: &[f64]) {
        self.pm.copy_from_slice(&m[..LINES]);
    }

    /// Each line's trend state after the last bar.
    #[inline(always)]
    pub fn sig(&self) -> &[f64; LINES] {
        &self.sig
    }

    /// Each line's equity after the last bar.
    #[inline(always)]
    pub fn eq(&self) -> &[f64; LINES] {
        &self.eq
    }

    /// `v` type-major (the saved order), whatever the layout.
    fn type_major(&self, v: &[f64; LINES]) -> [f64; LINES] {
        let mut o = [0.0; LINES];
        for t in 0..TYPES {
            for k in 0..LENS {
                o[t * LENS + k] = v[self.layout.at(t, k)];
            }
        }
        o
    }

    pub fn save(&self, e: &mut Enc) {
        e.f64(self.px);
        e.f64s(&self.type_major(&self.pm));
        e.f64s(&self.type_major(&self.sig));
        e.f64s(&self.type_major(&self.eq));
    }

    pub fn load(layout: Layout, d: &mut Dec) -> Result<Self> {
        let mut f = Fused::new(layout);
        f.px = d.f64()?;
        for v in [&mut f.pm, &mut f.sig, &mut f.eq] {
            let saved = d.f64s(LINES)?;
            for t in 0..TYPES {
                for k in 0..LENS {
                    v[layout.at(t, k)] = saved[t * LENS + k];
                }
            }
        }
        Ok(f)
    }
}
