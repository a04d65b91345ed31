//! Each series' carried ATC state from a lane group: the bytes [`Atc::to_bytes`] gives
//! after [`Atc::new`] has run over that series alone, written straight from the
//! series' lane (the same fields in the same order as the scalar kernels' `save`).
//!
//! A lane is saved at its own series' last bar: the group cuts its blocks there, so a
//! shorter series is saved before it is masked. What the lanes do not keep (no lane
//! kernel reads it) is derived from the series exactly as the scalar kernel made it:
//! the KAMA price window's sum and the KAMA windows' runs of identical values.
use super::lines::{Lines, LINES};
use super::{run, Tail};
use crate::atc::lanes::TYPES;
use crate::atc::layers::{save_params, NCOL};
use crate::atc::params::{AtcParams, KERNEL};
#[cfg(doc)]
use crate::atc::Atc;
use crate::codec::Enc;

/// As [`run_group`](super::run_group), and returns each series' carried ATC state after
/// its own last bar: bytes equal to `Atc::new(p)` updated over that series alone, then
/// `.to_bytes()` (the Lanes path's layout, which is what `Atc::new` and the sinks use).
/// A series of no bars gets a fresh ATC's state.
///
/// # Panics
/// As [`run_group`](super::run_group).
pub fn run_group_with_states(
    p: &AtcParams,
    xs: &[&[f64]],
    out: &mut [&mut [&mut [f64]; NCOL]],
) -> Vec<Vec<u8>> {
    let mut states = vec![Vec::new(); xs.len()];
    run(p, xs, out, Some(&mut states));
    states
}

/// Lane `l`'s state after the last bar of its series `x` (the group has run exactly
/// `x.len()` bars), as [`Atc::to_bytes`] writes it.
pub(super) fn save(p: &AtcParams, lines: &Lines, tail: &Tail, l: usize, x: &[f64]) -> Vec<u8> {
    let n = x.len() as u64;
    let mut e = Enc::new(KERNEL);
    save_params(p, &mut e);
    e.u64(n);
    // `Roc`: its bar count and previous price (0 before the first bar).
    e.u64(n);
    e.f64(x.last().copied().unwrap_or(0.0));
    lines.save_lane(l, x, &mut e);
    // `Fused` (type-major, as the lanes hold it).
    e.f64(tail.px[l]);
    for v in [&tail.pm, &tail.sig, &tail.eq] {
        e.usize(LINES);
        v.iter().for_each(|v| e.f64(v[l]));
    }
    // `Layer2`: per type its bar count, previous signal and equity.
    for t in 0..TYPES {
        e.u64(n);
        e.f64(tail.prev_g[t][l]);
        e.f64(tail.e2[t][l]);
    }
    e.f64(tail.prev_avg[l]);
    e.f64(tail.last_event[l]);
    e.bytes
}

/// The sum the scalar `SumWindow` of `len` holds after taking each value of `x`: summed
/// whole (oldest first) at its last wrap, then one add per value after it (while it
/// grows the values it replaces are its zero slots).
pub(super) fn window_sum(x: &[f64], len: usize) -> f64 {
    let wrap = x.len() / len * len;
    let mut sum = if wrap == 0 {
        0.0
    } else {
        x[wrap - len..wrap].iter().sum()
    };
    for k in wrap..x.len() {
        let old = if k >= len { x[k - len] } else { 0.0 };
        sum += x[k] - old;
    }
    sum
}

/// The scalar windows' run state after taking `v`: how many values in a row, ending at
/// the newest, are equal (`==`), and the newest (0 and NaN before any value).
pub(super) fn run_of(v: impl DoubleEndedIterator<Item = f64>) -> (u64, f64) {
    let mut v = v.rev();
    let Some(last) = v.next() else {
        return (0, f64::NAN);
    };
    let mut newer = last;
    let mut run = 1;
    for old in v {
        if old != newer {
            break;
        }
        (run, newer) = (run + 1, old);
    }
    (run, last)
}
