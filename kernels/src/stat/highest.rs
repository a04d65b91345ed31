//! Highest(L): the max of the last `L` values; first defined at `L-1`. O(1) amortised
//! per bar ([`Extreme`]), the window's storage growing with the bars seen.
use super::deque::Extreme;

/// The max of the last `L` values.
pub type Highest = Extreme<true>;

crate::ma::length_kernel!(Highest, "highest", |len| len - 1);
