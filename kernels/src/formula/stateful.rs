//! The resumable kernels a plan calls, behind one enum: the moving averages, RSI, the
//! window statistics and the ATC's `Average_Signal`. They see finite inputs only; the
//! skip rule around them is [`super::skip`].
use super::eval::BLOCK;
use crate::atc::{Atc, AtcParams, NCOL};
use crate::codec::{Dec, Enc};
use crate::kernel::Kernel;
use crate::ma::{Dema, Ema, Hma, Kama, Lsma, Rma, Sma, Wma};
use crate::osc::Rsi;
use crate::stat::{Highest, Lowest, Stdev, Sum};
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
    /// First defined output index on input without gaps (the warm-up `w` of the spec).
    pub fn first_defined(self, len: usize) -> u64 {
        use KernelKind::*;
        (match self {
            Sma => <crate::ma::Sma as Kernel>::first_defined(&len),
            Ema => <crate::ma::Ema as Kernel>::first_defined(&len),
            Rma => <crate::ma::Rma as Kernel>::first_defined(&len),
            Wma => <crate::ma::Wma as Kernel>::first_defined(&len),
            Dema => <crate::ma::Dema as Kernel>::first_defined(&len),
            Hma => <crate::ma::Hma as Kernel>::first_defined(&len),
            Lsma => <crate::ma::Lsma as Kernel>::first_defined(&len),
            Kama => <crate::ma::Kama as Kernel>::first_defined(&len),
            Rsi => <crate::osc::Rsi as Kernel>::first_defined(&len),
            Stdev => <crate::stat::Stdev as Kernel>::first_defined(&len),
            Highest => <crate::stat::Highest as Kernel>::first_defined(&len),
            Lowest => <crate::stat::Lowest as Kernel>::first_defined(&len),
            Sum => <crate::stat::Sum as Kernel>::first_defined(&len),
            Atc => 0,
        }) as u64
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
#[derive(Clone, Debug)]
pub enum AnyKernel {
    Sma(Sma),
    Ema(Ema),
    Rma(Rma),
    Wma(Wma),
    Dema(Dema),
    Hma(Hma),
    Lsma(Lsma),
    Kama(Kama),
    Rsi(Rsi),
    Stdev(Stdev),
    Highest(Highest),
    Lowest(Lowest),
    Sum(Sum),
    Atc(Box<AtcNode>),
}

macro_rules! each {
    ($k:expr, |$v:ident| $body:expr, |$a:ident| $atc:expr) => {
        match $k {
            AnyKernel::Sma($v) => $body,
            AnyKernel::Ema($v) => $body,
            AnyKernel::Rma($v) => $body,
            AnyKernel::Wma($v) => $body,
            AnyKernel::Dema($v) => $body,
            AnyKernel::Hma($v) => $body,
            AnyKernel::Lsma($v) => $body,
            AnyKernel::Kama($v) => $body,
            AnyKernel::Rsi($v) => $body,
            AnyKernel::Stdev($v) => $body,
            AnyKernel::Highest($v) => $body,
            AnyKernel::Lowest($v) => $body,
            AnyKernel::Sum($v) => $body,
            AnyKernel::Atc($a) => $atc,
        }
    };
}

impl AnyKernel {
    /// # Errors
    /// `InvalidParam` when `len` is out of the kernel's range (checked at compile time).
    pub fn new(kind: KernelKind, len: usize) -> Result<Self> {
        use KernelKind as K;
        Ok(match kind {
            K::Sma => AnyKernel::Sma(Sma::new(&len)?),
            K::Ema => AnyKernel::Ema(Ema::new(&len)?),
            K::Rma => AnyKernel::Rma(Rma::new(&len)?),
            K::Wma => AnyKernel::Wma(Wma::new(&len)?),
            K::Dema => AnyKernel::Dema(Dema::new(&len)?),
            K::Hma => AnyKernel::Hma(Hma::new(&len)?),
            K::Lsma => AnyKernel::Lsma(Lsma::new(&len)?),
            K::Kama => AnyKernel::Kama(Kama::new(&len)?),
            K::Rsi => AnyKernel::Rsi(Rsi::new(&len)?),
            K::Atc => AnyKernel::Atc(Box::new(AtcNode {
                atc: Atc::new(&atc_params(len))?,
                rest: vec![0.0; (NCOL - 1) * BLOCK],
            })),
            K::Stdev => AnyKernel::Stdev(Stdev::new(&len)?),
            K::Highest => AnyKernel::Highest(Highest::new(&len)?),
            K::Lowest => AnyKernel::Lowest(Lowest::new(&len)?),
            K::Sum => AnyKernel::Sum(Sum::new(&len)?),
        })
    }

    /// Continues the kernel over finite `x` (and > 0 for the ATC), `x.len() <= BLOCK`.
    pub fn run(&mut self, x: &[f64], out: &mut [f64]) {
        each!(self, |k| Kernel::run(k, x, out), |a| {
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
        })
    }

    pub fn save(&self, e: &mut Enc) {
        each!(self, |k| Kernel::save(k, e), |a| {
            let b = a.atc.to_bytes();
            e.usize(b.len());
            b.chunks(8).for_each(|c| {
                let mut w = [0u8; 8];
                w[..c.len()].copy_from_slice(c);
                e.u64(u64::from_le_bytes(w));
            });
        })
    }

    /// # Errors
    /// `InvalidParam` when the bytes are not this kernel's state.
    pub fn load(kind: KernelKind, len: usize, d: &mut Dec) -> Result<Self> {
        use KernelKind as K;
        Ok(match kind {
            K::Sma => AnyKernel::Sma(Sma::load(&len, d)?),
            K::Ema => AnyKernel::Ema(Ema::load(&len, d)?),
            K::Rma => AnyKernel::Rma(Rma::load(&len, d)?),
            K::Wma => AnyKernel::Wma(Wma::load(&len, d)?),
            K::Dema => AnyKernel::Dema(Dema::load(&len, d)?),
            K::Hma => AnyKernel::Hma(Hma::load(&len, d)?),
            K::Lsma => AnyKernel::Lsma(Lsma::load(&len, d)?),
            K::Kama => AnyKernel::Kama(Kama::load(&len, d)?),
            K::Rsi => AnyKernel::Rsi(Rsi::load(&len, d)?),
            K::Atc => {
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
            K::Stdev => AnyKernel::Stdev(Stdev::load(&len, d)?),
            K::Highest => AnyKernel::Highest(Highest::load(&len, d)?),
            K::Lowest => AnyKernel::Lowest(Lowest::load(&len, d)?),
            K::Sum => AnyKernel::Sum(Sum::load(&len, d)?),
        })
    }
}
