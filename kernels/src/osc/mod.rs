//! Oscillators and bands, one file each: [`roc`] (one-bar rate of change),
//! [`rsi`] (Wilder's RSI) and [`bollinger`] (SMA mid with population-sd bands).
pub mod bollinger;
pub mod roc;
pub mod rsi;

pub use bollinger::{Bollinger, BollingerParams};
pub use roc::Roc;
pub use rsi::Rsi;
