//! Window statistics, one file each: [`stdev`] (population standard deviation),
//! [`highest`], [`lowest`] (max and min, O(1) amortised by a monotonic deque) and
//! [`sum`].
//!
//! Each is a [`Kernel`](crate::kernel::Kernel) with `Params = usize` (the length, at
//! least 1), first defined at `L-1`, and a per-bar [`Step`](crate::ma::Step) that
//! composite kernels and the formula evaluator reuse (reserve before stepping).
//! Windows grow with the bars seen: a long length over a short series stays small.
pub mod deque;
pub mod highest;
pub mod lowest;
pub mod stdev;
pub mod sum;

pub use highest::Highest;
pub use lowest::Lowest;
pub use stdev::Stdev;
pub use sum::Sum;
