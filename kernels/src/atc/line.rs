//! The 9 lines of one ATC type (one moving average at 9 lengths), stepped side by
//! side: bar-major with the 9 independent recurrences interleaved, so their
//! latencies overlap. Each line's arithmetic is exactly its scalar kernel's.
use super::params::{HmaKind, MaType};
use crate::codec::{Dec, Enc};
use crate::ma::{Dema, Ema, Hma, Kama, Lsma, Sma, Step, Wma};
use crate::Result;

#[derive(Clone, Debug)]
pub enum Bank {
    Ema(Vec<Ema>),
    Hull(Vec<Hma>),
    Sma(Vec<Sma>),
    Wma(Vec<Wma>),
    Dema(Vec<Dema>),
    Lsma(Vec<Lsma>),
    Kama(Vec<Kama>),
}

macro_rules! each {
    ($self:expr, $k:ident => $body:expr) => {
        match $self {
            Bank::Ema($k) => $body,
            Bank::Hull($k) => $body,
            Bank::Sma($k) => $body,
            Bank::Wma($k) => $body,
            Bank::Dema($k) => $body,
            Bank::Lsma($k) => $body,
            Bank::Kama($k) => $body,
        }
    };
}

/// A kernel's inherent `step`, forced inline: LLVM leaves [`Step::step`] out of
/// line for the larger kernels (KAMA: a call per bar and line).
trait StepInline: Step {
    fn step_inline(&mut self, x: f64) -> f64;
}

macro_rules! step_inline {
    ($($ty:ty),*) => {$(
        impl StepInline for $ty {
            #[inline(always)]
            fn step_inline(&mut self, x: f64) -> f64 {
                self.step(x)
            }
        }
    )*};
}
step_inline!(Ema, Hma, Sma, Wma, Dema, Lsma, Kama);

/// `out[j*stride + k*step]` = line `k` at bar `j`.
#[inline(always)]
fn run_lines<K: StepInline>(
    lines: &mut [K],
    x: &[f64],
    out: &mut [f64],
    stride: usize,
    step: usize,
) {
    for l in lines.iter_mut() {
        l.reserve(x.len());
    }
    for (j, &v) in x.iter().enumerate() {
        let row = &mut out[j * stride..];
        for (o, l) in row.iter_mut().step_by(step).zip(lines.iter_mut()) {
            *o = l.step_inline(v);
        }
    }
}

impl Bank {
    pub fn new(t: MaType, hma: HmaKind, lens: &[usize]) -> Self {
        match (t, hma) {
            (MaType::Ema, _) => Bank::Ema(lens.iter().map(|&l| Ema::with_len(l)).collect()),
            (MaType::Hma, HmaKind::Hull) => {
                Bank::Hull(lens.iter().map(|&l| Hma::with_len(l)).collect())
            }
            (MaType::Hma, HmaKind::Sma) => {
                Bank::Sma(lens.iter().map(|&l| Sma::with_len(l)).collect())
            }
            (MaType::Wma, _) => Bank::Wma(lens.iter().map(|&l| Wma::with_len(l)).collect()),
            (MaType::Dema, _) => Bank::Dema(lens.iter().map(|&l| Dema::with_len(l)).collect()),
            (MaType::Lsma, _) => Bank::Lsma(lens.iter().map(|&l| Lsma::with_len(l)).collect()),
            (MaType::Kama, _) => Bank::Kama(lens.iter().map(|&l| Kama::with_len(l)).collect()),
        }
    }
    /// Continues every line over `x`: line `k` at bar `j` goes to `out[j*stride + k*step]`.
    #[inline(always)]
    pub fn run(&mut self, x: &[f64], out: &mut [f64], stride: usize, step: usize) {
        each!(self, ls => run_lines(ls, x, out, stride, step))
    }
    pub fn save(&self, e: &mut Enc) {
        each!(self, ls => ls.iter().for_each(|l| l.save_fields(e)))
    }
    pub fn load(t: MaType, hma: HmaKind, lens: &[usize], d: &mut Dec) -> Result<Self> {
        let mut b = Bank::new(t, hma, lens);
        match &mut b {
            Bank::Ema(ls) => {
                for (l, &n) in ls.iter_mut().zip(lens) {
                    *l = Ema::load_fields(n, d)?
                }
            }
            Bank::Hull(ls) => {
                for (l, &n) in ls.iter_mut().zip(lens) {
                    *l = Hma::load_fields(n, d)?
                }
            }
            Bank::Sma(ls) => {
                for (l, &n) in ls.iter_mut().zip(lens) {
                    *l = Sma::load_fields(n, d)?
                }
            }
            Bank::Wma(ls) => {
                for (l, &n) in ls.iter_mut().zip(lens) {
                    *l = Wma::load_fields(n, d)?
                }
            }
            Bank::Dema(ls) => {
                for (l, &n) in ls.iter_mut().zip(lens) {
                    *l = Dema::load_fields(n, d)?
                }
            }
            Bank::Lsma(ls) => {
                for (l, &n) in ls.iter_mut().zip(lens) {
                    *l = Lsma::load_fields(n, d)?
                }
            }
            Bank::Kama(ls) => {
                for (l, &n) in ls.iter_mut().zip(lens) {
                    *l = Kama::load_fields(n, d)?
                }
            }
        }
        Ok(b)
    }
}
