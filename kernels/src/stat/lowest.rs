//! Lowest(L): the min of the last `L` values; first defined at `L-1`. O(1) amortised
//! per bar ([`Extreme`]), the window's storage growing with the bars seen.
use super::deque::Extreme;

/// The min of the last `L` values.
pub type Lowest = Extreme<false>;

crate::ma::length_kernel!(Lowest, "lowest", |len| len - 1);
