//! Adaptive Trend Classification: [`trend`] (crossover state), [`equity`] (the
//! equity of following a signal) and [`layers`] (Layer 1, Layer 2,
//! `Average_Signal` and events). [`AtcParams`] holds every parameter of the spec.
pub mod batch;
pub mod equity;
pub mod fused;
pub mod lanes;
pub mod layers;
pub mod line;
pub mod params;
pub mod shared;
pub mod symbols;
pub mod trend;

pub use batch::{atc_batch, atc_batch_on, BatchPath};
pub use equity::{Equity, EquityParams};
pub use layers::{Atc, Path, COLUMNS, NCOL};
pub use params::{AtcParams, HmaKind, MaType, Robustness};
pub use trend::Trend;
