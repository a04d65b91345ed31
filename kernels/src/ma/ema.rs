//! EMA: `a = 2/(L+1)`, seeded at `L-1` by the SMA of the first `L` values, then
//! `y = a*x + (1-a)*y`. [`EmaCore`] takes any `a` (RMA uses `1/L`) and is reused by
//! DEMA and RSI.
use crate::codec::{Dec, Enc};
use crate::Result;

/// The EMA recurrence with an SMA seed, for any smoothing factor.
#[derive(Clone, Debug, Default)]
pub struct EmaCore {
    len: usize,
    a: f64,
    b: f64,
    seen: u64,
    /// Sum of the first `len` values (the seed), then unused.
    seed: f64,
    y: f64,
}

impl EmaCore {
    pub fn new(len: usize, a: f64) -> Self {
        EmaCore {
            len,
            a,
            b: 1.0 - a,
            seen: 0,
            seed: 0.0,
            y: f64::NAN,
        }
    }
    pub fn length(&self) -> usize {
        self.len
    }
    pub fn bars(&self) -> u64 {
        self.seen
    }
    #[inline(always)]
    pub fn step(&mut self, x: f64) -> f64 {
        let n = self.len as u64;
        if self.seen >= n {
            self.y = self.a * x + self.b * self.y;
        } else {
            self.seed += x;
            if self.seen + 1 == n {
                self.y = self.seed / self.len as f64;
            }
        }
        self.seen += 1;
        self.y
    }
    /// `step` over a whole slice: the warm-up bars one by one, then the recurrence
    /// alone (no counter, no branch; the same operations in the same order).
    #[inline(always)]
    pub fn run(&mut self, x: &[f64], out: &mut [f64]) {
        let warm = (self.len as u64)
            .saturating_sub(self.seen)
            .min(x.len() as u64) as usize;
        for (o, &v) in out[..warm].iter_mut().zip(&x[..warm]) {
            *o = self.step(v);
        }
        let (a, b, mut y) = self.recurrence();
        for (o, &v) in out[warm..].iter_mut().zip(&x[warm..]) {
            y = a * v + b * y;
            *o = y;
        }
        self.settle(y, x.len() - warm);
    }
    /// Whether the seed is in: `step` is then the recurrence alone.
    #[inline(always)]
    pub fn seeded(&self) -> bool {
        self.seen >= self.len as u64
    }
    /// `(a, b, y)` of a seeded core, for a loop that runs the recurrence on locals.
    #[inline(always)]
    pub fn recurrence(&self) -> (f64, f64, f64) {
        (self.a, self.b, self.y)
    }
    /// Stores what such a loop ends with after `n` more bars.
    #[inline(always)]
    pub fn settle(&mut self, y: f64, n: usize) {
        self.y = y;
        self.seen += n as u64;
    }
    pub fn save_fields(&self, e: &mut Enc) {
        e.u64(self.seen);
        e.f64(self.seed);
        e.f64(self.y);
    }
    pub fn load_fields(len: usize, a: f64, d: &mut Dec) -> Result<Self> {
        let mut c = EmaCore::new(len, a);
        c.seen = d.u64()?;
        c.seed = d.f64()?;
        c.y = d.f64()?;
        Ok(c)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Ema(EmaCore);

/// `2/(L+1)`.
pub fn ema_alpha(len: usize) -> f64 {
    2.0 / (len as f64 + 1.0)
}

/// The inherent methods of a moving average that is [`EmaCore`] with a fixed `alpha(len)`
/// (EMA, RMA); [`length_kernel!`](super::length_kernel) builds the kernel on them.
macro_rules! ema_like {
    ($ty:ident, $alpha:ident) => {
        impl $ty {
            pub fn with_len(len: usize) -> Self {
                $ty(EmaCore::new(len, $alpha(len)))
            }
            pub fn length(&self) -> usize {
                self.0.length()
            }
            pub fn bars(&self) -> u64 {
                self.0.bars()
            }
            /// No window: nothing to reserve.
            pub fn reserve(&mut self, _n: usize) {}
            #[inline(always)]
            pub fn step(&mut self, x: f64) -> f64 {
                self.0.step(x)
            }
            pub fn save_fields(&self, e: &mut Enc) {
                self.0.save_fields(e);
            }
            pub fn load_fields(len: usize, d: &mut Dec) -> Result<Self> {
                Ok($ty(EmaCore::load_fields(len, $alpha(len), d)?))
            }
        }
    };
}
pub(crate) use ema_like;

ema_like!(Ema, ema_alpha);

super::length_kernel!(Ema, "ema", |len| len - 1, |k, x, out| k.0.run(x, out));
