//! Kernels of bars (`high`, `low`, `close`): true range and ATR over a whole series
//! (`trueRangeInto`, `atrInto`) and as streams (`TrueRangeStream`, `AtrStream`). Outputs
//! go into buffers the caller allocated on the JS heap.
use super::guarded;
use super::ma::to_len;
use crate::vol::{Atr, TrueRange};
use napi::bindgen_prelude::{Float64Array, Uint8Array};
use napi_derive::napi;

/// The true range of these bars into `out`.
#[napi]
pub fn true_range_into(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    mut out: Float64Array,
) -> napi::Result<()> {
    // SAFETY: JS runs nothing else while this synchronous call holds the buffer.
    let out = unsafe { out.as_mut() };
    guarded(|| TrueRange::new().update(high, low, close, out))
}

/// The ATR of these bars into `out`.
#[napi]
pub fn atr_into(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    length: f64,
    mut out: Float64Array,
) -> napi::Result<()> {
    // SAFETY: as in `true_range_into`.
    let out = unsafe { out.as_mut() };
    guarded(|| Atr::new(&to_len("atr", length)?)?.update(high, low, close, out))
}

/// The true range carried across calls.
#[napi]
pub struct TrueRangeStream {
    inner: TrueRange,
}

#[napi]
impl TrueRangeStream {
    /// A new series, or one continued from `state` (bytes from `state()`).
    #[napi(constructor)]
    pub fn new(state: Option<&[u8]>) -> napi::Result<Self> {
        guarded(|| {
            let inner = match state {
                Some(b) => TrueRange::from_bytes(b)?,
                None => TrueRange::new(),
            };
            Ok(TrueRangeStream { inner })
        })
    }
    /// The outputs for exactly these bars, into `out`.
    #[napi]
    pub fn push_into(
        &mut self,
        high: &[f64],
        low: &[f64],
        close: &[f64],
        mut out: Float64Array,
    ) -> napi::Result<()> {
        // SAFETY: as in `true_range_into`.
        let out = unsafe { out.as_mut() };
        guarded(|| self.inner.update(high, low, close, out))
    }
    /// The carried state, to resume from later.
    #[napi]
    pub fn state(&self) -> Uint8Array {
        Uint8Array::new(self.inner.to_bytes())
    }
}

/// The ATR carried across calls.
#[napi]
pub struct AtrStream {
    inner: Atr,
}

#[napi]
impl AtrStream {
    /// A new series, or one continued from `state` (bytes from `state()`).
    #[napi(constructor)]
    pub fn new(length: f64, state: Option<&[u8]>) -> napi::Result<Self> {
        guarded(|| {
            let len = to_len("atr", length)?;
            let inner = match state {
                Some(b) => Atr::from_bytes(&len, b)?,
                None => Atr::new(&len)?,
            };
            Ok(AtrStream { inner })
        })
    }
    /// The outputs for exactly these bars, into `out`.
    #[napi]
    pub fn push_into(
        &mut self,
        high: &[f64],
        low: &[f64],
        close: &[f64],
        mut out: Float64Array,
    ) -> napi::Result<()> {
        // SAFETY: as in `true_range_into`.
        let out = unsafe { out.as_mut() };
        guarded(|| self.inner.update(high, low, close, out))
    }
    /// The carried state, to resume from later.
    #[napi]
    pub fn state(&self) -> Uint8Array {
        Uint8Array::new(self.inner.to_bytes())
    }
}
