//! Trend state of `x` against a line `m` (Pine `var int sig = 0` with
//! `ta.crossover`/`ta.crossunder`): starts at 0; at `i >= 1`, when `m[i]` and
//! `m[i-1]` are both defined, a cross over sets +1, a cross under sets -1;
//! otherwise the state is held. Defined from index 0.
use crate::codec::{decode, encode, Dec, Enc};
use crate::kernel::{check_not_infinite, check_out, check_prices};
use crate::Result;

const NAME: &str = "trend_state";

#[derive(Clone, Debug)]
pub struct Trend {
    n: u64,
    px: f64,
    pm: f64,
    sig: f64,
}

impl Default for Trend {
    fn default() -> Self {
        Trend {
            n: 0,
            px: f64::NAN,
            pm: f64::NAN,
            sig: 0.0,
        }
    }
}

impl Trend {
    pub fn new() -> Self {
        Trend::default()
    }
    pub fn bars(&self) -> u64 {
        self.n
    }
    #[inline(always)]
    pub fn step(&mut self, x: f64, m: f64) -> f64 {
        // NaN compares false, so an undefined m or previous m holds the state (and at
        // i = 0 the previous values are NaN).
        if x > m && self.px <= self.pm {
            self.sig = 1.0;
        } else if x < m && self.px >= self.pm {
            self.sig = -1.0;
        }
        self.px = x;
        self.pm = m;
        self.n += 1;
        self.sig
    }
    /// Continues without checks.
    #[inline]
    pub fn run(&mut self, x: &[f64], m: &[f64], out: &mut [f64]) {
        for ((o, &a), &b) in out.iter_mut().zip(x).zip(m) {
            *o = self.step(a, b);
        }
    }
    /// Continues the series: `x` the prices, `line` the line (NaN = not defined).
    ///
    /// # Errors
    /// `BadInput` naming the index of a non-finite price or an infinite line value;
    /// `InvalidParam` when the lengths differ.
    pub fn update(&mut self, x: &[f64], line: &[f64], out: &mut [f64]) -> Result<()> {
        check_out(x.len(), line.len())?;
        check_out(x.len(), out.len())?;
        check_prices(x, self.n, false)?;
        check_not_infinite("line", line, self.n)?;
        self.run(x, line, out);
        Ok(())
    }
    pub fn save_fields(&self, e: &mut Enc) {
        e.u64(self.n);
        e.f64(self.px);
        e.f64(self.pm);
        e.f64(self.sig);
    }
    pub fn load_fields(d: &mut Dec) -> Result<Self> {
        Ok(Trend {
            n: d.u64()?,
            px: d.f64()?,
            pm: d.f64()?,
            sig: d.f64()?,
        })
    }
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(NAME, |e| self.save_fields(e))
    }
    /// # Errors
    /// `InvalidParam` when the bytes were not saved by a trend state.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        decode(bytes, NAME, Trend::load_fields)
    }
}
