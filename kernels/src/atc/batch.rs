//! Many symbols in one call: symbol `i` is `closes[offsets[i]..offsets[i+1]]`,
//! each output column aligned with `closes`; symbols spread over rayon's pool, by
//! default [`W`] at a time in lane groups ([`super::symbols`]).
use super::layers::{Atc, Path, NCOL};
use super::params::AtcParams;
use super::symbols::{lane_safe, run_group, W};
use crate::kernel::check_prices;
use crate::{Error, Result};
use rayon::prelude::*;

/// How a batch runs its symbols (every choice gives the same values bit for bit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchPath {
    /// [`W`] symbols at a time in lane groups (the default).
    Symbols,
    /// Each symbol alone on `Path`.
    Each(Path),
}

/// Checks `offsets`: starts at 0, never decreases, ends at `n`.
///
/// # Errors
/// `InvalidParam` naming the offending entry.
pub fn check_offsets(offsets: &[i32], n: usize) -> Result<()> {
    if offsets.first() != Some(&0) {
        return Err(Error::param("atcBatch: offsets must start with 0"));
    }
    for (i, w) in offsets.windows(2).enumerate() {
        if w[1] < w[0] {
            return Err(Error::param(format!(
                "atcBatch: offsets[{}] = {} is below offsets[{i}] = {}",
                i + 1,
                w[1],
                w[0]
            )));
        }
    }
    let last = *offsets.last().expect("non-empty");
    if last as usize != n {
        return Err(Error::param(format!(
            "atcBatch: the last offset must be closes.length ({n}), got {last}"
        )));
    }
    Ok(())
}

/// Runs the ATC over every symbol; `out` holds [`NCOL`] columns of `closes.len()`
/// values each, one after the other.
///
/// # Errors
/// `InvalidParam` for bad parameters or offsets; `BadInput` naming the symbol and
/// the bar of the first bad price found.
pub fn atc_batch(closes: &[f64], offsets: &[i32], p: &AtcParams, out: &mut [f64]) -> Result<()> {
    atc_batch_on(closes, offsets, p, BatchPath::Symbols, out)
}

/// [`atc_batch`] with every symbol on `path`.
///
/// # Errors
/// As [`atc_batch`].
pub fn atc_batch_on(
    closes: &[f64],
    offsets: &[i32],
    p: &AtcParams,
    path: BatchPath,
    out: &mut [f64],
) -> Result<()> {
    let n = closes.len();
    check_offsets(offsets, n)?;
    p.validate()?;
    if n.checked_mul(NCOL) != Some(out.len()) {
        return Err(Error::param(format!(
            "atcBatch: out has {} values, want {}",
            out.len(),
            n.saturating_mul(NCOL)
        )));
    }
    if n == 0 {
        return Ok(());
    }
    // Per symbol, its slice of each of the 14 columns: `cols[s*NCOL + c]`, in one vector
    // whose size comes from the caller's offsets, so it is reserved fallibly.
    let symbols = offsets.len() - 1;
    let mut cols: Vec<&mut [f64]> = Vec::new();
    symbols
        .checked_mul(NCOL)
        .and_then(|total| cols.try_reserve_exact(total).ok())
        .ok_or_else(|| {
            Error::param(format!(
                "atcBatch: {symbols} symbols are too many for memory"
            ))
        })?;
    cols.resize_with(symbols * NCOL, Default::default);
    for (c, col) in out.chunks_mut(n).enumerate() {
        let mut rest = col;
        for (s, w) in offsets.windows(2).enumerate() {
            let (mine, tail) = rest.split_at_mut((w[1] - w[0]) as usize);
            cols[s * NCOL + c] = mine;
            rest = tail;
        }
    }
    let sym = |s: usize| &closes[offsets[s] as usize..offsets[s + 1] as usize];
    let named = |s: usize, e: Error| Error::new(e.code, format!("symbol {s}: {}", e.message));
    // Groups of symbols run together; a group of one runs alone on `path`.
    let (groups, path) = match path {
        BatchPath::Each(path) => ((0..symbols).map(|s| vec![s]).collect(), path),
        BatchPath::Symbols => {
            // Bad prices first: the first bad symbol in order is the one named.
            for s in 0..symbols {
                check_prices(sym(s), 0, true).map_err(|e| named(s, e))?;
            }
            let groups = lane_groups(symbols, |s| sym(s).len(), |s| lane_safe(sym(s)));
            (groups, Path::Lanes)
        }
    };
    let mut per: Vec<Option<&mut [&mut [f64]]>> = cols.chunks_mut(NCOL).map(Some).collect();
    let tasks: Vec<Vec<_>> = groups
        .iter()
        .map(|g| {
            g.iter()
                .map(|&s| (s, per[s].take().expect("each symbol once")))
                .collect()
        })
        .collect();
    tasks.into_par_iter().try_for_each(|mut task| {
        if task.len() == 1 {
            let (s, cols) = task.pop().expect("one");
            let cols: &mut [&mut [f64]; NCOL] = cols.try_into().expect("14 columns");
            return Atc::with_path(p, path)?
                .update(sym(s), cols)
                .map_err(|e| named(s, e));
        }
        let xs: Vec<&[f64]> = task.iter().map(|(s, _)| sym(*s)).collect();
        let mut outs: Vec<&mut [&mut [f64]; NCOL]> = task
            .iter_mut()
            .map(|(_, c)| <&mut [&mut [f64]; NCOL]>::try_from(&mut **c).expect("14"))
            .collect();
        run_group(p, &xs, &mut outs);
        Ok(())
    })
}

/// Symbols `0..n` in lane groups of at most [`W`]: those `safe` for lanes, longest first
/// (so a group's symbols end close together), then each other symbol alone.
fn lane_groups(
    n: usize,
    len: impl Fn(usize) -> usize,
    safe: impl Fn(usize) -> bool,
) -> Vec<Vec<usize>> {
    let (mut lanes, alone): (Vec<usize>, Vec<usize>) = (0..n).partition(|&s| len(s) > 0 && safe(s));
    lanes.sort_by_key(|&s| std::cmp::Reverse(len(s)));
    let mut groups: Vec<Vec<usize>> = lanes.chunks(W).map(|g| g.to_vec()).collect();
    groups.extend(alone.into_iter().map(|s| vec![s]));
    groups
}
