//! The skip rule, once for every kernel: a stateful function sees only the bars where
//! its input is defined. The defined values of a block are packed together, the kernel
//! runs over them, and its outputs are scattered back (NaN at the other bars, whose
//! state the kernel never saw). When nothing in the block is NaN the kernel runs on the
//! block directly.
//!
//! Every series is finite or NaN, so an infinite kernel output becomes NaN. Only an
//! overflow makes one, and the moving averages and window statistics cannot overflow on
//! inputs of magnitude at most [`TAME`]; the one pass over the input that looks for gaps
//! also looks for larger values, and only a kernel that has seen one (or the ATC, whose
//! price ratios can overflow on any positive prices) gets its outputs cleaned.
use super::stateful::AnyKernel;
use crate::{Error, Result};

/// Inputs of at most this magnitude keep every kernel but the ATC finite: its windows are
/// at most `MAX_LENGTH` (1e6) bars, so its largest intermediate (a sum of 1e6 squares, or
/// of 1e6 values weighted by up to 1e6) stays under 1e307, below `f64::MAX`.
pub const TAME: f64 = 1e150;

/// A kernel node of a plan: the kernel and whether its outputs may hold an overflow.
#[derive(Clone, Debug)]
pub struct KernelNode {
    pub kernel: AnyKernel,
    /// Set for good once the kernel has seen an input beyond [`TAME`] (its state may
    /// carry the overflow), and from the start for the ATC.
    clean: bool,
}

impl KernelNode {
    pub fn new(kernel: AnyKernel) -> Self {
        let clean = matches!(kernel, AnyKernel::Atc(_));
        KernelNode { kernel, clean }
    }

    /// A kernel restored from saved bytes, which do not say whether it saw a value beyond
    /// [`TAME`]: its outputs are cleaned (a no-op on finite outputs, so resumed runs stay
    /// bit-identical to one pass).
    pub fn loaded(kernel: AnyKernel) -> Self {
        KernelNode {
            kernel,
            clean: true,
        }
    }
}

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

/// Runs the node's kernel over the defined values of `x` (`x.len() <= BLOCK`); `out`
/// gets NaN elsewhere, and NaN for an infinite output.
///
/// `positive` (the ATC) requires every defined value to be > 0; `base` is the global
/// index of `x[0]`, `what` names the function for the error.
///
/// # Errors
/// `BadInput` naming the bar of the first defined value <= 0 when `positive`; the
/// kernel has then not run.
pub fn run(
    node: &mut KernelNode,
    x: &[f64],
    out: &mut [f64],
    sc: &mut Scratch,
    positive: Option<(u64, &dyn Fn() -> String)>,
) -> Result<()> {
    if let Some((base, what)) = positive {
        if let Some(j) = x.iter().position(|&v| v <= 0.0) {
            return Err(Error::bad_input(format!(
                "{}: its input is {} at bar {}; atc needs values > 0",
                what(),
                x[j],
                base + j as u64
            )));
        }
    }
    // One branch-free pass (it vectorises): false for a NaN or a value beyond TAME.
    let usual = x.iter().fold(true, |acc, &v| acc & (v.abs() <= TAME));
    let gaps = !usual && {
        node.clean |= x.iter().any(|v| v.abs() > TAME);
        x.iter().any(|v| v.is_nan())
    };
    let k = &mut node.kernel;
    if !gaps {
        k.run(x, out);
        if node.clean {
            out.iter_mut().for_each(|o| *o = finite(*o));
        }
        return Ok(());
    }
    sc.xs.clear();
    sc.xs.extend(x.iter().copied().filter(|v| !v.is_nan()));
    let m = sc.xs.len();
    k.run(&sc.xs, &mut sc.ys[..m]);
    let mut it = sc.ys[..m].iter();
    for (o, &v) in out.iter_mut().zip(x) {
        *o = if v.is_nan() {
            f64::NAN
        } else {
            finite(*it.next().expect("one output per defined input"))
        };
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
