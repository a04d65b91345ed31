//! Oscillators and bands with several outputs: `bollingerInto(x, length, k, mid, upper,
//! lower)` and `BollingerStream`; MACD (`macdInto`, `MacdStream`) and the stochastic (`stochInto`,
//! `StochStream`), whose outputs go into buffers the caller allocated on the JS heap (see
//! [`super::kernel_binding`]).
//! (RSI and ROC are single-input kernels: see `ma.rs`.)
use super::guarded;
use super::kernel_binding::kernel_binding;
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

kernel_binding! {
    /// MACD line, signal and histogram of `x` into `macd`, `signal_out`, `hist`.
    fn macd_into;
    /// MACD carried across calls.
    class MacdStream: Macd;
    in (x); params (fast, slow, signal) => macd_params(fast, slow, signal)?;
    out (macd, signal_out, hist);
    new Macd::new;
    resume Macd::from_bytes;
}

fn stoch_params(k: f64, d: f64) -> Result<StochParams> {
    Ok(StochParams {
        k: bounded("stoch", "k", k, 1)?,
        d: bounded("stoch", "d", d, 1)?,
    })
}

kernel_binding! {
    /// Stochastic %K and %D of these bars into `k_out` and `d_out`.
    fn stoch_into;
    /// The stochastic carried across calls.
    class StochStream: Stoch;
    in (high, low, close); params (k, d) => stoch_params(k, d)?;
    out (k_out, d_out);
    new Stoch::new;
    resume Stoch::from_bytes;
}
