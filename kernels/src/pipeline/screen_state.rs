//! A screen symbol's carried state as bytes (`--update`): the formula evaluator's state, the
//! bars evaluated and their positive and negative counts, whether `to` was passed, the last
//! evaluated bar with its value (`latest`, and every symbol's row), whether the symbol had
//! matches written already, and the matches of a symbol still short of the warm-up (`all`:
//! held until it has enough bars). Matches already written are not kept. One row of
//! `OUT/_state/symbols/bucket=<k>/part-<g>.parquet` (see [`super::symbol_state`]).
//!
//! The last bar's fields the formula did not read are completed before the state is
//! written, so a symbol carried over without new bars lists its full bar again: read with
//! the bars ([`super::screen::ScreenOptions::carried`], as the engine does when it saves
//! states), else by the partition's fill.
use super::carry::{push_state, states_table, Prior};
use super::screen::{Current, Match, ScreenSink};
use super::symbol_state::SymbolState;
use crate::codec::{decode, encode, Dec, Enc};
use crate::error::{Error, Result};
use crate::formula::Evaluator;

const TAG: &str = "screen-symbol";

/// A symbol's state, kept until the partition's fill has completed its bars.
pub struct Saved {
    symbol: String,
    read: u64,
    last_read: i64,
    bars: u64,
    positive: u64,
    negative: u64,
    past_to: bool,
    emitted: bool,
    ev: Vec<u8>,
    last: Option<(Match, f64)>,
    held: Vec<Match>,
}

impl Saved {
    /// The bars it holds (for the fill).
    pub fn bars_mut(&mut self) -> impl Iterator<Item = &mut Match> {
        self.last
            .iter_mut()
            .map(|(m, _)| m)
            .chain(self.held.iter_mut())
    }

    fn encode(&self) -> SymbolState {
        let state = encode(TAG, |e| {
            e.u64(self.bars);
            e.u64(self.positive);
            e.u64(self.negative);
            e.u64(u64::from(self.past_to));
            e.u64(u64::from(self.emitted));
            e.blob(&self.ev);
            e.u64(u64::from(self.last.is_some()));
            if let Some((m, v)) = &self.last {
                save_match(e, m);
                e.f64(*v);
            }
            e.usize(self.held.len());
            self.held.iter().for_each(|m| save_match(e, m));
        });
        SymbolState {
            symbol: self.symbol.clone(),
            last_ts: self.last_read,
            bars: self.read,
            state,
        }
    }
}

fn save_match(e: &mut Enc, m: &Match) {
    e.i64(m.ts);
    m.ohlcv.iter().for_each(|&x| e.f64(x));
    e.f64s(&m.values);
}

fn load_match(d: &mut Dec<'_>, symbol: &str, names: usize) -> Result<Match> {
    let ts = d.i64()?;
    let mut ohlcv = [0.0; 5];
    for x in ohlcv.iter_mut() {
        *x = d.f64()?;
    }
    Ok(Match {
        symbol: symbol.to_string(),
        ts,
        ohlcv,
        values: d.f64s(names)?,
    })
}

impl ScreenSink {
    /// Continues these symbols from the previous run: a symbol read again resumes from its
    /// state, one without new bars is ended as it was (its last bar listed again in
    /// `latest`), a failed one stays failed with its error (its new bars are not
    /// evaluated), all in symbol order among those read.
    pub fn carry(
        &mut self,
        states: impl IntoIterator<Item = SymbolState>,
        failed: impl IntoIterator<Item = (String, super::Stage, String)>,
    ) {
        self.carried.extend(states, failed);
    }

    /// The current symbol's state, or `None` when there is none or it failed. The fields
    /// of its last bar the formula did not read are NaN unless carried by the read (the
    /// state files are written after the partition's fill).
    pub fn save_symbol(&self) -> Option<SymbolState> {
        self.snapshot().map(|s| s.encode())
    }

    fn snapshot(&self) -> Option<Saved> {
        let c = self.cur.as_ref().filter(|c| c.failed.is_none())?;
        let ev = c.ev.as_ref()?;
        let short = c.bars <= self.formula.warmup;
        Some(Saved {
            symbol: c.symbol.clone(),
            read: c.read,
            last_read: c.last_read,
            bars: c.bars,
            positive: c.positive,
            negative: c.negative,
            past_to: c.past_to,
            emitted: c.emitted || (!short && !c.matches.is_empty()),
            ev: ev.state(),
            last: c.last.clone(),
            held: if short { c.matches.clone() } else { Vec::new() },
        })
    }

    /// Keeps the current symbol's state (when saving and it did not fail).
    pub(super) fn save_current(&mut self) {
        if self.saving.is_none() {
            return;
        }
        if let (Some(s), Some((_, saved))) = (self.snapshot(), &mut self.saving) {
            saved.push(s);
        }
    }

    /// Ends the current symbol and continues `st`'s symbol where it stopped; its next run
    /// must come with `continues` true.
    ///
    /// # Errors
    /// `InvalidParam` when the bytes are not a screen state of this formula (naming the
    /// symbol).
    pub fn resume(&mut self, st: &SymbolState) -> Result<()> {
        self.end_symbol();
        let named = |e: Error| Error::param(format!("saved state of {}: {}", st.symbol, e.message));
        let names = self.formula.names.len();
        let sym = st.symbol.as_str();
        let cur = decode(&st.state, TAG, |d| {
            let bars = d.u64()?;
            let positive = d.u64()?;
            let negative = d.u64()?;
            let past_to = d.u64()? == 1;
            let emitted = d.u64()? == 1;
            let ev = Evaluator::from_state(&self.formula, d.blob()?)?;
            let last = match d.u64()? {
                1 => Some((load_match(d, sym, names)?, d.f64()?)),
                _ => None,
            };
            let n = d.usize()?;
            let held = (0..n)
                .map(|_| load_match(d, sym, names))
                .collect::<Result<Vec<_>>>()?;
            Ok(Current {
                symbol: sym.to_string(),
                ev: Some(ev),
                bars,
                read: st.bars,
                last_read: st.last_ts,
                failed: None,
                clock: self.opts.budget.clock(),
                matches: held,
                last,
                positive,
                negative,
                past_to,
                emitted,
            })
        })
        .map_err(named)?;
        self.cur = Some(cur);
        Ok(())
    }

    /// Starts `symbol` as the previous run left it (see [`ScreenSink::carry`]), or afresh.
    pub(super) fn start(&mut self, symbol: &str) -> Result<()> {
        match self.carried.take(symbol)? {
            Some(p) => self.restart(symbol, p),
            None => {
                self.begin(symbol);
                Ok(())
            }
        }
    }

    fn restart(&mut self, symbol: &str, prior: Prior) -> Result<()> {
        match prior {
            Prior::State(st) => self.resume(&st),
            Prior::Failed(stage, message) => {
                self.begin(symbol);
                let c = self.cur.as_mut().expect("begun");
                c.failed = Some((stage, message));
                c.ev = None;
                Ok(())
            }
        }
    }

    /// Ends the carried symbols without new bars that sort before `upto` (all with `None`).
    pub(super) fn carry_before(&mut self, upto: Option<&str>) -> Result<()> {
        for (symbol, prior) in self.carried.before(upto)? {
            self.restart(&symbol, prior)?;
        }
        Ok(())
    }

    /// Writes the bucket's state file (when saving).
    pub(super) fn write_states(&mut self) -> Result<()> {
        let Some((to, saved)) = self.saving.take() else {
            return Ok(());
        };
        let mut table = states_table(&to, self.ctx.bucket);
        for s in &saved {
            push_state(&mut table, &s.encode())?;
        }
        let w = table.write_parquet()?;
        self.states.push(super::screen_out::OutFile {
            path: super::carry::state_file(self.ctx.bucket, to.generation),
            rows: w.rows,
            bytes: w.bytes,
            sha256: w.sha256,
        });
        Ok(())
    }
}
