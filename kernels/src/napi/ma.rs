//! Single-input kernels (moving averages, RSI, ROC, and the window statistics stdev,
//! highest, lowest, sum): `kernel(kind, x, length)` over a whole series and
//! `KernelStream` to continue one in chunks.
use super::guarded;
use crate::kernel::{compute, range_message, Kernel, MAX_LENGTH};
use crate::ma::{Dema, Ema, Hma, Kama, Lsma, Rma, Sma, Wma};
use crate::osc::{Roc, Rsi};
use crate::stat::{Highest, Lowest, Stdev, Sum};
use crate::{Error, Result};
use napi::bindgen_prelude::{Float64Array, Uint8Array};
use napi_derive::napi;

/// A JS number as a length: an integer from 1 to [`MAX_LENGTH`].
pub(crate) fn to_len(kernel: &str, v: f64) -> Result<usize> {
    bounded(kernel, "length", v, 1)
}

/// A JS number as an integer from `lo` to [`MAX_LENGTH`], checked as a number before any
/// conversion (so nothing wraps or saturates); `name` names it in the error.
pub(crate) fn bounded(kernel: &str, name: &str, v: f64, lo: usize) -> Result<usize> {
    if v.is_finite() && v.fract() == 0.0 && v >= lo as f64 && v <= MAX_LENGTH as f64 {
        Ok(v as usize)
    } else {
        Err(range_message(kernel, name, lo, v))
    }
}

/// One of the single-input kernels, chosen by name.
enum Any {
    Sma(Sma),
    Ema(Ema),
    Rma(Rma),
    Wma(Wma),
    Dema(Dema),
    Hma(Hma),
    Lsma(Lsma),
    Kama(Kama),
    Rsi(Rsi),
    Roc(Roc),
    Stdev(Stdev),
    Highest(Highest),
    Lowest(Lowest),
    Sum(Sum),
}

macro_rules! dispatch {
    ($kind:expr, $len:expr, |$ty:ident, $p:ident| $body:expr) => {{
        let kind: &str = $kind;
        let len = $len;
        match kind {
            "sma" => {
                type $ty = Sma;
                let $p = to_len(kind, len)?;
                $body
            }
            "ema" => {
                type $ty = Ema;
                let $p = to_len(kind, len)?;
                $body
            }
            "rma" => {
                type $ty = Rma;
                let $p = to_len(kind, len)?;
                $body
            }
            "wma" => {
                type $ty = Wma;
                let $p = to_len(kind, len)?;
                $body
            }
            "dema" => {
                type $ty = Dema;
                let $p = to_len(kind, len)?;
                $body
            }
            "hma" => {
                type $ty = Hma;
                let $p = to_len(kind, len)?;
                $body
            }
            "lsma" => {
                type $ty = Lsma;
                let $p = to_len(kind, len)?;
                $body
            }
            "kama" => {
                type $ty = Kama;
                let $p = to_len(kind, len)?;
                $body
            }
            "rsi" => {
                type $ty = Rsi;
                let $p = to_len(kind, len)?;
                $body
            }
            "roc" => {
                type $ty = Roc;
                let $p = ();
                $body
            }
            "stdev" => {
                type $ty = Stdev;
                let $p = to_len(kind, len)?;
                $body
            }
            "highest" => {
                type $ty = Highest;
                let $p = to_len(kind, len)?;
                $body
            }
            "lowest" => {
                type $ty = Lowest;
                let $p = to_len(kind, len)?;
                $body
            }
            "sum" => {
                type $ty = Sum;
                let $p = to_len(kind, len)?;
                $body
            }
            _ => Err(Error::param(format!("unknown kernel '{kind}'"))),
        }
    }};
}

/// `kind` (sma, ema, rma, wma, dema, hma, lsma, kama, rsi, roc, stdev, highest, lowest,
/// sum) over the whole of `x`.
#[napi]
pub fn kernel(kind: String, x: &[f64], length: f64) -> napi::Result<Float64Array> {
    guarded(|| {
        dispatch!(&kind, length, |K, p| Ok(Float64Array::new(compute::<K>(
            &p, x
        )?)))
    })
}

/// `kind` over the whole of `x` into `out` (as long as `x`), which the caller
/// allocated: a JS-heap buffer the garbage collector accounts for.
#[napi]
pub fn kernel_into(
    kind: String,
    x: &[f64],
    length: f64,
    mut out: Float64Array,
) -> napi::Result<()> {
    // SAFETY: JS runs nothing else while this synchronous call holds the buffer.
    let out = unsafe { out.as_mut() };
    guarded(|| {
        dispatch!(&kind, length, |K, p| Kernel::update(
            &mut K::new(&p)?,
            x,
            out
        ))
    })
}

/// A single-input kernel carried across calls.
#[napi]
pub struct KernelStream {
    inner: Any,
}

#[napi]
impl KernelStream {
    /// A new series, or one continued from `state` (bytes from `state()`).
    #[napi(constructor)]
    pub fn new(kind: String, length: f64, state: Option<&[u8]>) -> napi::Result<Self> {
        guarded(|| {
            let inner = dispatch!(&kind, length, |K, p| {
                let k = match state {
                    Some(b) => K::from_bytes(&p, b)?,
                    None => K::new(&p)?,
                };
                Ok(wrap(k))
            })?;
            Ok(KernelStream { inner })
        })
    }

    /// The outputs for exactly these bars.
    #[napi]
    pub fn push(&mut self, x: &[f64]) -> napi::Result<Float64Array> {
        guarded(|| {
            let mut out = crate::kernel::nan_vec(x.len())?;
            each(&mut self.inner, |k| k.update(x, &mut out))?;
            Ok(Float64Array::new(out))
        })
    }

    /// The outputs for exactly these bars, into `out` (as long as `x`), which the caller
    /// allocated on the JS heap.
    #[napi]
    pub fn push_into(&mut self, x: &[f64], mut out: Float64Array) -> napi::Result<()> {
        // SAFETY: JS runs nothing else while this synchronous call holds the buffer.
        let out = unsafe { out.as_mut() };
        guarded(|| each(&mut self.inner, |k| k.update(x, out)))
    }

    /// The carried state, to resume from later.
    #[napi]
    pub fn state(&self) -> napi::Result<Uint8Array> {
        guarded(|| Ok(Uint8Array::new(each_ref(&self.inner))))
    }
}

trait Wrap {
    fn wrap(self) -> Any;
}
macro_rules! wraps {
    ($($v:ident),*) => {
        $(impl Wrap for $v { fn wrap(self) -> Any { Any::$v(self) } })*
        fn each(a: &mut Any, f: impl FnOnce(&mut dyn Update) -> Result<()>) -> Result<()> {
            match a { $(Any::$v(k) => f(k),)* }
        }
        fn each_ref(a: &Any) -> Vec<u8> {
            match a { $(Any::$v(k) => k.to_bytes(),)* }
        }
    };
}
wraps!(Sma, Ema, Rma, Wma, Dema, Hma, Lsma, Kama, Rsi, Roc, Stdev, Highest, Lowest, Sum);

fn wrap<K: Wrap>(k: K) -> Any {
    k.wrap()
}

/// Object-safe view of [`Kernel::update`].
trait Update {
    fn update(&mut self, x: &[f64], out: &mut [f64]) -> Result<()>;
}
impl<K: Kernel> Update for K {
    fn update(&mut self, x: &[f64], out: &mut [f64]) -> Result<()> {
        Kernel::update(self, x, out)
    }
}
