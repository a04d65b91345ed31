//! The ATC's per-bar tail with the six types in vector lanes.
//!
//! In the scalar path each type's Layer 1 sums nine products one after another,
//! then its Layer 2 equity steps, type by type. The six types are independent, so
//! here the 54 lines sit length-major (`line(t, k)` at `k*6 + t`, see [`Layout`])
//! and every step runs over `[f64; 6]` arrays: the same operations in the same
//! order per type (lane) as the scalar path, which LLVM vectorises (AVX2 with the
//! addon's `target-cpu=native`). No fused multiply-add and no reassociation, so
//! each lane equals the scalar kernel bit for bit (`tests/atc_lanes.rs`).
use super::fused::Phase;
use crate::codec::{Dec, Enc};
use crate::Result;

/// Types in lanes.
pub const TYPES: usize = 6;
/// Lengths per type.
pub const LENS: usize = 9;
const FLOOR: f64 = 0.25;

/// Where line `k` (its length's index) of type `t` sits in a row of 54 lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `t*9 + k`: the scalar path (each type's lines side by side).
    TypeMajor,
    /// `k*6 + t`: the lane path (the six types of one length side by side).
    LengthMajor,
}

impl Layout {
    #[inline(always)]
    pub fn at(self, t: usize, k: usize) -> usize {
        self.base(t) + k * self.step()
    }
    /// Line 0 of type `t`.
    #[inline(always)]
    pub fn base(self, t: usize) -> usize {
        match self {
            Layout::TypeMajor => t * LENS,
            Layout::LengthMajor => t,
        }
    }
    /// From one length's line to the next of the same type.
    #[inline(always)]
    pub fn step(self) -> usize {
        match self {
            Layout::TypeMajor => 1,
            Layout::LengthMajor => TYPES,
        }
    }
}

/// [`super::layers::round2`] per lane. `floor` equals the scalar path's truncation
/// for every `t` it truncates (0.5 <= t < 4e15) and is what it takes otherwise
/// (NaN, large, infinite), so the results agree; `floor` vectorises (`vroundpd`).
#[inline(always)]
pub(crate) fn round2(v: f64) -> f64 {
    let r = ((v * 100.0).abs() + 0.5).floor() / 100.0;
    if v < 0.0 {
        -r
    } else {
        r
    }
}

/// Layer 1 of every type at one bar: `round2(sum_k s*e / sum_k e)`, summed in
/// length order as the scalar path does; `s` and `e` length-major.
#[inline(always)]
pub fn layer1(s: &[f64; TYPES * LENS], e: &[f64; TYPES * LENS]) -> [f64; TYPES] {
    let (mut num, mut den) = ([0.0; TYPES], [0.0; TYPES]);
    for k in 0..LENS {
        let s: &[f64; TYPES] = s[k * TYPES..(k + 1) * TYPES].try_into().expect("6");
        let e: &[f64; TYPES] = e[k * TYPES..(k + 1) * TYPES].try_into().expect("6");
        for t in 0..TYPES {
            num[t] += s[t] * e[t];
            den[t] += e[t];
        }
    }
    let mut g = [0.0; TYPES];
    for t in 0..TYPES {
        g[t] = round2(num[t] / den[t]);
    }
    g
}

/// The six Layer-2 equities ([`Equity::step_scaled`](super::Equity::step_scaled) per type) stepped together.
/// All six start together, so one bar count serves them; saved per type as
/// [`Equity::save_fields`](super::Equity::save_fields) writes it, so states cross between the paths.
#[derive(Clone, Debug)]
pub struct Layer2 {
    start: [f64; TYPES],
    keep: f64,
    prev_s: [f64; TYPES],
    e: [f64; TYPES],
}

impl Layer2 {
    /// `weights` the six starts; `decay` in user units (checked by the caller).
    pub fn new(weights: &[f64; TYPES], decay: f64) -> Self {
        Layer2 {
            start: *weights,
            keep: 1.0 - decay / 100.0,
            prev_s: [f64::NAN; TYPES],
            e: [f64::NAN; TYPES],
        }
    }

    /// Steps every type with its signal `g` and the bar's scaled return `rr`;
    /// returns the six equities.
    #[inline(always)]
    pub fn step(&mut self, g: &[f64; TYPES], rr: f64, phase: Phase) -> [f64; TYPES] {
        match phase {
            Phase::Before => self.e = [f64::NAN; TYPES],
            Phase::At => {
                for t in 0..TYPES {
                    self.e[t] = self.start[t].max(FLOOR);
                }
            }
            Phase::After => {
                let r_nan = rr.is_nan();
                for t in 0..TYPES {
                    let ps = self.prev_s[t];
                    let a = if ps.is_nan() || ps == 0.0 || r_nan {
                        0.0
                    } else if ps > 0.0 {
                        rr
                    } else {
                        -rr
                    };
                    self.e[t] = (self.e[t] * self.keep * (1.0 + a)).max(FLOOR);
                }
            }
        }
        self.prev_s = *g;
        self.e
    }

    /// Type `t`'s equity as [`Equity::save_fields`](super::Equity::save_fields) saves it after `n` bars.
    pub fn save(&self, n: u64, e: &mut Enc) {
        for t in 0..TYPES {
            e.u64(n);
            e.f64(self.prev_s[t]);
            e.f64(self.e[t]);
        }
    }

    /// Reads six equities saved by [`Layer2::save`] or the scalar path's
    /// [`Equity::save_fields`](super::Equity::save_fields) (bar count, previous signal, equity).
    ///
    /// # Errors
    /// `InvalidParam` when the bytes are not such a state or a type's bar count
    /// is not `n`.
    pub fn load(&mut self, n: u64, d: &mut Dec) -> Result<()> {
        for t in 0..TYPES {
            if d.u64()? != n {
                return Err(crate::Error::param(
                    "state: an ATC equity's bar count differs from the ATC's",
                ));
            }
            self.prev_s[t] = d.f64()?;
            self.e[t] = d.f64()?;
        }
        Ok(())
    }
}
