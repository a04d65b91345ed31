//! Volatility of bars, one file each: [`true_range`] and [`atr`] (Wilder's average
//! true range). Both read `high`, `low` and `close`, each series finite and all of one
//! length, and carry their state across chunks like the single-input kernels.
pub mod atr;
pub mod true_range;

pub use atr::Atr;
pub use true_range::TrueRange;
