//! The per-symbol time budget: the time a sink spends computing one symbol (reading it
//! from DuckDB not counted) is added up slice by slice; once it passes the budget the
//! symbol fails with stage `timeout` and the job goes on with the next symbol.
//!
//! The budget is checked between runs and inside a run every [`SLICE`] bars, so a symbol
//! arriving as one long run is still stopped close to its budget.
use std::time::{Duration, Instant};

/// Bars computed between two checks of the budget inside one run.
pub const SLICE: usize = 65_536;

/// The budget of every symbol of a job (`None`: unlimited).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Budget {
    limit: Option<Duration>,
    /// The limit as given, for messages.
    ms: f64,
}

impl Budget {
    /// No limit.
    pub fn unlimited() -> Budget {
        Budget::default()
    }

    /// A limit of `ms` milliseconds per symbol.
    ///
    /// # Errors
    /// `InvalidParam` unless `ms` is a finite number >= 0.
    pub fn millis(ms: f64) -> crate::Result<Budget> {
        if !(ms.is_finite() && ms >= 0.0) {
            return Err(crate::Error::param(format!(
                "symbolTimeoutMs must be a finite number >= 0, got {ms}"
            )));
        }
        Ok(Budget {
            limit: Some(Duration::from_secs_f64(ms / 1000.0)),
            ms,
        })
    }

    /// A fresh clock for one symbol.
    pub fn clock(&self) -> Clock {
        Clock {
            budget: *self,
            spent: Duration::ZERO,
            bars: 0,
        }
    }
}

/// The time one symbol has used so far.
#[derive(Clone, Debug)]
pub struct Clock {
    budget: Budget,
    spent: Duration,
    /// Bars computed so far.
    bars: u64,
}

impl Clock {
    /// Adds the time since `start` and `bars` computed bars; `Err(message)` once the symbol
    /// has used more than its budget.
    pub fn charge(&mut self, start: Instant, bars: usize) -> Result<(), String> {
        self.spent += start.elapsed();
        self.bars += bars as u64;
        self.check()
    }

    /// `Err(message)` when the symbol has used more than its budget.
    pub fn check(&self) -> Result<(), String> {
        match self.budget.limit {
            Some(limit) if self.spent > limit => Err(format!(
                "exceeded the per-symbol time budget of {} ms (stopped after {} bars, {:.3} ms)",
                self.budget.ms,
                self.bars,
                self.spent.as_secs_f64() * 1000.0
            )),
            _ => Ok(()),
        }
    }
}

/// The slices of `0..n` of at most [`SLICE`] bars.
pub fn slices(n: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    (0..n).step_by(SLICE).map(move |lo| lo..(lo + SLICE).min(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_budget_is_spent_by_any_work_and_an_unlimited_one_never() {
        let mut c = Budget::millis(0.0).unwrap().clock();
        assert!(c.check().is_ok(), "nothing computed yet");
        let t = Instant::now();
        std::hint::black_box((0..1000).sum::<u64>());
        let err = c.charge(t, 1000).unwrap_err();
        assert!(
            err.contains("budget of 0 ms") && err.contains("1000 bars"),
            "{err}"
        );
        let mut u = Budget::unlimited().clock();
        let long_ago = Instant::now().checked_sub(Duration::from_secs(1));
        assert!(u.charge(long_ago.unwrap_or_else(Instant::now), 1).is_ok());
        assert!(Budget::millis(-1.0).is_err() && Budget::millis(f64::NAN).is_err());
    }

    #[test]
    fn slices_cover_the_run_in_order() {
        let s: Vec<_> = slices(2 * SLICE + 5).collect();
        assert_eq!(
            s,
            vec![0..SLICE, SLICE..2 * SLICE, 2 * SLICE..2 * SLICE + 5]
        );
        assert_eq!(slices(0).count(), 0);
    }
}
