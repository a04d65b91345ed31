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

super::ema::ema_like!(Rma, rma_alpha);

super::length_kernel!(Rma, "rma", |len| len - 1, |k, x, out| k.0.run(x, out));
