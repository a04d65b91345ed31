//! Bollinger bands: `bollinger(x, length, k)` and `BollingerStream`.
//! (RSI and ROC are single-input kernels: see `ma.rs`.)
use super::guarded;
use super::ma::to_len;
use crate::kernel::nan_vec;
use crate::osc::{Bollinger, BollingerParams};
use crate::Result;
use napi::bindgen_prelude::{Float64Array, Uint8Array};
use napi_derive::napi;

#[napi(object)]
pub struct Bands {
    pub mid: Float64Array,
    pub upper: Float64Array,
    pub lower: Float64Array,
}

fn params(length: f64, k: f64) -> Result<BollingerParams> {
    Ok(BollingerParams {
        length: to_len("bollinger", length)?,
        k,
    })
}

fn run(b: &mut Bollinger, x: &[f64]) -> Result<Bands> {
    let n = x.len();
    let (mut m, mut u, mut l) = (nan_vec(n)?, nan_vec(n)?, nan_vec(n)?);
    b.update(x, &mut m, &mut u, &mut l)?;
    Ok(Bands {
        mid: Float64Array::new(m),
        upper: Float64Array::new(u),
        lower: Float64Array::new(l),
    })
}

/// Bollinger bands over the whole of `x`.
#[napi]
pub fn bollinger(x: &[f64], length: f64, k: f64) -> napi::Result<Bands> {
    guarded(|| run(&mut Bollinger::new(&params(length, k)?)?, x))
}

#[napi]
pub struct BollingerStream {
    inner: Bollinger,
}

#[napi]
impl BollingerStream {
    #[napi(constructor)]
    pub fn new(length: f64, k: f64, state: Option<&[u8]>) -> napi::Result<Self> {
        guarded(|| {
            let p = params(length, k)?;
            let inner = match state {
                Some(b) => Bollinger::from_bytes(&p, b)?,
                None => Bollinger::new(&p)?,
            };
            Ok(BollingerStream { inner })
        })
    }
    #[napi]
    pub fn push(&mut self, x: &[f64]) -> napi::Result<Bands> {
        guarded(|| run(&mut self.inner, x))
    }
    #[napi]
    pub fn state(&self) -> Uint8Array {
        Uint8Array::new(self.inner.to_bytes())
    }
}
