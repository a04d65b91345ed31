//! Moving averages, one file each: [`sma`], [`ema`], [`rma`], [`wma`], [`dema`],
//! [`hma`], [`lsma`], [`kama`] (the ATC variant).
//!
//! Each is a [`Kernel`](crate::kernel::Kernel) with `Params = usize` (the length,
//! at least 1) and a per-bar `step` that the ATC pipeline and composite kernels
//! (DEMA, HMA) reuse. Outputs are NaN before `first_defined`.
mod blocks;
pub mod dema;
pub mod ema;
mod fast;
pub mod hma;
pub mod kama;
pub mod lsma;
pub mod rma;
pub mod sma;
pub mod window;
pub mod wma;

pub use dema::Dema;
pub use ema::{Ema, EmaCore};
pub use hma::Hma;
pub use kama::Kama;
pub use lsma::{Lsma, LsmaHead};
pub use rma::Rma;
pub use sma::Sma;
pub use wma::{Wma, WmaHead};

/// One bar of a moving average, without checks (shared by composite kernels and the ATC).
pub trait Step {
    /// Makes room in its windows for the next `n` steps; call it before them.
    fn reserve(&mut self, n: usize);
    /// # Panics
    /// When a growing window has no room reserved (see [`Step::reserve`]).
    fn step(&mut self, x: f64) -> f64;
}

/// Implements [`Kernel`](crate::kernel::Kernel) for a moving average with `Params = usize`
/// from its inherent `with_len`, `step`, `bars`, `save_fields` and `load_fields`.
macro_rules! length_kernel {
    ($ty:ident, $name:literal, $first:expr) => {
        crate::ma::length_kernel!($ty, $name, $first, |k, x, out| {
            for (o, &v) in out.iter_mut().zip(x) {
                *o = k.step(v);
            }
        });
    };
    // `$run(k, x, out)` continues a moved-out local `k` over a slice (a whole-series
    // loop that must do exactly what `step` per bar does).
    ($ty:ident, $name:literal, $first:expr, |$k:ident, $x:ident, $out:ident| $run:expr) => {
        impl crate::ma::Step for $ty {
            fn reserve(&mut self, n: usize) {
                $ty::reserve(self, n)
            }
            #[inline]
            fn step(&mut self, x: f64) -> f64 {
                $ty::step(self, x)
            }
        }
        impl crate::kernel::Kernel for $ty {
            type Params = usize;
            const NAME: &'static str = $name;
            fn new(len: &usize) -> crate::Result<Self> {
                crate::kernel::check_length($name, "length", *len)?;
                Ok(Self::with_len(*len))
            }
            fn first_defined(len: &usize) -> usize {
                let f: fn(usize) -> usize = $first;
                f(*len)
            }
            fn seen(&self) -> u64 {
                self.bars()
            }
            fn run(&mut self, x: &[f64], out: &mut [f64]) {
                // Work on a local (moved out, no allocation) so the carried values
                // stay in registers instead of round-tripping through `self`.
                // Room for the windows first, on `self`: the local never has its address taken.
                self.reserve(x.len());
                let mut k = std::mem::take(self);
                {
                    let ($k, $x, $out) = (&mut k, x, out);
                    $run;
                }
                *self = k;
            }
            fn save(&self, e: &mut crate::codec::Enc) {
                e.usize(self.length());
                self.save_fields(e);
            }
            fn load(len: &usize, d: &mut crate::codec::Dec) -> crate::Result<Self> {
                crate::kernel::check_length($name, "length", *len)?;
                d.expect_u64("length", *len as u64)?;
                Self::load_fields(*len, d)
            }
        }
    };
}
pub(crate) use length_kernel;
