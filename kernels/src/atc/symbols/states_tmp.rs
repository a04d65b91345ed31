//! Temporary: replaced by S1's `run_group_with_states` in `atc::symbols` at merge. Until
//! then the pipeline's lane sinks (`pipeline::lanes`) include this file by path.
use crate::atc::symbols::run_group;
use crate::atc::{Atc, AtcParams, NCOL};

/// As [`run_group`], and returns each series' carried ATC state after its own last bar:
/// bytes equal to `Atc::new(p)` updated over that series alone, then `.to_bytes()`.
///
/// Temporary: replaced by S1's. This one runs each series a second time through the
/// scalar kernel for its bytes (slower than no lanes at all; correct, for the tests).
///
/// # Panics
/// As [`run_group`]; when a series is refused by [`Atc::update`] (callers pass series
/// [`crate::atc::symbols::lane_safe`] and checked finite and > 0).
pub fn run_group_with_states(
    p: &AtcParams,
    xs: &[&[f64]],
    out: &mut [&mut [&mut [f64]; NCOL]],
) -> Vec<Vec<u8>> {
    run_group(p, xs, out);
    xs.iter()
        .map(|x| {
            let mut cols = vec![vec![0.0; x.len()]; NCOL];
            let mut it = cols.iter_mut().map(|c| c.as_mut_slice());
            let mut refs: [&mut [f64]; NCOL] = std::array::from_fn(|_| it.next().expect("14"));
            let mut atc = Atc::new(p).expect("parameters checked by the caller");
            atc.update(x, &mut refs)
                .expect("prices checked by the caller");
            atc.to_bytes()
        })
        .collect()
}
