//! Sum(L): the sum of the last `L` values; first defined at `L-1`. Runs on
//! [`SumWindow`] (one add per bar, recomputed from the window at each wrap).
use crate::codec::{Dec, Enc};
use crate::ma::window::SumWindow;
use crate::Result;

#[derive(Clone, Debug, Default)]
pub struct Sum {
    w: SumWindow,
}

impl Sum {
    pub fn with_len(len: usize) -> Self {
        Sum {
            w: SumWindow::new(len),
        }
    }
    pub fn length(&self) -> usize {
        self.w.length()
    }
    pub fn bars(&self) -> u64 {
        self.w.seen()
    }
    /// Values allocated (at most the bars seen, rounded up, never above the length).
    pub fn capacity(&self) -> usize {
        self.w.capacity()
    }
    pub fn reserve(&mut self, n: usize) {
        self.w.reserve(n);
    }
    #[inline(always)]
    pub fn step(&mut self, x: f64) -> f64 {
        self.w.push(x);
        if self.w.full() {
            self.w.sum()
        } else {
            f64::NAN
        }
    }
    pub fn save_fields(&self, e: &mut Enc) {
        self.w.save(e);
    }
    pub fn load_fields(len: usize, d: &mut Dec) -> Result<Self> {
        Ok(Sum {
            w: SumWindow::load(len, d)?,
        })
    }
}

crate::ma::length_kernel!(Sum, "sum", |len| len - 1);
