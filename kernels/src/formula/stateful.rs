//! The resumable kernels a plan calls: the single-input kernels (moving averages, RSI, the
//! window statistics) through the core's one dispatch ([`AnySingle`]), and the ATC's
//! `Average_Signal`. They see finite inputs only; the
//! skip rule around them is [`super::skip`].
use super::eval::BLOCK;
use crate::atc::{Atc, AtcParams, NCOL};
use crate::codec::{Dec, Enc};
use crate::kernel::single::{AnySingle, SingleKind};
use crate::Result;

/// Which kernel a [`super::plan::Op::Kernel`] node runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KernelKind {
    Sma,
    Ema,
    Rma,
    Wma,
    Dema,
    Hma,
    Lsma,
    Kama,
    Rsi,
    Stdev,
    Highest,
    Lowest,
    Sum,
    Atc,
}

impl KernelKind {
    /// The single-input kernel this node runs (all but the ATC), in the core's one dispatch.
    pub fn single(self) -> Option<SingleKind> {
        use KernelKind as K;
        use SingleKind as S;
        Some(match self {
            K::Sma => S::Sma,
            K::Ema => S::Ema,
            K::Rma => S::Rma,
            K::Wma => S::Wma,
            K::Dema => S::Dema,
            K::Hma => S::Hma,
            K::Lsma => S::Lsma,
            K::Kama => S::Kama,
            K::Rsi => S::Rsi,
            K::Stdev => S::Stdev,
            K::Highest => S::Highest,
            K::Lowest => S::Lowest,
            K::Sum => S::Sum,
            K::Atc => return None,
        })
    }

    /// First defined output index on input without gaps (the warm-up `w` of the spec).
    pub fn first_defined(self, len: usize) -> u64 {
        self.single().map_or(0, |s| s.first_defined(len)) as u64
    }
}

/// The ATC with room for the columns the formula does not read.
#[derive(Clone, Debug)]
pub struct AtcNode {
    atc: Atc,
    rest: Vec<f64>,
}

fn atc_params(len: usize) -> AtcParams {
    AtcParams {
        lengths: [len as i64; 6],
        ..AtcParams::default()
    }
}

/// A kernel with its carried state.
// The single kernels inline, the ATC boxed: a plan holds each node's kernel in a box already.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum AnyKernel {
    Single(AnySingle),
    Atc(Box<AtcNode>),
}

impl AnyKernel {
    /// # Errors
    /// `InvalidParam` when `len` is out of the kernel's range (checked at compile time).
    pub fn new(kind: KernelKind, len: usize) -> Result<Self> {
        Ok(match kind.single() {
            Some(s) => AnyKernel::Single(AnySingle::new(s, len)?),
            None => AnyKernel::Atc(Box::new(AtcNode {
                atc: Atc::new(&atc_params(len))?,
                rest: vec![0.0; (NCOL - 1) * BLOCK],
            })),
        })
    }

    /// Continues the kernel over finite `x` (and > 0 for the ATC), `x.len() <= BLOCK`.
    pub fn run(&mut self, x: &[f64], out: &mut [f64]) {
        match self {
            AnyKernel::Single(k) => k.run(x, out),
            AnyKernel::Atc(a) => {
                let n = x.len();
                let mut cols = a.rest.chunks_exact_mut(BLOCK);
                let mut o: [&mut [f64]; NCOL] = std::array::from_fn(|c| {
                    if c == 0 {
                        &mut [][..]
                    } else {
                        &mut cols.next().expect("a scratch column")[..n]
                    }
                });
                o[0] = out;
                a.atc
                    .update(x, &mut o)
                    .expect("inputs checked finite and > 0 before the ATC");
            }
        }
    }

    pub fn save(&self, e: &mut Enc) {
        match self {
            AnyKernel::Single(k) => k.save(e),
            AnyKernel::Atc(a) => {
                let b = a.atc.to_bytes();
                e.usize(b.len());
                b.chunks(8).for_each(|c| {
                    let mut w = [0u8; 8];
                    w[..c.len()].copy_from_slice(c);
                    e.u64(u64::from_le_bytes(w));
                });
            }
        }
    }

    /// # Errors
    /// `InvalidParam` when the bytes are not this kernel's state.
    pub fn load(kind: KernelKind, len: usize, d: &mut Dec) -> Result<Self> {
        Ok(match kind.single() {
            Some(s) => AnyKernel::Single(AnySingle::load(s, len, d)?),
            None => {
                let n = d.usize()?;
                // Grown as the words are read: a claimed size never allocates ahead.
                let mut b = Vec::new();
                for _ in 0..n.div_ceil(8) {
                    b.extend_from_slice(&d.u64()?.to_le_bytes());
                }
                b.truncate(n);
                AnyKernel::Atc(Box::new(AtcNode {
                    atc: Atc::from_bytes(&atc_params(len), &b)?,
                    rest: vec![0.0; (NCOL - 1) * BLOCK],
                }))
            }
        })
    }
}
