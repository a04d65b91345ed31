//! ROC: `R[i] = (x[i]-x[i-1])/x[i-1]`, `R[0] = NaN`. Inputs must be > 0.
use crate::codec::{Dec, Enc};
use crate::kernel::Kernel;
use crate::Result;

#[derive(Clone, Debug, Default)]
pub struct Roc {
    seen: u64,
    prev: f64,
}

impl Roc {
    #[inline(always)]
    pub fn step(&mut self, x: f64) -> f64 {
        let r = if self.seen == 0 {
            f64::NAN
        } else {
            (x - self.prev) / self.prev
        };
        self.prev = x;
        self.seen += 1;
        r
    }
}

impl Kernel for Roc {
    type Params = ();
    const NAME: &'static str = "roc";
    const POSITIVE: bool = true;
    fn new(_: &()) -> Result<Self> {
        Ok(Roc::default())
    }
    fn first_defined(_: &()) -> usize {
        1
    }
    fn seen(&self) -> u64 {
        self.seen
    }
    fn run(&mut self, x: &[f64], out: &mut [f64]) {
        for (o, &v) in out.iter_mut().zip(x) {
            *o = self.step(v);
        }
    }
    fn save(&self, e: &mut Enc) {
        e.u64(self.seen);
        e.f64(self.prev);
    }
    fn load(_: &(), d: &mut Dec) -> Result<Self> {
        Ok(Roc {
            seen: d.u64()?,
            prev: d.f64()?,
        })
    }
}
