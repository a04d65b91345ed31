//! Equity of following a signal `s` one bar late (`eq(start, s, R; la, de, cutout)`):
//! NaN before `cutout`; `start` at `cutout`; then `e = e[i-1]*(1-de)*(1+a)` where
//! `a` is `+-R[i]*exp(la*(i-cutout))` by the sign of `s[i-1]` (0 when `s[i-1]` is
//! NaN or 0 or `R[i]` is NaN); every defined value is floored at 0.25.
//! `lambda` and `decay` are in user units: `la = lambda/1000`, `de = decay/100`.
use crate::codec::{Dec, Enc};
use crate::kernel::{check_not_infinite, check_out, range_message, MAX_LENGTH};
use crate::{Error, Result};

const NAME: &str = "equity";
const FLOOR: f64 = 0.25;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EquityParams {
    pub start: f64,
    /// User units (`la = lambda/1000`).
    pub lambda: f64,
    /// Percent (`de = decay/100`).
    pub decay: f64,
    pub cutout: i64,
}

/// # Errors
/// `InvalidParam` naming `name` when `v` is not finite.
pub(crate) fn check_finite(kernel: &str, name: &str, v: f64) -> Result<()> {
    if !v.is_finite() {
        return Err(Error::param(format!(
            "{kernel}: {name} must be finite, got {v}"
        )));
    }
    Ok(())
}

/// The accepted `lambda` (user units, `la = lambda/1000` per bar) and `decay` (percent per
/// bar): beyond them the equity overflows or goes negative (same ranges as the CLI's).
pub const LAMBDA_RANGE: (f64, f64) = (0.0, 1.0);
pub const DECAY_RANGE: (f64, f64) = (0.0, 100.0);

/// # Errors
/// `InvalidParam` naming `name` and the range when `v` is not a number in `[lo, hi]`.
pub(crate) fn check_in(kernel: &str, name: &str, v: f64, (lo, hi): (f64, f64)) -> Result<()> {
    if !(v >= lo && v <= hi) {
        let shown = if v.is_finite() && v.abs() >= 1e9 {
            format!("{v:e}")
        } else {
            format!("{v}")
        };
        return Err(Error::param(format!(
            "{kernel}: {name} must be a number from {lo} to {hi}, got {shown}"
        )));
    }
    Ok(())
}

/// # Errors
/// `InvalidParam` unless `0 <= cutout <= MAX_LENGTH`.
pub(crate) fn check_cutout(kernel: &str, cutout: i64) -> Result<u64> {
    match u64::try_from(cutout) {
        Ok(c) if c <= MAX_LENGTH as u64 => Ok(c),
        _ => Err(range_message(kernel, "cutout", 0, cutout)),
    }
}

#[derive(Clone, Debug)]
pub struct Equity {
    p: EquityParams,
    la: f64,
    keep: f64,
    cutout: u64,
    n: u64,
    prev_s: f64,
    e: f64,
}

impl Equity {
    /// # Errors
    /// `InvalidParam` when `start`, `lambda` or `decay` is not finite or `cutout` is
    /// outside `0..=MAX_LENGTH`.
    pub fn new(p: &EquityParams) -> Result<Self> {
        check_finite(NAME, "start", p.start)?;
        check_in(NAME, "lambda", p.lambda, LAMBDA_RANGE)?;
        check_in(NAME, "decay", p.decay, DECAY_RANGE)?;
        let cutout = check_cutout(NAME, p.cutout)?;
        Ok(Equity {
            p: *p,
            la: p.lambda / 1000.0,
            keep: 1.0 - p.decay / 100.0,
            cutout,
            n: 0,
            prev_s: f64::NAN,
            e: f64::NAN,
        })
    }
    pub fn first_defined(p: &EquityParams) -> usize {
        p.cutout.max(0) as usize
    }
    pub fn bars(&self) -> u64 {
        self.n
    }
    /// `R[i]*exp(la*(i-cutout))`, the return at bar `i` as the equity uses it
    /// (only read for `i > cutout`).
    #[inline]
    pub fn scaled_return(la: f64, cutout: u64, i: u64, r: f64) -> f64 {
        if i > cutout {
            r * (la * (i - cutout) as f64).exp()
        } else {
            r
        }
    }
    /// The next bar given the signal `s[i]` and the already scaled return `rr[i]`.
    #[inline(always)]
    pub fn step_scaled(&mut self, s: f64, rr: f64) -> f64 {
        let i = self.n;
        self.n += 1;
        let e = if i < self.cutout {
            f64::NAN
        } else if i == self.cutout {
            self.p.start.max(FLOOR)
        } else {
            let ps = self.prev_s;
            let a = if ps.is_nan() || ps == 0.0 || rr.is_nan() {
                0.0
            } else if ps > 0.0 {
                rr
            } else {
                -rr
            };
            (self.e * self.keep * (1.0 + a)).max(FLOOR)
        };
        self.e = e;
        self.prev_s = s;
        e
    }
    /// Continues the series with the signal `s` and the one-bar returns `roc`
    /// (both may hold NaN as the spec defines).
    ///
    /// # Errors
    /// `BadInput` naming the index of an infinite value; `InvalidParam` when lengths differ.
    pub fn update(&mut self, s: &[f64], roc: &[f64], out: &mut [f64]) -> Result<()> {
        check_out(s.len(), roc.len())?;
        check_out(s.len(), out.len())?;
        check_not_infinite("signal", s, self.n)?;
        check_not_infinite("roc", roc, self.n)?;
        for ((o, &a), &r) in out.iter_mut().zip(s).zip(roc) {
            let rr = Equity::scaled_return(self.la, self.cutout, self.n, r);
            *o = self.step_scaled(a, rr);
        }
        Ok(())
    }
    pub fn save_fields(&self, e: &mut Enc) {
        e.u64(self.n);
        e.f64(self.prev_s);
        e.f64(self.e);
    }
    pub fn load_fields(p: &EquityParams, d: &mut Dec) -> Result<Self> {
        let mut q = Equity::new(p)?;
        q.n = d.u64()?;
        q.prev_s = d.f64()?;
        q.e = d.f64()?;
        Ok(q)
    }
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Enc::new(NAME);
        e.f64(self.p.start);
        e.f64(self.p.lambda);
        e.f64(self.p.decay);
        e.i64(self.p.cutout);
        self.save_fields(&mut e);
        e.bytes
    }
    /// # Errors
    /// `InvalidParam` when the bytes were not saved by an equity with `p`.
    pub fn from_bytes(p: &EquityParams, bytes: &[u8]) -> Result<Self> {
        let mut d = Dec::new(bytes, NAME)?;
        d.expect_f64("start", p.start)?;
        d.expect_f64("lambda", p.lambda)?;
        d.expect_f64("decay", p.decay)?;
        d.expect_u64("cutout", p.cutout as u64)?;
        let q = Equity::load_fields(p, &mut d)?;
        d.finish()?;
        Ok(q)
    }
}
