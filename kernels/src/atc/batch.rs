//! Many symbols in one call: symbol `i` is `closes[offsets[i]..offsets[i+1]]`,
//! each output column aligned with `closes`; symbols spread over rayon's pool.
use super::layers::{Atc, Path, NCOL};
use super::params::AtcParams;
use crate::{Error, Result};
use rayon::prelude::*;

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
    atc_batch_on(closes, offsets, p, Path::Lanes, out)
}

/// [`atc_batch`] with every symbol on `path`.
///
/// # Errors
/// As [`atc_batch`].
pub fn atc_batch_on(
    closes: &[f64],
    offsets: &[i32],
    p: &AtcParams,
    path: Path,
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
    cols.par_chunks_mut(NCOL)
        .enumerate()
        .try_for_each(|(s, cols)| {
            let (lo, hi) = (offsets[s] as usize, offsets[s + 1] as usize);
            let cols: &mut [&mut [f64]; NCOL] = cols.try_into().expect("14 columns");
            let mut atc = Atc::with_path(p, path)?;
            atc.update(&closes[lo..hi], cols)
                .map_err(|e| Error::new(e.code, format!("symbol {s}: {}", e.message)))
        })
}
