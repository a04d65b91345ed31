//! Oscillators and bands with several outputs: `bollingerInto(x, length, k, mid, upper,
//! lower)` and `BollingerStream`; MACD (`macdInto`, `MacdStream`) and the stochastic (`stochInto`,
//! `StochStream`), whose outputs go into buffers the caller allocated on the JS heap.
//! (RSI and ROC are single-input kernels: see `ma.rs`.)
use super::guarded;
use super::ma::{bounded, overlaps, to_len};
use crate::kernel::nan_vec;
use crate::osc::{Bollinger, BollingerParams, Macd, MacdParams, Stoch, StochParams};
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

/// Bollinger bands over the whole of `x` into `mid`, `upper`, `lower` (each as long as
/// `x`), which the caller allocated; none of the four may share memory with another.
#[napi]
pub fn bollinger_into(
    x: Float64Array,
    length: f64,
    k: f64,
    mut mid: Float64Array,
    mut upper: Float64Array,
    mut lower: Float64Array,
) -> napi::Result<()> {
    guarded(|| {
        let all = [
            ("x", &x),
            ("mid", &mid),
            ("upper", &upper),
            ("lower", &lower),
        ];
        for (i, (a, p)) in all.iter().enumerate() {
            if let Some((b, _)) = all[i + 1..].iter().find(|(_, q)| overlaps(p, q)) {
                return Err(crate::Error::param(format!(
                    "out.{b} overlaps {}{a}: the bands need buffers of their own",
                    if *a == "x" { "" } else { "out." }
                )));
            }
        }
        let mut b = Bollinger::new(&params(length, k)?)?;
        // SAFETY: four distinct buffers (checked above); JS runs nothing else meanwhile.
        let (m, u, l) = unsafe { (mid.as_mut(), upper.as_mut(), lower.as_mut()) };
        b.update(&x, m, u, l)
    })
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

fn macd_params(fast: f64, slow: f64, signal: f64) -> Result<MacdParams> {
    Ok(MacdParams {
        fast: bounded("macd", "fast", fast, 1)?,
        slow: bounded("macd", "slow", slow, 1)?,
        signal: bounded("macd", "signal", signal, 1)?,
    })
}

/// MACD line, signal and histogram of `x` into `macd`, `signal_out`, `hist`.
#[napi]
pub fn macd_into(
    x: &[f64],
    fast: f64,
    slow: f64,
    signal: f64,
    mut macd: Float64Array,
    mut signal_out: Float64Array,
    mut hist: Float64Array,
) -> napi::Result<()> {
    // SAFETY: JS runs nothing else while this synchronous call holds the buffers, and the
    // TypeScript wrapper passes three distinct ones.
    let (m, s, h) = unsafe { (macd.as_mut(), signal_out.as_mut(), hist.as_mut()) };
    guarded(|| Macd::new(&macd_params(fast, slow, signal)?)?.update(x, m, s, h))
}

/// MACD carried across calls.
#[napi]
pub struct MacdStream {
    inner: Macd,
}

#[napi]
impl MacdStream {
    /// A new series, or one continued from `state` (bytes from `state()`).
    #[napi(constructor)]
    pub fn new(fast: f64, slow: f64, signal: f64, state: Option<&[u8]>) -> napi::Result<Self> {
        guarded(|| {
            let p = macd_params(fast, slow, signal)?;
            let inner = match state {
                Some(b) => Macd::from_bytes(&p, b)?,
                None => Macd::new(&p)?,
            };
            Ok(MacdStream { inner })
        })
    }
    /// The outputs for exactly these bars, into the three buffers.
    #[napi]
    pub fn push_into(
        &mut self,
        x: &[f64],
        mut macd: Float64Array,
        mut signal: Float64Array,
        mut hist: Float64Array,
    ) -> napi::Result<()> {
        // SAFETY: as in `macd_into`.
        let (m, s, h) = unsafe { (macd.as_mut(), signal.as_mut(), hist.as_mut()) };
        guarded(|| self.inner.update(x, m, s, h))
    }
    /// The carried state, to resume from later.
    #[napi]
    pub fn state(&self) -> Uint8Array {
        Uint8Array::new(self.inner.to_bytes())
    }
}

fn stoch_params(k: f64, d: f64) -> Result<StochParams> {
    Ok(StochParams {
        k: bounded("stoch", "k", k, 1)?,
        d: bounded("stoch", "d", d, 1)?,
    })
}

/// Stochastic %K and %D of these bars into `k_out` and `d_out`.
#[napi]
pub fn stoch_into(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    k: f64,
    d: f64,
    mut k_out: Float64Array,
    mut d_out: Float64Array,
) -> napi::Result<()> {
    // SAFETY: as in `macd_into`.
    let (ko, dout) = unsafe { (k_out.as_mut(), d_out.as_mut()) };
    guarded(|| Stoch::new(&stoch_params(k, d)?)?.update(high, low, close, ko, dout))
}

/// The stochastic carried across calls.
#[napi]
pub struct StochStream {
    inner: Stoch,
}

#[napi]
impl StochStream {
    /// A new series, or one continued from `state` (bytes from `state()`).
    #[napi(constructor)]
    pub fn new(k: f64, d: f64, state: Option<&[u8]>) -> napi::Result<Self> {
        guarded(|| {
            let p = stoch_params(k, d)?;
            let inner = match state {
                Some(b) => Stoch::from_bytes(&p, b)?,
                None => Stoch::new(&p)?,
            };
            Ok(StochStream { inner })
        })
    }
    /// The outputs for exactly these bars, into `k` and `d`.
    #[napi]
    pub fn push_into(
        &mut self,
        high: &[f64],
        low: &[f64],
        close: &[f64],
        mut k: Float64Array,
        mut d: Float64Array,
    ) -> napi::Result<()> {
        // SAFETY: as in `macd_into`.
        let (ko, dout) = unsafe { (k.as_mut(), d.as_mut()) };
        guarded(|| self.inner.update(high, low, close, ko, dout))
    }
    /// The carried state, to resume from later.
    #[napi]
    pub fn state(&self) -> Uint8Array {
        Uint8Array::new(self.inner.to_bytes())
    }
}
