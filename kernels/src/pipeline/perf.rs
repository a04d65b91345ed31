//! Per-symbol performance of a strategy return series, accumulated bar by bar:
//! total return, CAGR, volatility, Sharpe, max drawdown, trades, win rate, exposure.

use crate::codec::{Dec, Enc};
use crate::error::Result;

/// Seconds in an average year, for annualising from timestamps.
const YEAR_US: f64 = 365.25 * 86_400.0 * 1e6;

#[derive(Default, Clone, Debug)]
pub struct Perf {
    bars: u64,
    first_ts: i64,
    last_ts: i64,
    equity: f64,
    peak: f64,
    max_dd: f64,
    // Welford over the returns of bars 1.. (bar 0 has none).
    n: u64,
    mean: f64,
    m2: f64,
    exposed: u64,
    trades: u64,
    wins: u64,
    entry_equity: f64,
    pos: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PerfSummary {
    pub first_ts: i64,
    pub last_ts: i64,
    pub bars: u64,
    pub total_return: f64,
    pub cagr: f64,
    pub volatility: f64,
    pub sharpe: f64,
    pub max_drawdown: f64,
    pub trades: u64,
    pub win_rate: f64,
    pub exposure: f64,
}

impl Perf {
    /// The accumulators, to continue later with [`Perf::load`] exactly where they stopped.
    pub fn save(&self, e: &mut Enc) {
        for v in [self.bars, self.n, self.exposed, self.trades, self.wins] {
            e.u64(v);
        }
        e.i64(self.first_ts);
        e.i64(self.last_ts);
        for v in [
            self.equity,
            self.peak,
            self.max_dd,
            self.mean,
            self.m2,
            self.entry_equity,
            self.pos,
        ] {
            e.f64(v);
        }
    }

    /// # Errors
    /// `InvalidParam` on truncated bytes.
    pub fn load(d: &mut Dec<'_>) -> Result<Self> {
        let [bars, n, exposed, trades, wins] = [d.u64()?, d.u64()?, d.u64()?, d.u64()?, d.u64()?];
        let (first_ts, last_ts) = (d.i64()?, d.i64()?);
        let [equity, peak, max_dd, mean, m2, entry_equity, pos] = [
            d.f64()?,
            d.f64()?,
            d.f64()?,
            d.f64()?,
            d.f64()?,
            d.f64()?,
            d.f64()?,
        ];
        Ok(Perf {
            bars,
            first_ts,
            last_ts,
            equity,
            peak,
            max_dd,
            n,
            mean,
            m2,
            exposed,
            trades,
            wins,
            entry_equity,
            pos,
        })
    }

    /// The last bar's timestamp.
    pub fn last_ts(&self) -> i64 {
        self.last_ts
    }

    pub fn new() -> Self {
        Perf {
            equity: 1.0,
            peak: 1.0,
            ..Default::default()
        }
    }

    /// One bar: its timestamp, the position held after its close, and the strategy return
    /// earned over it (by the position held before); returns the equity after it.
    pub fn bar(&mut self, ts: i64, pos: f64, ret: f64) -> f64 {
        if self.bars == 0 {
            self.first_ts = ts;
        } else {
            self.n += 1;
            let d = ret - self.mean;
            self.mean += d / self.n as f64;
            self.m2 += d * (ret - self.mean);
        }
        self.bars += 1;
        self.last_ts = ts;
        self.equity *= 1.0 + ret;
        self.peak = self.peak.max(self.equity);
        self.max_dd = self.max_dd.max(1.0 - self.equity / self.peak);
        if pos != self.pos {
            if self.pos != 0.0 {
                self.close_trade();
            }
            if pos != 0.0 {
                self.trades += 1;
                self.entry_equity = self.equity;
            }
            self.pos = pos;
        }
        if pos != 0.0 {
            self.exposed += 1;
        }
        self.equity
    }

    fn close_trade(&mut self) {
        if self.equity > self.entry_equity {
            self.wins += 1;
        }
    }

    /// The summary; an open trade is marked to market at the last bar.
    pub fn summary(&self) -> PerfSummary {
        let mut wins = self.wins;
        if self.pos != 0.0 && self.equity > self.entry_equity {
            wins += 1;
        }
        let years = (self.last_ts - self.first_ts) as f64 / YEAR_US;
        let per_year = if years > 0.0 {
            self.n as f64 / years
        } else {
            f64::NAN
        };
        let sd = if self.n > 1 {
            (self.m2 / (self.n - 1) as f64).sqrt()
        } else {
            f64::NAN
        };
        PerfSummary {
            first_ts: self.first_ts,
            last_ts: self.last_ts,
            bars: self.bars,
            total_return: self.equity - 1.0,
            cagr: if years > 0.0 && self.equity > 0.0 {
                self.equity.powf(1.0 / years) - 1.0
            } else {
                f64::NAN
            },
            volatility: sd * per_year.sqrt(),
            sharpe: if sd > 0.0 {
                self.mean / sd * per_year.sqrt()
            } else {
                f64::NAN
            },
            max_drawdown: self.max_dd,
            trades: self.trades,
            win_rate: if self.trades > 0 {
                wins as f64 / self.trades as f64
            } else {
                f64::NAN
            },
            exposure: if self.bars > 0 {
                self.exposed as f64 / self.bars as f64
            } else {
                f64::NAN
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarises_a_hand_computed_series() {
        let day = 86_400_000_000i64;
        let mut p = Perf::new();
        // (position after the bar, return earned over it by the previous position):
        // enter long, +10%, -5% and exit, enter short, +2% still open. Two trades, both won.
        let bars = [
            (0.0, 0.0),
            (1.0, 0.0),
            (1.0, 0.10),
            (0.0, -0.05),
            (-1.0, 0.0),
            (-1.0, 0.02),
        ];
        for (i, (pos, r)) in bars.iter().enumerate() {
            p.bar(i as i64 * day, *pos, *r);
        }
        let s = p.summary();
        assert!((s.total_return - (1.10 * 0.95 * 1.02 - 1.0)).abs() < 1e-12);
        assert!((s.max_drawdown - 0.05).abs() < 1e-12);
        assert_eq!((s.trades, s.bars), (2, 6));
        assert_eq!(s.win_rate, 1.0);
        assert_eq!(s.exposure, 4.0 / 6.0);
        let rets = [0.0, 0.10, -0.05, 0.0, 0.02];
        let mean = rets.iter().sum::<f64>() / 5.0;
        let sd = (rets.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / 4.0).sqrt();
        let per_year = 5.0 / (5.0 * day as f64 / YEAR_US);
        assert!((s.sharpe - mean / sd * per_year.sqrt()).abs() < 1e-9);
        assert!((s.volatility - sd * per_year.sqrt()).abs() < 1e-12);
    }
}
