//! One ATC line: the moving average of one type at one length.
use super::params::{HmaKind, MaType};
use crate::codec::{Dec, Enc};
use crate::ma::{Dema, Ema, Hma, Kama, Lsma, Sma, Wma};
use crate::Result;

#[derive(Clone, Debug)]
pub enum Line {
    Ema(Ema),
    Hull(Hma),
    Sma(Sma),
    Wma(Wma),
    Dema(Dema),
    Lsma(Lsma),
    Kama(Kama),
}

macro_rules! each {
    ($self:expr, $k:ident => $body:expr) => {
        match $self {
            Line::Ema($k) => $body,
            Line::Hull($k) => $body,
            Line::Sma($k) => $body,
            Line::Wma($k) => $body,
            Line::Dema($k) => $body,
            Line::Lsma($k) => $body,
            Line::Kama($k) => $body,
        }
    };
}

impl Line {
    pub fn new(t: MaType, hma: HmaKind, len: usize) -> Self {
        match (t, hma) {
            (MaType::Ema, _) => Line::Ema(Ema::with_len(len)),
            (MaType::Hma, HmaKind::Hull) => Line::Hull(Hma::with_len(len)),
            (MaType::Hma, HmaKind::Sma) => Line::Sma(Sma::with_len(len)),
            (MaType::Wma, _) => Line::Wma(Wma::with_len(len)),
            (MaType::Dema, _) => Line::Dema(Dema::with_len(len)),
            (MaType::Lsma, _) => Line::Lsma(Lsma::with_len(len)),
            (MaType::Kama, _) => Line::Kama(Kama::with_len(len)),
        }
    }
    /// Continues the line over `x` (one dispatch per chunk, not per bar).
    pub fn run(&mut self, x: &[f64], out: &mut [f64]) {
        each!(self, k => for (o, &v) in out.iter_mut().zip(x) {
            *o = k.step(v);
        })
    }
    pub fn save(&self, e: &mut Enc) {
        each!(self, k => k.save_fields(e))
    }
    pub fn load(t: MaType, hma: HmaKind, len: usize, d: &mut Dec) -> Result<Self> {
        Ok(match Line::new(t, hma, len) {
            Line::Ema(_) => Line::Ema(Ema::load_fields(len, d)?),
            Line::Hull(_) => Line::Hull(Hma::load_fields(len, d)?),
            Line::Sma(_) => Line::Sma(Sma::load_fields(len, d)?),
            Line::Wma(_) => Line::Wma(Wma::load_fields(len, d)?),
            Line::Dema(_) => Line::Dema(Dema::load_fields(len, d)?),
            Line::Lsma(_) => Line::Lsma(Lsma::load_fields(len, d)?),
            Line::Kama(_) => Line::Kama(Kama::load_fields(len, d)?),
        })
    }
}
