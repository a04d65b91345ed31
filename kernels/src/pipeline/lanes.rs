//! Lane groups in front of a scan sink or an ATC backtest sink: [`Lanes`] holds the runs
//! of up to [`W`] consecutive symbols (their timestamps and values, as the reader hands
//! them), and when the last of them ends (the next symbol's first run, a failure, the end
//! of the partition) runs the fresh ones through one lane group
//! ([`crate::atc::symbols::run_group`]), gives each its outputs and end state
//! ([`Primed`]), then hands the held runs and failures to the sink unchanged. The sink's
//! logic does not change: a primed symbol's steps copy its precomputed bars instead of
//! computing them (each lane equals the scalar kernel bit for bit), so outcomes, their
//! order, progress, state bytes and every file are those of one symbol at a time.
//!
//! A symbol goes the one-symbol way (streamed to the sink as it arrives, the symbols held
//! before it handed over first) when it continues a saved state or a kept failure
//! (`--update`), has a price that is not finite and > 0 (the kernel's failure, same text
//! and bar) or above [`LANE_MAX`](crate::atc::symbols::LANE_MAX), fails its input (a repeated timestamp, a NULL), or
//! holds more than [`SYMBOL_CAP`] bars. A group of one symbol, or one whose longest
//! symbol would cost more in lanes than alone, runs the one-symbol way too.
//!
//! Memory: at most [`W`] symbols of at most [`SYMBOL_CAP`] bars are held per sink (one per
//! worker), each bar as its timestamp and values (16 bytes for the close alone) plus the
//! 14 output columns while the group is handed over (112 bytes): about 51 MB per worker
//! at most, about 2.6 MB for 4 symbols of 5,000 bars.
//!
//! `BARSTREAM_SINK_LANES=0` (or `false`, `off`) turns lane groups off ([`enabled`]).
use super::backtest::BacktestSink;
use super::scan::ScanSink;
use super::symbol::Primed;
use super::Progress;
use crate::atc::symbols::{lane_safe, run_group, run_group_with_states, W};
use crate::atc::{AtcParams, NCOL};
use crate::error::Result;
use crate::read::{RunSink, SymbolRun};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// The most bars a symbol may have to be held for a lane group.
pub const SYMBOL_CAP: usize = 100_000;

/// A lane group steps all [`W`] lanes for as many bars as its longest symbol, at about
/// 2.2 times the one-symbol speed per symbol: it pays when its symbols' bars add up to more
/// than this many times the longest one's.
const LANE_COST: f64 = W as f64 / 2.2;

/// Whether the pipeline's sinks use lane groups: unless `BARSTREAM_SINK_LANES` says no.
pub fn enabled() -> bool {
    parse(std::env::var("BARSTREAM_SINK_LANES").ok().as_deref())
}

/// `BARSTREAM_SINK_LANES`'s value read: `0`, `false` or `off` turn lanes off.
pub fn parse(value: Option<&str>) -> bool {
    !matches!(
        value.map(|v| v.trim().to_ascii_lowercase()).as_deref(),
        Some("0" | "false" | "off")
    )
}

/// A sink whose symbols may be computed ahead in lane groups.
pub trait LaneSink: RunSink {
    /// The ATC parameters when the sink runs the ATC over its first value column.
    fn lane_params(&self) -> Option<&AtcParams>;
    /// Whether the sink saves each symbol's state (the group then computes it).
    fn saves_states(&self) -> bool;
    /// Whether `symbol` starts afresh (no saved state, no failure kept from a previous run).
    ///
    /// # Errors
    /// A carried file that cannot be read.
    fn fresh(&mut self, symbol: &str) -> Result<bool>;
    /// The next symbol begun takes these outputs (see [`super::symbol::SymbolAtc::prime`]).
    fn prime(&mut self, p: Primed);
    /// Drops a prime no symbol took.
    fn unprime(&mut self);
}

/// One held symbol: its runs as they came.
struct Held {
    symbol: String,
    ts: Vec<i64>,
    values: Vec<Vec<f64>>,
    /// Where each run ends in `ts`.
    ends: Vec<usize>,
}

/// Lane groups in front of `sink` (see the module doc).
pub struct Lanes<S> {
    pub sink: S,
    /// `None`: every call goes straight to the sink.
    params: Option<AtcParams>,
    states: bool,
    held: Vec<Held>,
    /// The current symbol goes straight to the sink.
    streaming: bool,
    progress: Arc<Progress>,
}

impl<S: LaneSink> Lanes<S> {
    /// `sink` behind lane groups when `on` and it runs the ATC, else passed through;
    /// `progress` counts the symbols computed in lane groups.
    pub fn new(sink: S, on: bool, progress: Arc<Progress>) -> Self {
        let params = if on {
            sink.lane_params().cloned()
        } else {
            None
        };
        Lanes {
            states: sink.saves_states(),
            sink,
            params,
            held: Vec::new(),
            streaming: false,
            progress,
        }
    }

    /// Hands every held symbol to the sink, those of a lane group primed.
    fn flush(&mut self) -> Result<()> {
        let held = std::mem::take(&mut self.held);
        let mut primed = self.group(&held);
        for (h, p) in held.iter().zip(primed.iter_mut()) {
            self.replay(h, p.take())?;
        }
        Ok(())
    }

    /// The current symbol leaves the lanes: the symbols before it are handed over, then its
    /// runs so far, and the rest of it streams.
    fn spill(&mut self) -> Result<()> {
        let last = self.held.pop().expect("a held symbol");
        self.flush()?;
        self.replay(&last, None)?;
        self.streaming = true;
        Ok(())
    }

    /// Runs the symbols worth a lane group together; their outputs by held index.
    fn group(&self, held: &[Held]) -> Vec<Option<Primed>> {
        let mut out: Vec<Option<Primed>> = held.iter().map(|_| None).collect();
        let Some(p) = &self.params else {
            return out;
        };
        let mut take: Vec<usize> = (0..held.len()).collect();
        let len = |i: usize| held[i].ts.len();
        while take.len() >= 2 {
            let (at, &longest) = take
                .iter()
                .enumerate()
                .max_by_key(|(_, &i)| len(i))
                .expect("two symbols");
            let sum: usize = take.iter().map(|&i| len(i)).sum();
            if len(longest) as f64 * LANE_COST < sum as f64 {
                break;
            }
            take.remove(at);
        }
        if take.len() < 2 {
            return out;
        }
        let xs: Vec<&[f64]> = take.iter().map(|&i| held[i].values[0].as_slice()).collect();
        let mut cols: Vec<Vec<Vec<f64>>> =
            xs.iter().map(|x| vec![vec![0.0; x.len()]; NCOL]).collect();
        let start = Instant::now();
        let states = {
            let mut arrs: Vec<[&mut [f64]; NCOL]> = cols
                .iter_mut()
                .map(|c| {
                    let mut it = c.iter_mut().map(Vec::as_mut_slice);
                    std::array::from_fn(|_| it.next().expect("NCOL columns"))
                })
                .collect();
            let mut refs: Vec<&mut [&mut [f64]; NCOL]> = arrs.iter_mut().collect();
            if self.states {
                run_group_with_states(p, &xs, &mut refs)
            } else {
                run_group(p, &xs, &mut refs);
                vec![Vec::new(); xs.len()]
            }
        };
        let bars: usize = xs.iter().map(|x| x.len()).sum();
        let ns_per_bar = start.elapsed().as_nanos() as f64 / bars as f64;
        self.progress
            .lane_symbols
            .fetch_add(take.len() as u64, Ordering::Relaxed);
        for ((&i, cols), state) in take.iter().zip(cols).zip(states) {
            out[i] = Some(Primed {
                cols,
                state,
                ns_per_bar,
            });
        }
        out
    }

    /// Hands `h`'s runs to the sink as they came, primed with `p` when computed ahead.
    fn replay(&mut self, h: &Held, p: Option<Primed>) -> Result<()> {
        let primed = p.is_some();
        if let Some(p) = p {
            self.sink.prime(p);
        }
        let mut lo = 0;
        for (k, &hi) in h.ends.iter().enumerate() {
            let values: Vec<&[f64]> = h.values.iter().map(|v| &v[lo..hi]).collect();
            self.sink.on_run(&SymbolRun {
                symbol: &h.symbol,
                ts: &h.ts[lo..hi],
                values: &values,
                continues: k > 0,
            })?;
            lo = hi;
        }
        if primed {
            self.sink.unprime();
        }
        Ok(())
    }
}

impl<S: LaneSink> RunSink for Lanes<S> {
    fn on_run(&mut self, run: &SymbolRun<'_>) -> Result<()> {
        if self.params.is_none() {
            return self.sink.on_run(run);
        }
        if !run.continues {
            self.streaming = false;
            if self.held.len() == W {
                self.flush()?;
            }
            if self.sink.fresh(run.symbol)? {
                self.held.push(Held {
                    symbol: run.symbol.to_string(),
                    ts: Vec::new(),
                    values: vec![Vec::new(); run.values.len()],
                    ends: Vec::new(),
                });
            } else {
                self.flush()?;
                self.streaming = true;
            }
        }
        if self.streaming {
            return self.sink.on_run(run);
        }
        let h = self.held.last_mut().expect("a held symbol");
        h.ts.extend_from_slice(run.ts);
        for (v, r) in h.values.iter_mut().zip(run.values) {
            v.extend_from_slice(r);
        }
        h.ends.push(h.ts.len());
        if !lane_safe(run.values[0]) || h.ts.len() > SYMBOL_CAP {
            self.spill()?;
        }
        Ok(())
    }

    fn fail_symbol(&mut self, symbol: &str, message: &str) -> Result<()> {
        if self.params.is_some() && !self.streaming {
            if self.held.last().is_some_and(|h| h.symbol == symbol) {
                self.spill()?;
            } else {
                self.flush()?;
                self.streaming = true;
            }
        }
        self.sink.fail_symbol(symbol, message)
    }

    fn finish(&mut self) -> Result<()> {
        self.flush()?;
        self.sink.finish()
    }
}

impl LaneSink for ScanSink {
    fn lane_params(&self) -> Option<&AtcParams> {
        Some(self.atc.params())
    }
    fn saves_states(&self) -> bool {
        self.states.is_some()
    }
    fn fresh(&mut self, symbol: &str) -> Result<bool> {
        Ok(!self.kept_failed.contains_key(symbol) && !self.carried.contains(symbol)?)
    }
    fn prime(&mut self, p: Primed) {
        self.atc.prime(p);
    }
    fn unprime(&mut self) {
        self.atc.unprime();
    }
}

impl LaneSink for BacktestSink {
    fn lane_params(&self) -> Option<&AtcParams> {
        self.strategy.atc_params()
    }
    fn saves_states(&self) -> bool {
        true
    }
    fn fresh(&mut self, symbol: &str) -> Result<bool> {
        self.load_carried()?;
        Ok(!self.prior.contains_key(symbol) && !self.prior_failed.contains_key(symbol))
    }
    fn prime(&mut self, p: Primed) {
        self.strategy.prime(p);
    }
    fn unprime(&mut self) {
        self.strategy.unprime();
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn the_switch_is_on_unless_it_says_no() {
        for off in ["0", "false", "OFF", " off "] {
            assert!(!parse(Some(off)), "{off}");
        }
        for on in [None, Some("1"), Some(""), Some("yes")] {
            assert!(parse(on), "{on:?}");
        }
    }
}
