//! Kernels of bars (`high`, `low`, `close`): true range and ATR over a whole series
//! (`trueRangeInto`, `atrInto`) and as streams (`TrueRangeStream`, `AtrStream`); see
//! [`super::kernel_binding`].
use super::kernel_binding::kernel_binding;
use super::ma::to_len;
use crate::vol::{Atr, TrueRange};
use crate::Result;

kernel_binding! {
    /// The true range of these bars into `out`.
    fn true_range_into;
    /// The true range carried across calls.
    class TrueRangeStream: TrueRange;
    in (high, low, close); params () => ();
    out (out);
    new |_: &()| Result::Ok(TrueRange::new());
    resume |_: &(), b| TrueRange::from_bytes(b);
}

kernel_binding! {
    /// The ATR of these bars into `out`.
    fn atr_into;
    /// The ATR carried across calls.
    class AtrStream: Atr;
    in (high, low, close); params (length) => to_len("atr", length)?;
    out (out);
    new Atr::new;
    resume Atr::from_bytes;
}
