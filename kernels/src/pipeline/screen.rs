//! The screen: a formula evaluated over each symbol's bars, run by run with its carried
//! state (evaluating only the fields the formula names), keeping the bars where its value is
//! true: every such bar (`all`, within `from..=to`), or the symbol's last bar (`latest`,
//! as of `to`). Each match carries its OHLCV and the formula's named values. The fields the
//! formula did not read are either carried by the partition's read ([`ScreenOptions::carried`],
//! cheaper when most partitions have matches, as with `all`: one read instead of a second
//! scan of the source) or filled after the partition's pass (see [`super::fill`]).
//!
//! Per symbol: skipped when it has at most `W` bars (the formula's warm-up); failed at
//! stage `input` (its rows), `formula` (an evaluation error) or `timeout` (its budget, see
//! [`super::budget`]); otherwise processed, matched or not.
//!
//! With a [`StateOut`], every symbol that did not fail saves its state (see
//! [`super::screen_state`]) and a sink given the previous run's states continues from them
//! ([`ScreenSink::carry`], `--update`).
use super::budget::{slices, Budget, Clock};
use super::carry::{Carried, StateOut};
use super::fill::{fill, Wanted};
use super::screen_out::{write_bucket, OutFile};
use super::screen_state::Saved;
use super::{keep_first_failure, Progress, Stage};
use crate::duck::Database;
use crate::error::{Error, Result};
use crate::formula::{Evaluator, Field, Formula, Kind};
use crate::read::{RunSink, SymbolRun};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Which bars a screen returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The last bar of each symbol (bars after `to` are not evaluated).
    Latest,
    /// Every bar within `from..=to`.
    All,
}

impl Mode {
    /// # Errors
    /// `InvalidParam` for anything but `latest` and `all`.
    pub fn parse(s: &str) -> Result<Mode> {
        match s {
            "latest" => Ok(Mode::Latest),
            "all" => Ok(Mode::All),
            other => Err(Error::param(format!(
                "mode must be 'latest' or 'all', got '{other}'"
            ))),
        }
    }
}

/// How a screen runs.
#[derive(Clone, Debug)]
pub struct ScreenOptions {
    pub mode: Mode,
    /// Matches before this time (microseconds) are dropped.
    pub from: Option<i64>,
    /// Matches after it are dropped; in `latest`, bars after it are not evaluated.
    pub to: Option<i64>,
    /// Also return every processed symbol's last bar, matched or not (see [`SymbolRow`]).
    pub every_symbol: bool,
    pub budget: Budget,
    /// The OHLCV columns the source has (the others are NaN in matches).
    pub source_columns: Vec<Field>,
    /// Columns the partition SQL returns after the formula's fields (none the formula
    /// reads): read with the bars into the matches, not evaluated; the fill reads only
    /// the others.
    pub carried: Vec<Field>,
    /// The most matches the screen may hold (with no output folder): one more fails the
    /// screen as soon as a sink holds it, so memory stays bounded (see [`too_many`]).
    pub max_matches: Option<u64>,
    /// The part number of `all` mode's matches files (`part-<n>.parquet`: an update's
    /// generation; 0 for a full run).
    pub part: u32,
}

/// The refusal of a screen holding more than `max` matches.
pub fn too_many(max: u64) -> Error {
    Error::param(format!(
        "the screen matched more than {max} bars, the most a result in memory may hold: \
         write them with --out DIR (out), or narrow the formula or --from/--to"
    ))
}

/// One matching bar.
#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    pub symbol: String,
    pub ts: i64,
    /// `open, high, low, close, volume`; NaN where the source has no such column.
    pub ohlcv: [f64; 5],
    /// The named values at this bar, in `Formula::names` order.
    pub values: Vec<f64>,
}

/// A processed symbol's last evaluated bar (with `every_symbol`).
#[derive(Clone, Debug, PartialEq)]
pub struct SymbolRow {
    pub last: Match,
    /// The formula's value at that bar.
    pub value: f64,
    pub bars: u64,
    /// Bars whose value was > 0 and < 0.
    pub positive: u64,
    pub negative: u64,
    pub matched: bool,
}

/// What became of a screen's symbols, in partition order.
#[derive(Debug, Default)]
pub struct ScreenOutcome {
    pub matches: Vec<Match>,
    pub symbols: Vec<SymbolRow>,
    pub processed: u64,
    /// Processed symbols with at least one match.
    pub matched: u64,
    pub skipped: Vec<(String, String)>,
    pub failed: Vec<(String, Stage, String)>,
    /// Every symbol's failure or skip, in order: `(symbol, stage or "skipped", message)`.
    pub errors: Vec<(String, &'static str, String)>,
}

pub(super) struct Current {
    pub(super) symbol: String,
    pub(super) ev: Option<Evaluator>,
    /// Bars evaluated.
    pub(super) bars: u64,
    /// Bars read (those after `to` too) and the last one's time.
    pub(super) read: u64,
    pub(super) last_read: i64,
    pub(super) failed: Option<(Stage, String)>,
    pub(super) clock: Clock,
    /// This symbol's matches so far (`all`).
    pub(super) matches: Vec<Match>,
    /// The last evaluated bar and its value.
    pub(super) last: Option<(Match, f64)>,
    pub(super) positive: u64,
    pub(super) negative: u64,
    /// Bars after `to` arrived (`latest` stops there).
    pub(super) past_to: bool,
    /// Matches of this symbol were written by a previous run (`all`, `--update`).
    pub(super) emitted: bool,
}

/// Where a partition's sink reads the unread fields from and writes its files.
#[derive(Clone)]
pub struct PartitionContext {
    pub db: Database,
    /// The partition's SQL (for the fill query, see [`super::fill`]).
    pub sql: String,
    pub bucket: u32,
    /// With `Some`, matches and errors are written there as the partition ends.
    pub out: Option<std::path::PathBuf>,
    /// Matches held by every partition's sink together (see [`ScreenOptions::max_matches`]).
    pub held: Arc<AtomicU64>,
}

/// The sink of one partition.
pub struct ScreenSink {
    pub(super) ctx: PartitionContext,
    pub(super) formula: Arc<Formula>,
    pub(super) opts: Arc<ScreenOptions>,
    /// Where each column read (the formula's fields, then the carried ones) sits in
    /// `open..volume`.
    field_at: Vec<usize>,
    pub(super) cur: Option<Current>,
    pub out: ScreenOutcome,
    /// Files written (with an output folder).
    pub files: Vec<OutFile>,
    /// The state file written (when saving states).
    pub states: Vec<OutFile>,
    /// Every symbol of the partition, in order.
    pub seen: Vec<String>,
    progress: Arc<Progress>,
    /// This sink's share of `ctx.held`.
    held: u64,
    /// The previous run's symbols of this partition (`--update`).
    pub(super) carried: Carried,
    /// Where each symbol's state goes, and the states of the symbols ended so far (written
    /// once the partition's fill has completed their last bars).
    pub(super) saving: Option<(StateOut, Vec<Saved>)>,
}

impl ScreenSink {
    pub fn new(
        ctx: PartitionContext,
        formula: Arc<Formula>,
        opts: Arc<ScreenOptions>,
        progress: Arc<Progress>,
    ) -> Self {
        let field_at = formula
            .fields
            .iter()
            .chain(&opts.carried)
            .map(|f| Field::ALL.iter().position(|a| a == f).expect("a field"))
            .collect();
        ScreenSink {
            ctx,
            files: Vec::new(),
            states: Vec::new(),
            seen: Vec::new(),
            formula,
            opts,
            field_at,
            cur: None,
            out: ScreenOutcome::default(),
            progress,
            held: 0,
            carried: Carried::default(),
            saving: None,
        }
    }

    /// Saves every symbol's state as a row of the bucket's state file under `to`.
    pub fn saving(mut self, to: StateOut) -> Self {
        self.saving = Some((to, Vec::new()));
        self
    }

    /// Brings the shared count of held matches up to date with this sink's.
    ///
    /// # Errors
    /// [`too_many`] when the sinks together hold more than `max_matches`.
    fn count_held(&mut self) -> Result<()> {
        let Some(max) = self.opts.max_matches else {
            return Ok(());
        };
        let now =
            (self.out.matches.len() + self.cur.as_ref().map_or(0, |c| c.matches.len())) as u64;
        let total = if now >= self.held {
            self.ctx.held.fetch_add(now - self.held, Ordering::Relaxed) + (now - self.held)
        } else {
            self.ctx.held.fetch_sub(self.held - now, Ordering::Relaxed) - (self.held - now)
        };
        self.held = now;
        if total > max {
            return Err(too_many(max));
        }
        Ok(())
    }

    pub(super) fn begin(&mut self, symbol: &str) {
        self.end_symbol();
        self.cur = Some(Current {
            symbol: symbol.to_string(),
            ev: Some(Evaluator::new(&self.formula)),
            bars: 0,
            read: 0,
            last_read: 0,
            failed: None,
            clock: self.opts.budget.clock(),
            matches: Vec::new(),
            last: None,
            positive: 0,
            negative: 0,
            past_to: false,
            emitted: false,
        });
    }

    pub(super) fn end_symbol(&mut self) {
        self.save_current();
        let Some(c) = self.cur.take() else {
            return;
        };
        self.progress.symbols.fetch_add(1, Ordering::Relaxed);
        self.seen.push(c.symbol.clone());
        let out = &mut self.out;
        if let Some((stage, message)) = c.failed {
            out.errors
                .push((c.symbol.clone(), stage.as_str(), message.clone()));
            out.failed.push((c.symbol, stage, message));
            return;
        }
        let warmup = self.formula.warmup;
        if c.bars <= warmup {
            let reason = format!("{} bars, the formula needs at least {}", c.bars, warmup + 1);
            out.errors
                .push((c.symbol.clone(), "skipped", reason.clone()));
            out.skipped.push((c.symbol, reason));
            return;
        }
        out.processed += 1;
        let opts = &self.opts;
        let in_range =
            |ts: i64| opts.from.is_none_or(|f| ts >= f) && opts.to.is_none_or(|t| ts <= t);
        let (last, value) = c.last.expect("a processed symbol has a last bar");
        let matched = match opts.mode {
            Mode::All => {
                let any = c.emitted || !c.matches.is_empty();
                out.matches.extend(c.matches);
                any
            }
            Mode::Latest => {
                let hit = value == 1.0 && in_range(last.ts);
                if hit {
                    out.matches.push(last.clone());
                }
                hit
            }
        };
        out.matched += u64::from(matched);
        if opts.every_symbol {
            out.symbols.push(SymbolRow {
                last,
                value,
                bars: c.bars,
                positive: c.positive,
                negative: c.negative,
                matched,
            });
        }
    }

    /// Evaluates `lo..hi` of `run`; `Err` when the symbol fails.
    fn slice(
        &mut self,
        run: &SymbolRun<'_>,
        lo: usize,
        hi: usize,
    ) -> std::result::Result<(), String> {
        let c = self.cur.as_mut().expect("a run belongs to a symbol");
        let ev = c.ev.as_mut().expect("a live evaluator");
        let bars: Vec<&[f64]> = run.values.iter().map(|v| &v[lo..hi]).collect();
        ev.push(&bars[..self.formula.fields.len()])
            .map_err(|e| e.message)?;
        let ev = &*ev;
        let field_at = &self.field_at;
        let value: &[f64] = if self.formula.kind == Kind::Strategy {
            &[]
        } else {
            ev.value()
        };
        let names = self.formula.names.len();
        let opts = &self.opts;
        // Bar `j` of the slice into `m` (whose symbol is already the current one).
        let set = |m: &mut Match, j: usize| {
            m.ts = run.ts[lo + j];
            m.ohlcv = [f64::NAN; 5];
            for (k, &at) in field_at.iter().enumerate() {
                m.ohlcv[at] = bars[k][j];
            }
            m.values.clear();
            m.values.extend((0..names).map(|i| ev.named(i)[j]));
        };
        let new = |symbol: &str, j: usize| {
            let mut m = Match {
                symbol: symbol.to_string(),
                ts: 0,
                ohlcv: [f64::NAN; 5],
                values: Vec::with_capacity(names),
            };
            set(&mut m, j);
            m
        };
        for &v in value {
            c.positive += u64::from(v > 0.0);
            c.negative += u64::from(v < 0.0);
        }
        if opts.mode == Mode::All && self.formula.kind == Kind::Condition {
            for (j, &v) in value.iter().enumerate() {
                let ts = run.ts[lo + j];
                if v == 1.0 && opts.from.is_none_or(|f| ts >= f) && opts.to.is_none_or(|t| ts <= t)
                {
                    c.matches.push(new(&c.symbol, j));
                }
            }
        }
        let n = hi - lo;
        let v = value.get(n - 1).copied().unwrap_or(f64::NAN);
        // The symbol's last bar so far, in the same Match from slice to slice.
        match &mut c.last {
            Some((m, last)) => {
                set(m, n - 1);
                *last = v;
            }
            None => c.last = Some((new(&c.symbol, n - 1), v)),
        }
        c.bars += n as u64;
        Ok(())
    }
}

impl ScreenSink {
    /// Evaluates one run of the current symbol, recording its failure if it fails.
    fn evaluate(&mut self, run: &SymbolRun<'_>) {
        let c = self.cur.as_mut().expect("a run belongs to a symbol");
        c.read += run.ts.len() as u64;
        c.last_read = run.ts[run.ts.len() - 1];
        if c.failed.is_some() || c.past_to {
            return;
        }
        let mut n = run.ts.len();
        if let (Mode::Latest, Some(to)) = (self.opts.mode, self.opts.to) {
            // The screen as of `to`: later bars are not evaluated.
            n = run.ts.partition_point(|&t| t <= to);
            c.past_to = n < run.ts.len();
        }
        if let Err(m) = c.clock.check() {
            c.failed = Some((Stage::Timeout, m));
            c.ev = None;
            c.matches.clear();
            return;
        }
        for r in slices(n) {
            let start = Instant::now();
            let len = r.len();
            let failed = match self.slice(run, r.start, r.end) {
                Err(m) => Some((Stage::Formula, m)),
                Ok(()) => {
                    let c = self.cur.as_mut().expect("symbol");
                    c.clock
                        .charge(start, len)
                        .err()
                        .map(|m| (Stage::Timeout, m))
                }
            };
            if let Some(f) = failed {
                let c = self.cur.as_mut().expect("symbol");
                c.failed = Some(f);
                // A failed evaluator is not used again.
                c.ev = None;
                c.matches.clear();
                return;
            }
        }
    }
}

impl RunSink for ScreenSink {
    fn on_run(&mut self, run: &SymbolRun<'_>) -> Result<()> {
        if !run.continues {
            self.carry_before(Some(run.symbol))?;
            self.start(run.symbol)?;
        }
        self.progress
            .bars
            .fetch_add(run.ts.len() as u64, Ordering::Relaxed);
        self.evaluate(run);
        self.count_held()
    }

    /// The symbol fails at stage `input` (the first failure of a symbol is the one kept).
    fn fail_symbol(&mut self, symbol: &str, message: &str) -> Result<()> {
        if self.cur.as_ref().is_none_or(|c| c.symbol != symbol) {
            self.carry_before(Some(symbol))?;
            self.start(symbol)?;
        }
        let c = self.cur.as_mut().expect("begun");
        keep_first_failure(&mut c.failed, Stage::Input, message);
        c.ev = None;
        c.matches.clear();
        self.count_held()
    }

    /// Fills the unread fields of the partition's matches (and saved last bars), then
    /// writes its files.
    fn finish(&mut self) -> Result<()> {
        self.carry_before(None)?;
        self.end_symbol();
        self.count_held()?;
        let ctx = &self.ctx;
        let saved = self.saving.as_mut().map(|(_, s)| s.as_mut_slice());
        fill_partition(
            &ctx.db,
            &ctx.sql,
            &self.formula,
            &self.opts,
            &mut self.out,
            saved,
        )?;
        if let Some(dir) = &ctx.out {
            self.files = write_bucket(dir, ctx.bucket, &self.formula, &self.opts, &self.out)?;
            self.out.matches = Vec::new();
        }
        self.write_states()?;
        self.progress.partitions.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Fills the fields the formula did not read (and the source has) in every match and
/// symbol row of one partition.
pub(crate) fn fill_partition(
    db: &Database,
    sql: &str,
    formula: &Formula,
    opts: &ScreenOptions,
    out: &mut ScreenOutcome,
    saved: Option<&mut [Saved]>,
) -> Result<()> {
    let cols: Vec<Field> = Field::ALL
        .into_iter()
        .filter(|f| {
            opts.source_columns.contains(f)
                && !formula.fields.contains(f)
                && !opts.carried.contains(f)
        })
        .collect();
    let mut wanted: Vec<Wanted<'_>> = out
        .matches
        .iter_mut()
        .chain(out.symbols.iter_mut().map(|s| &mut s.last))
        .chain(
            saved
                .into_iter()
                .flat_map(|s| s.iter_mut().flat_map(Saved::bars_mut)),
        )
        .map(|m| Wanted {
            symbol: &m.symbol,
            ts: m.ts,
            ohlcv: &mut m.ohlcv,
        })
        .collect();
    fill(db, sql, &cols, &mut wanted)
}

/// Checks the formula can screen: a condition, or a number with `every_symbol`.
///
/// # Errors
/// `InvalidFormula` saying a screen needs a condition.
pub fn check_formula(formula: &Formula, every_symbol: bool) -> Result<()> {
    if every_symbol && formula.kind == Kind::Number {
        return Ok(());
    }
    formula.require_condition()
}
