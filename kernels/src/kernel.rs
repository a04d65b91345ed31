//! The shape every single-input kernel shares, and the checks at its door.
//!
//! A kernel is its parameters plus carried state. [`Kernel::update`] continues the
//! series with the next chunk; the whole-series call ([`compute`]) is "new state +
//! one update", so chunked and whole runs share one code path and agree bit for bit.
use crate::codec::{Dec, Enc};
use crate::{Error, Result};

pub mod single;

/// A resumable single-input, single-output kernel.
pub trait Kernel: Sized + Clone {
    type Params;
    /// Tag written at the start of the saved state.
    const NAME: &'static str;
    /// Whether inputs must also be > 0 (ROC, ATC).
    const POSITIVE: bool = false;

    /// # Errors
    /// `InvalidParam` naming the parameter when it is out of range.
    fn new(p: &Self::Params) -> Result<Self>;
    /// Index of the first defined (non-NaN) output.
    fn first_defined(p: &Self::Params) -> usize;
    /// Bars consumed so far (the global index of the next bar).
    fn seen(&self) -> u64;
    /// Continues the series without checking the input (callers have checked it).
    fn run(&mut self, x: &[f64], out: &mut [f64]);
    fn save(&self, e: &mut Enc);
    /// # Errors
    /// `InvalidParam` when the bytes were not saved by this kernel with `p`.
    fn load(p: &Self::Params, d: &mut Dec) -> Result<Self>;

    /// Continues the series with `x`, writing one output per input into `out`.
    ///
    /// # Errors
    /// `BadInput` naming the (global) index of a non-finite input (or one <= 0 when
    /// [`Kernel::POSITIVE`]); `InvalidParam` when `out` is not as long as `x`.
    /// On error the state is unchanged; `out` is too, except that a fresh kernel over more
    /// than [`CHECK_BLOCK`] values may have written the outputs of the blocks before the
    /// bad value (see below).
    fn update(&mut self, x: &[f64], out: &mut [f64]) -> Result<()> {
        check_out(x.len(), out.len())?;
        if self.seen() == 0 && x.len() > CHECK_BLOCK {
            // The whole-series call: each block is checked just before it runs, while it is
            // in cache, rather than in a pass of its own over all of `x` (a second trip
            // through memory, a tenth of an EMA's time). A refused value puts back the
            // fresh state, which is cheap to keep: nothing seen, no window grown.
            let fresh = self.clone();
            for (b, (xb, ob)) in x
                .chunks(CHECK_BLOCK)
                .zip(out.chunks_mut(CHECK_BLOCK))
                .enumerate()
            {
                if let Err(e) = check_prices(xb, (b * CHECK_BLOCK) as u64, Self::POSITIVE) {
                    *self = fresh;
                    return Err(e);
                }
                self.run(xb, ob);
            }
            return Ok(());
        }
        check_prices(x, self.seen(), Self::POSITIVE)?;
        self.run(x, out);
        Ok(())
    }

    /// Continues the series with the values in `buf`, replacing each by its output: `x`
    /// and `out` are one buffer. Every kernel is safe in place this way, since it reads
    /// each block of inputs from a copy (on the stack) before writing that block's outputs;
    /// the result is bit for bit that of [`Kernel::update`] (chunks are one pass).
    ///
    /// # Errors
    /// As [`Kernel::update`]; on error the state and `buf` are unchanged.
    fn update_in_place(&mut self, buf: &mut [f64]) -> Result<()> {
        check_prices(buf, self.seen(), Self::POSITIVE)?;
        let mut copy = [0.0; IN_PLACE_BLOCK];
        for chunk in buf.chunks_mut(IN_PLACE_BLOCK) {
            let x = &mut copy[..chunk.len()];
            x.copy_from_slice(chunk);
            self.run(x, chunk);
        }
        Ok(())
    }

    /// The carried state as bytes (tag, parameters, values).
    fn to_bytes(&self) -> Vec<u8> {
        let mut e = Enc::new(Self::NAME);
        self.save(&mut e);
        e.bytes
    }

    /// Restores a state saved by [`Kernel::to_bytes`] with the same parameters.
    ///
    /// # Errors
    /// `InvalidParam` when the bytes are foreign, truncated or saved with other parameters.
    fn from_bytes(p: &Self::Params, bytes: &[u8]) -> Result<Self> {
        let mut d = Dec::new(bytes, Self::NAME)?;
        let k = Self::load(p, &mut d)?;
        d.finish()?;
        Ok(k)
    }
}

/// Values copied per block by [`Kernel::update_in_place`] (32 KiB: stays in L1/L2).
const IN_PLACE_BLOCK: usize = 4096;

/// Values checked per block, just before they run, by a fresh kernel's [`Kernel::update`]
/// (64 KiB: still in L2 when the kernel reads them).
pub const CHECK_BLOCK: usize = 8192;

/// The whole series in one call: new state + one update.
///
/// # Errors
/// As [`Kernel::new`] and [`Kernel::update`]; `InvalidParam` when the output cannot be
/// allocated.
pub fn compute<K: Kernel>(p: &K::Params, x: &[f64]) -> Result<Vec<f64>> {
    let mut k = K::new(p)?;
    let mut out = nan_vec(x.len())?;
    k.update(x, &mut out)?;
    Ok(out)
}

/// The longest window any kernel takes (every length, and the cutout, is at most this).
/// Windows grow with the bars seen, so a long length over a short series stays small.
pub const MAX_LENGTH: usize = 1_000_000;

/// "must be an integer from `lo` to `hi`": the one wording of a bounded parameter.
pub fn range_message(kernel: &str, param: &str, lo: usize, got: impl std::fmt::Display) -> Error {
    Error::param(format!(
        "{kernel}: {param} must be an integer from {lo} to {MAX_LENGTH}, got {got}"
    ))
}

/// # Errors
/// `InvalidParam` naming the kernel, the parameter and the range unless
/// `1 <= len <= MAX_LENGTH`.
pub fn check_length(kernel: &str, param: &str, len: usize) -> Result<()> {
    if !(1..=MAX_LENGTH).contains(&len) {
        return Err(range_message(kernel, param, 1, len));
    }
    Ok(())
}

/// `n` NaNs, or an error (never an abort) when the memory cannot be had.
///
/// # Errors
/// `InvalidParam` saying how many values were asked for.
pub fn nan_vec(n: usize) -> Result<Vec<f64>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| {
        Error::param(format!(
            "cannot allocate {n} output values: the input is too large for memory"
        ))
    })?;
    v.resize(n, f64::NAN);
    Ok(v)
}

/// # Errors
/// `InvalidParam` when the output buffer is not as long as the input.
pub fn check_out(n: usize, out: usize) -> Result<()> {
    if n != out {
        return Err(Error::param(format!("out has {out} values for {n} inputs")));
    }
    Ok(())
}

/// Every value finite (and > 0 when `positive`); `base` is the global index of `x[0]`.
///
/// # Errors
/// `BadInput` naming the first offending index.
pub fn check_prices(x: &[f64], base: u64, positive: bool) -> Result<()> {
    let ok = |v: f64| v.is_finite() && (!positive || v > 0.0);
    // A branch-free pass first (vectorises); find the index only when something is wrong.
    // `0 < v < inf` is "finite and > 0" (NaN fails every comparison).
    let all_ok = if positive {
        x.iter()
            .fold(true, |acc, &v| acc & (v > 0.0) & (v < f64::INFINITY))
    } else {
        x.iter()
            .fold(true, |acc, &v| acc & (v.abs() < f64::INFINITY))
    };
    if all_ok {
        return Ok(());
    }
    let j = x.iter().position(|&v| !ok(v)).expect("a bad value");
    let need = if positive { "finite and > 0" } else { "finite" };
    Err(Error::bad_input(format!(
        "x[{}] is {}: prices must be {need}",
        base + j as u64,
        x[j]
    )))
}

/// Every value of the series `what` finite; `base` is the global index of `x[0]`.
///
/// # Errors
/// `BadInput` naming the series and the first offending index (`high[12] is NaN: ...`).
pub fn check_finite(what: &str, x: &[f64], base: u64) -> Result<()> {
    check_prices(x, base, false).map_err(|_| {
        let j = x.iter().position(|v| !v.is_finite()).expect("a bad value");
        Error::bad_input(format!(
            "{what}[{}] is {}: prices must be finite",
            base + j as u64,
            x[j]
        ))
    })
}

/// `high`, `low` and `close` (and the outputs) of one length, each value finite: the
/// checks at the door of a kernel of bars (true range, ATR, stochastic).
///
/// # Errors
/// `InvalidParam` naming the series whose length differs from `high`'s; `BadInput`
/// naming the series and the global index of a non-finite value.
pub fn check_bars(h: &[f64], l: &[f64], c: &[f64], outs: &[usize], base: u64) -> Result<()> {
    let n = h.len();
    for (what, len) in [("low", l.len()), ("close", c.len())] {
        if len != n {
            return Err(Error::param(format!(
                "{what} has {len} values, high has {n}: the series must be as long as each other"
            )));
        }
    }
    for &o in outs {
        check_out(n, o)?;
    }
    check_finite("high", h, base)?;
    check_finite("low", l, base)?;
    check_finite("close", c, base)
}

/// Values that may be NaN ("not defined") but never infinite; `what` names the series.
///
/// # Errors
/// `BadInput` naming the first infinite value's index.
pub fn check_not_infinite(what: &str, x: &[f64], base: u64) -> Result<()> {
    if let Some(j) = x.iter().position(|v| v.is_infinite()) {
        return Err(Error::bad_input(format!(
            "{what}[{}] is {}: values must be finite or NaN",
            base + j as u64,
            x[j]
        )));
    }
    Ok(())
}
