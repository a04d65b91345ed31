//! RMA (Wilder): the EMA recurrence with `a = 1/L`; first defined at `L-1`.
use super::ema::EmaCore;
use crate::codec::{Dec, Enc};
use crate::Result;

#[derive(Clone, Debug, Default)]
pub struct Rma(EmaCore);

/// `1/L`.
pub fn rma_alpha(len: usize) -> f64 {
    1.0 / len as f64
}

impl Rma {
    pub fn with_len(len: usize) -> Self {
        Rma(EmaCore::new(len, rma_alpha(len)))
    }
    pub fn length(&self) -> usize {
        self.0.length()
    }
    pub fn bars(&self) -> u64 {
        self.0.bars()
    }
    #[inline(always)]
    pub fn step(&mut self, x: f64) -> f64 {
        self.0.step(x)
    }
    pub fn save_fields(&self, e: &mut Enc) {
        self.0.save_fields(e);
    }
    pub fn load_fields(len: usize, d: &mut Dec) -> Result<Self> {
        Ok(Rma(EmaCore::load_fields(len, rma_alpha(len), d)?))
    }
}

super::length_kernel!(Rma, "rma", |len| len - 1, |k, x, out| k.0.run(x, out));
