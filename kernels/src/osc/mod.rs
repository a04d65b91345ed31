//! Oscillators and bands, one file each: [`roc`] (one-bar rate of change),
//! [`rsi`] (Wilder's RSI), [`bollinger`] (SMA mid with population-sd bands),
//! [`macd`] (line, signal, histogram) and [`stoch`] (%K, %D).
pub mod bollinger;
pub mod macd;
pub mod roc;
pub mod rsi;
pub mod stoch;

pub use bollinger::{Bollinger, BollingerParams};
pub use macd::{Macd, MacdParams};
pub use roc::Roc;
pub use rsi::Rsi;
pub use stoch::{Stoch, StochParams};
