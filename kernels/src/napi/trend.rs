//! Trend state and equity: `trendState`, `equity` and their streams.
use super::guarded;
use super::ma::bounded;
use crate::atc::{Equity, EquityParams, Trend};
use crate::kernel::nan_vec;
use crate::Result;
use napi::bindgen_prelude::{Float64Array, Uint8Array};
use napi_derive::napi;

#[napi(object)]
pub struct EquityOptions {
    /// User units (`la = lambda/1000`).
    pub lambda: f64,
    /// Percent (`de = decay/100`).
    pub decay: f64,
    pub cutout: f64,
}

fn equity_params(start: f64, o: &EquityOptions) -> Result<EquityParams> {
    Ok(EquityParams {
        start,
        lambda: o.lambda,
        decay: o.decay,
        cutout: bounded("equity", "cutout", o.cutout, 0)? as i64,
    })
}

/// The trend state of `x` against `line` (NaN in `line` = not defined).
#[napi]
pub fn trend_state(x: &[f64], line: &[f64]) -> napi::Result<Float64Array> {
    guarded(|| {
        let mut out = nan_vec(x.len())?;
        Trend::new().update(x, line, &mut out)?;
        Ok(Float64Array::new(out))
    })
}

/// The equity of following `signal` one bar late, with one-bar returns `roc`.
#[napi]
pub fn equity(
    start: f64,
    signal: &[f64],
    roc: &[f64],
    opts: EquityOptions,
) -> napi::Result<Float64Array> {
    guarded(|| {
        let mut out = nan_vec(signal.len())?;
        Equity::new(&equity_params(start, &opts)?)?.update(signal, roc, &mut out)?;
        Ok(Float64Array::new(out))
    })
}

#[napi]
pub struct TrendStream {
    inner: Trend,
}

#[napi]
impl TrendStream {
    #[napi(constructor)]
    pub fn new(state: Option<&[u8]>) -> napi::Result<Self> {
        guarded(|| {
            Ok(TrendStream {
                inner: state
                    .map(Trend::from_bytes)
                    .transpose()?
                    .unwrap_or_default(),
            })
        })
    }
    #[napi]
    pub fn push(&mut self, x: &[f64], line: &[f64]) -> napi::Result<Float64Array> {
        guarded(|| {
            let mut out = nan_vec(x.len())?;
            self.inner.update(x, line, &mut out)?;
            Ok(Float64Array::new(out))
        })
    }
    #[napi]
    pub fn state(&self) -> Uint8Array {
        Uint8Array::new(self.inner.to_bytes())
    }
}

#[napi]
pub struct EquityStream {
    inner: Equity,
}

#[napi]
impl EquityStream {
    #[napi(constructor)]
    pub fn new(start: f64, opts: EquityOptions, state: Option<&[u8]>) -> napi::Result<Self> {
        guarded(|| {
            let p = equity_params(start, &opts)?;
            let inner = match state {
                Some(b) => Equity::from_bytes(&p, b)?,
                None => Equity::new(&p)?,
            };
            Ok(EquityStream { inner })
        })
    }
    #[napi]
    pub fn push(&mut self, signal: &[f64], roc: &[f64]) -> napi::Result<Float64Array> {
        guarded(|| {
            let mut out = nan_vec(signal.len())?;
            self.inner.update(signal, roc, &mut out)?;
            Ok(Float64Array::new(out))
        })
    }
    #[napi]
    pub fn state(&self) -> Uint8Array {
        Uint8Array::new(self.inner.to_bytes())
    }
}
