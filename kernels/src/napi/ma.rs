//! Single-input kernels (moving averages, RSI, ROC, and the window statistics stdev,
//! highest, lowest, sum): `kernelInto(kind, x, length, out)` over a whole series and
//! `KernelStream` to continue one in chunks, each into a buffer the caller allocated.
use super::guarded;
use crate::kernel::single::{AnySingle, SingleKind};
use crate::kernel::{range_message, MAX_LENGTH};
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

/// The kernel `kind` names and its length (ROC takes none: `length` is not read).
fn single(kind: &str, length: f64) -> Result<(SingleKind, usize)> {
    let k = SingleKind::parse(kind)?;
    let len = if k.has_length() {
        to_len(kind, length)?
    } else {
        1
    };
    Ok((k, len))
}

/// Whether two buffers share any memory (`&[f64]` and `&mut [f64]` over one buffer are
/// not allowed to exist in Rust, so an aliased `out` is refused before either is made).
pub(crate) fn overlaps(a: &Float64Array, b: &Float64Array) -> bool {
    let (pa, pb) = (a.as_ptr() as usize, b.as_ptr() as usize);
    let (ea, eb) = (pa + a.len() * 8, pb + b.len() * 8);
    !a.is_empty() && !b.is_empty() && pa < eb && pb < ea
}

/// `x` into `out`, or `out` in place when it is `x` itself (same memory, same length);
/// any other overlap is refused.
fn into(k: &mut AnySingle, x: &Float64Array, out: &mut Float64Array) -> Result<()> {
    if !overlaps(x, out) {
        // SAFETY: distinct buffers (checked above); JS runs nothing else while this
        // synchronous call holds them.
        let o = unsafe { out.as_mut() };
        return k.update(x, o);
    }
    if x.as_ptr() == out.as_ptr() && x.len() == out.len() {
        // SAFETY: as above; the one buffer is only reached through `buf`.
        let buf = unsafe { out.as_mut() };
        return k.update_in_place(buf);
    }
    Err(Error::param(
        "out overlaps x without being x itself: pass x (in place) or a separate buffer",
    ))
}

/// `kind` (sma, ema, rma, wma, dema, hma, lsma, kama, rsi, roc, stdev, highest, lowest,
/// sum) over the whole of `x` into `out` (as long as `x`; `x` itself computes in place),
/// which the caller allocated: a JS-heap buffer the garbage collector accounts for.
#[napi]
pub fn kernel_into(
    kind: String,
    x: Float64Array,
    length: f64,
    mut out: Float64Array,
) -> napi::Result<()> {
    guarded(|| {
        let (k, len) = single(&kind, length)?;
        into(&mut AnySingle::new(k, len)?, &x, &mut out)
    })
}

/// A single-input kernel carried across calls.
#[napi]
pub struct KernelStream {
    inner: AnySingle,
}

#[napi]
impl KernelStream {
    /// A new series, or one continued from `state` (bytes from `state()`).
    #[napi(constructor)]
    pub fn new(kind: String, length: f64, state: Option<&[u8]>) -> napi::Result<Self> {
        guarded(|| {
            let (k, len) = single(&kind, length)?;
            let inner = match state {
                Some(b) => AnySingle::from_bytes(k, len, b)?,
                None => AnySingle::new(k, len)?,
            };
            Ok(KernelStream { inner })
        })
    }

    /// The outputs for exactly these bars, into `out` (as long as `x`; `x` itself computes
    /// in place), which the caller allocated on the JS heap.
    #[napi]
    pub fn push_into(&mut self, x: Float64Array, mut out: Float64Array) -> napi::Result<()> {
        guarded(|| into(&mut self.inner, &x, &mut out))
    }

    /// The carried state, to resume from later.
    #[napi]
    pub fn state(&self) -> napi::Result<Uint8Array> {
        guarded(|| Ok(Uint8Array::new(self.inner.to_bytes())))
    }
}
