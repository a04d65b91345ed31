//! Bar-based functions that carry state from block to block: lookbacks `x[n]`, the
//! crossings, `barssince`, `valuewhen`, `count` and `state`. They count bars, defined
//! or not, and never skip. Their storage grows with the bars seen (a lookback of
//! 1,000,000 over 100 bars holds 100 values).
use crate::codec::{Dec, Enc};
use crate::{Error, Result};
use std::collections::VecDeque;

const NAN: f64 = f64::NAN;

fn bad(what: &str) -> Error {
    Error::param(format!("state: {what} does not match the formula"))
}

/// `x[n]`: the last `n` values.
#[derive(Clone, Debug)]
pub struct Lookback {
    n: usize,
    hist: VecDeque<f64>,
}

impl Lookback {
    pub fn new(n: u32) -> Self {
        Lookback {
            n: n as usize,
            hist: VecDeque::new(),
        }
    }
    pub fn run(&mut self, x: &[f64], out: &mut [f64]) {
        let (n, nb, h) = (self.n, x.len(), self.hist.len());
        let head = n.min(nb);
        for (j, o) in out[..head].iter_mut().enumerate() {
            let back = n - j;
            *o = if back <= h { self.hist[h - back] } else { NAN };
        }
        if nb > n {
            out[n..].copy_from_slice(&x[..nb - n]);
        }
        if nb >= n {
            self.hist.clear();
            self.hist.extend(&x[nb - n..]);
        } else {
            let drop = (h + nb).saturating_sub(n);
            self.hist.drain(..drop);
            self.hist.extend(x);
        }
    }
    pub fn save(&self, e: &mut Enc) {
        e.usize(self.hist.len());
        self.hist.iter().for_each(|&v| e.f64(v));
    }
    pub fn load(n: u32, seen: u64, d: &mut Dec) -> Result<Self> {
        let mut l = Lookback::new(n);
        let v = d.f64s_upto(l.n)?;
        if v.len() as u64 != seen.min(l.n as u64) {
            return Err(bad("a lookback"));
        }
        l.hist = v.into();
        Ok(l)
    }
}

/// `crosses_above` (`up`) or `crosses_below`: the previous values of both operands.
#[derive(Clone, Debug)]
pub struct Cross {
    pa: f64,
    pb: f64,
}

impl Default for Cross {
    fn default() -> Self {
        Cross { pa: NAN, pb: NAN }
    }
}

impl Cross {
    pub fn run(&mut self, up: bool, a: &[f64], b: &[f64], out: &mut [f64]) {
        let (mut pa, mut pb) = (self.pa, self.pb);
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o = if x.is_nan() || y.is_nan() || pa.is_nan() || pb.is_nan() {
                NAN
            } else if up {
                f64::from(u8::from(x > y && pa <= pb))
            } else {
                f64::from(u8::from(x < y && pa >= pb))
            };
            (pa, pb) = (x, y);
        }
        (self.pa, self.pb) = (pa, pb);
    }
    pub fn save(&self, e: &mut Enc) {
        e.f64(self.pa);
        e.f64(self.pb);
    }
    pub fn load(d: &mut Dec) -> Result<Self> {
        Ok(Cross {
            pa: d.f64()?,
            pb: d.f64()?,
        })
    }
}

/// `barssince(c)`: the index of the latest true bar (NaN before the first).
#[derive(Clone, Debug)]
pub struct BarsSince {
    last: f64,
}

impl Default for BarsSince {
    fn default() -> Self {
        BarsSince { last: NAN }
    }
}

impl BarsSince {
    pub fn run(&mut self, base: u64, c: &[f64], out: &mut [f64]) {
        for (j, (o, &v)) in out.iter_mut().zip(c).enumerate() {
            let i = (base + j as u64) as f64;
            if v == 1.0 {
                self.last = i;
            }
            *o = i - self.last;
        }
    }
    pub fn save(&self, e: &mut Enc) {
        e.f64(self.last);
    }
    pub fn load(d: &mut Dec) -> Result<Self> {
        Ok(BarsSince { last: d.f64()? })
    }
}

/// `valuewhen(c, x, k)`: `x` at the last `k+1` true bars.
#[derive(Clone, Debug)]
pub struct ValueWhen {
    k: usize,
    at: VecDeque<f64>,
}

impl ValueWhen {
    pub fn new(k: u32) -> Self {
        ValueWhen {
            k: k as usize,
            at: VecDeque::new(),
        }
    }
    pub fn run(&mut self, c: &[f64], x: &[f64], out: &mut [f64]) {
        for ((o, &c), &v) in out.iter_mut().zip(c).zip(x) {
            if c == 1.0 {
                if self.at.len() > self.k {
                    self.at.pop_front();
                }
                self.at.push_back(v);
            }
            *o = if self.at.len() > self.k {
                self.at[self.at.len() - 1 - self.k]
            } else {
                NAN
            };
        }
    }
    pub fn save(&self, e: &mut Enc) {
        e.usize(self.at.len());
        self.at.iter().for_each(|&v| e.f64(v));
    }
    pub fn load(k: u32, d: &mut Dec) -> Result<Self> {
        let mut w = ValueWhen::new(k);
        w.at = d.f64s_upto(w.k + 1)?.into();
        Ok(w)
    }
}

/// `count(c, n)`: the last `n` bars as true or not, and how many are true.
#[derive(Clone, Debug)]
pub struct Count {
    n: usize,
    bits: VecDeque<bool>,
    trues: u64,
}

impl Count {
    pub fn new(n: u32) -> Self {
        Count {
            n: n as usize,
            bits: VecDeque::new(),
            trues: 0,
        }
    }
    pub fn run(&mut self, base: u64, c: &[f64], out: &mut [f64]) {
        for (j, (o, &v)) in out.iter_mut().zip(c).enumerate() {
            let t = v == 1.0;
            if self.bits.len() == self.n && self.bits.pop_front() == Some(true) {
                self.trues -= 1;
            }
            self.bits.push_back(t);
            self.trues += u64::from(t);
            *o = if base + (j as u64) + 1 < self.n as u64 {
                NAN
            } else {
                self.trues as f64
            };
        }
    }
    pub fn save(&self, e: &mut Enc) {
        e.usize(self.bits.len());
        for w in self.bits.iter().collect::<Vec<_>>().chunks(64) {
            let word = w
                .iter()
                .enumerate()
                .fold(0u64, |acc, (i, &&b)| acc | (u64::from(b) << i));
            e.u64(word);
        }
    }
    pub fn load(n: u32, seen: u64, d: &mut Dec) -> Result<Self> {
        let mut c = Count::new(n);
        let len = d.usize()?;
        if len as u64 != seen.min(c.n as u64) {
            return Err(bad("a count"));
        }
        for w in 0..len.div_ceil(64) {
            let word = d.u64()?;
            for i in 0..(len - w * 64).min(64) {
                let b = word >> i & 1 == 1;
                c.bits.push_back(b);
                c.trues += u64::from(b);
            }
        }
        Ok(c)
    }
}

/// `state(up, down)`: starts at 0, +1 on up alone, -1 on down alone.
#[derive(Clone, Debug, Default)]
pub struct State {
    s: f64,
}

impl State {
    pub fn run(&mut self, up: &[f64], down: &[f64], out: &mut [f64]) {
        for ((o, &u), &d) in out.iter_mut().zip(up).zip(down) {
            let (u, d) = (u == 1.0, d == 1.0);
            if u && !d {
                self.s = 1.0;
            } else if d && !u {
                self.s = -1.0;
            }
            *o = self.s;
        }
    }
    pub fn save(&self, e: &mut Enc) {
        e.f64(self.s);
    }
    pub fn load(d: &mut Dec) -> Result<Self> {
        Ok(State { s: d.f64()? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookback_across_blocks() {
        let x: Vec<f64> = (0..10).map(f64::from).collect();
        for n in [1u32, 2, 3, 7, 12] {
            let mut l = Lookback::new(n);
            let mut out = [0.0; 10];
            l.run(&x[..4], &mut out[..4]);
            l.run(&x[4..5], &mut out[4..5]);
            l.run(&x[5..], &mut out[5..]);
            for i in 0..10 {
                let want = if i >= n as usize {
                    x[i - n as usize]
                } else {
                    NAN
                };
                assert_eq!(out[i].to_bits(), want.to_bits(), "n {n} i {i}");
            }
        }
    }
}
