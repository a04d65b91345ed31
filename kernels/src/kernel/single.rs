//! Every single-input kernel behind one enum, chosen by name: the one dispatch that the
//! Node bindings (`kernel`, `KernelStream`) and the formula evaluator's kernel nodes share.
use super::Kernel;
use crate::codec::{Dec, Enc};
use crate::ma::{Dema, Ema, Hma, Kama, Lsma, Rma, Sma, Wma};
use crate::osc::{Roc, Rsi};
use crate::stat::{Highest, Lowest, Stdev, Sum};
use crate::{Error, Result};

/// A kernel's parameters from a length (kernels without one ignore it).
pub trait FromLen {
    fn from_len(len: usize) -> Self;
}
impl FromLen for usize {
    fn from_len(len: usize) -> usize {
        len
    }
}
impl FromLen for () {
    fn from_len(_: usize) {}
}

macro_rules! singles {
    ($($v:ident = $name:literal),* $(,)?) => {
        /// Which single-input kernel.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum SingleKind {
            $($v),*
        }

        /// A single-input kernel with its carried state.
        #[derive(Clone, Debug)]
        pub enum AnySingle {
            $($v($v)),*
        }

        impl SingleKind {
            pub const ALL: &'static [SingleKind] = &[$(SingleKind::$v),*];

            /// The name callers use (`"sma"`), as in the saved state's tag.
            pub fn name(self) -> &'static str {
                match self {
                    $(SingleKind::$v => $name),*
                }
            }
            /// Index of the first defined output on a series of finite inputs.
            pub fn first_defined(self, len: usize) -> usize {
                match self {
                    $(SingleKind::$v => <$v as Kernel>::first_defined(&FromLen::from_len(len))),*
                }
            }
        }

        impl AnySingle {
            /// # Errors
            /// `InvalidParam` naming the length when it is out of range.
            pub fn new(kind: SingleKind, len: usize) -> Result<Self> {
                Ok(match kind {
                    $(SingleKind::$v => AnySingle::$v(<$v as Kernel>::new(&FromLen::from_len(len))?)),*
                })
            }
            /// The state [`AnySingle::save`] wrote for `kind` with `len`.
            ///
            /// # Errors
            /// `InvalidParam` when the bytes are not that kernel's state.
            pub fn load(kind: SingleKind, len: usize, d: &mut Dec) -> Result<Self> {
                Ok(match kind {
                    $(SingleKind::$v => AnySingle::$v(<$v as Kernel>::load(&FromLen::from_len(len), d)?)),*
                })
            }
            /// # Errors
            /// `InvalidParam` when the bytes were not saved by `kind` with `len`.
            pub fn from_bytes(kind: SingleKind, len: usize, bytes: &[u8]) -> Result<Self> {
                Ok(match kind {
                    $(SingleKind::$v => AnySingle::$v(<$v as Kernel>::from_bytes(&FromLen::from_len(len), bytes)?)),*
                })
            }
            pub fn kind(&self) -> SingleKind {
                match self {
                    $(AnySingle::$v(_) => SingleKind::$v),*
                }
            }
            /// See [`Kernel::run`]: no input checks.
            #[inline]
            pub fn run(&mut self, x: &[f64], out: &mut [f64]) {
                match self {
                    $(AnySingle::$v(k) => Kernel::run(k, x, out)),*
                }
            }
            /// See [`Kernel::update`].
            ///
            /// # Errors
            /// As [`Kernel::update`].
            pub fn update(&mut self, x: &[f64], out: &mut [f64]) -> Result<()> {
                match self {
                    $(AnySingle::$v(k) => Kernel::update(k, x, out)),*
                }
            }
            /// See [`Kernel::update_in_place`].
            ///
            /// # Errors
            /// As [`Kernel::update_in_place`].
            pub fn update_in_place(&mut self, buf: &mut [f64]) -> Result<()> {
                match self {
                    $(AnySingle::$v(k) => Kernel::update_in_place(k, buf)),*
                }
            }
            pub fn save(&self, e: &mut Enc) {
                match self {
                    $(AnySingle::$v(k) => Kernel::save(k, e)),*
                }
            }
            pub fn to_bytes(&self) -> Vec<u8> {
                match self {
                    $(AnySingle::$v(k) => Kernel::to_bytes(k)),*
                }
            }
        }
    };
}

singles!(
    Sma = "sma",
    Ema = "ema",
    Rma = "rma",
    Wma = "wma",
    Dema = "dema",
    Hma = "hma",
    Lsma = "lsma",
    Kama = "kama",
    Rsi = "rsi",
    Roc = "roc",
    Stdev = "stdev",
    Highest = "highest",
    Lowest = "lowest",
    Sum = "sum",
);

impl SingleKind {
    /// # Errors
    /// `InvalidParam` naming an unknown kernel.
    pub fn parse(name: &str) -> Result<Self> {
        SingleKind::ALL
            .iter()
            .copied()
            .find(|k| k.name() == name)
            .ok_or_else(|| Error::param(format!("unknown kernel '{name}'")))
    }
    /// Whether the kernel takes a length (ROC does not).
    pub fn has_length(self) -> bool {
        self != SingleKind::Roc
    }
}
