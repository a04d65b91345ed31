//! The skip rule, once for every kernel: a stateful function sees only the bars where
//! its input is defined. The defined values of a block are packed together, the kernel
//! runs over them, and its outputs are scattered back (NaN at the other bars, whose
//! state the kernel never saw). When nothing in the block is NaN the kernel runs on the
//! block directly.
use super::stateful::AnyKernel;
use crate::{Error, Result};

/// Packing room, reused by every kernel node of an evaluator.
#[derive(Clone, Debug, Default)]
pub struct Scratch {
    xs: Vec<f64>,
    ys: Vec<f64>,
}

impl Scratch {
    pub fn with_capacity(n: usize) -> Self {
        Scratch {
            xs: Vec::with_capacity(n),
            ys: vec![0.0; n],
        }
    }
}

/// Runs `k` over the defined values of `x` (`x.len() <= BLOCK`); `out` gets NaN elsewhere.
/// Outputs that are not finite become NaN (every series is finite or NaN).
///
/// `positive` (the ATC) requires every defined value to be > 0; `base` is the global
/// index of `x[0]`, `what` names the function for the error.
///
/// # Errors
/// `BadInput` naming the bar of the first defined value <= 0 when `positive`; the
/// kernel has then not run.
pub fn run(
    k: &mut AnyKernel,
    x: &[f64],
    out: &mut [f64],
    sc: &mut Scratch,
    positive: Option<(u64, &str)>,
) -> Result<()> {
    if let Some((base, what)) = positive {
        if let Some(j) = x.iter().position(|&v| v <= 0.0) {
            return Err(Error::bad_input(format!(
                "{what}: its input is {} at bar {}; atc needs values > 0",
                x[j],
                base + j as u64
            )));
        }
    }
    let gaps = x.iter().fold(false, |acc, v| acc | v.is_nan());
    if !gaps {
        k.run(x, out);
    } else {
        sc.xs.clear();
        sc.xs.extend(x.iter().copied().filter(|v| !v.is_nan()));
        let m = sc.xs.len();
        k.run(&sc.xs, &mut sc.ys[..m]);
        let mut it = sc.ys[..m].iter();
        for (o, &v) in out.iter_mut().zip(x) {
            *o = if v.is_nan() {
                f64::NAN
            } else {
                *it.next().expect("one output per defined input")
            };
        }
    }
    for o in out.iter_mut() {
        *o = finite(*o);
    }
    Ok(())
}

/// `v`, or NaN when it is infinite.
#[inline(always)]
pub fn finite(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        f64::NAN
    }
}
