//! MACD(f, s, g): `macd = ema(x, f) - ema(x, s)` (first defined at `max(f, s) - 1`);
//! `signal` = EMA(g) over the defined macd values only, seeded by their first `g`
//! (first defined at `max(f, s) - 1 + g - 1`); `hist = macd - signal`. Pine's `ta.macd`.
use crate::codec::{decode, encode};
use crate::kernel::{check_length, check_out, check_prices};
use crate::ma::ema::ema_alpha;
use crate::ma::EmaCore;
use crate::Result;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MacdParams {
    pub fast: usize,
    pub slow: usize,
    pub signal: usize,
}

impl Default for MacdParams {
    /// 12, 26, 9.
    fn default() -> Self {
        MacdParams {
            fast: 12,
            slow: 26,
            signal: 9,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Macd {
    p: MacdParams,
    fast: EmaCore,
    slow: EmaCore,
    signal: EmaCore,
}

const NAME: &str = "macd";

fn ema(len: usize) -> EmaCore {
    EmaCore::new(len, ema_alpha(len))
}

impl Macd {
    /// # Errors
    /// `InvalidParam` naming `fast`, `slow` or `signal` unless each is from 1 to `MAX_LENGTH`.
    pub fn new(p: &MacdParams) -> Result<Self> {
        check_length(NAME, "fast", p.fast)?;
        check_length(NAME, "slow", p.slow)?;
        check_length(NAME, "signal", p.signal)?;
        Ok(Macd {
            p: *p,
            fast: ema(p.fast),
            slow: ema(p.slow),
            signal: ema(p.signal),
        })
    }
    pub fn params(&self) -> MacdParams {
        self.p
    }
    /// Bars consumed so far (the global index of the next bar).
    pub fn seen(&self) -> u64 {
        self.fast.bars()
    }
    /// `(macd, signal, hist)` at the next bar, without checks.
    #[inline(always)]
    pub fn step(&mut self, x: f64) -> (f64, f64, f64) {
        let f = self.fast.step(x);
        let s = self.slow.step(x);
        let m = f - s;
        if m.is_nan() {
            return (m, m, m);
        }
        let g = self.signal.step(m);
        (m, g, m - g)
    }
    /// Continues the series; `macd`, `signal`, `hist` each get one value per input.
    ///
    /// # Errors
    /// `BadInput` naming the index of a non-finite input; `InvalidParam` on a buffer whose
    /// length differs from `x`'s. On error the state is unchanged.
    pub fn update(
        &mut self,
        x: &[f64],
        macd: &mut [f64],
        signal: &mut [f64],
        hist: &mut [f64],
    ) -> Result<()> {
        for o in [&*macd, &*signal, &*hist] {
            check_out(x.len(), o.len())?;
        }
        check_prices(x, self.seen(), false)?;
        for (i, &v) in x.iter().enumerate() {
            (macd[i], signal[i], hist[i]) = self.step(v);
        }
        Ok(())
    }
    /// The carried state as bytes (tag, parameters, values).
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(NAME, |e| {
            e.usize(self.p.fast);
            e.usize(self.p.slow);
            e.usize(self.p.signal);
            self.fast.save_fields(e);
            self.slow.save_fields(e);
            self.signal.save_fields(e);
        })
    }
    /// # Errors
    /// `InvalidParam` when the bytes were not saved by MACD with `p`.
    pub fn from_bytes(p: &MacdParams, bytes: &[u8]) -> Result<Self> {
        let mut m = Macd::new(p)?;
        decode(bytes, NAME, |d| {
            d.expect_u64("fast", p.fast as u64)?;
            d.expect_u64("slow", p.slow as u64)?;
            d.expect_u64("signal", p.signal as u64)?;
            m.fast = EmaCore::load_fields(p.fast, ema_alpha(p.fast), d)?;
            m.slow = EmaCore::load_fields(p.slow, ema_alpha(p.slow), d)?;
            m.signal = EmaCore::load_fields(p.signal, ema_alpha(p.signal), d)?;
            Ok(m)
        })
    }
}
