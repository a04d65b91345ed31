//! The backtest sink: per bar, the strategy's outputs (see [`super::strategy`]), the
//! position (following the strategy's target one bar late), the strategy return and the
//! equity, streamed into the bucket's `signals` table; per symbol, a `summary` row and its
//! `trades` (see [`super::trades`]); per failed or skipped symbol, an `_errors` row (stage
//! `input`, `kernel`, `formula`, `timeout` or `skipped`; a failed symbol's `signals` and
//! `trades` rows are taken back). At the end of the bucket the four tables become Parquet
//! files, each renamed into place, then a `_state/bucket-<k>.json` marker says the bucket
//! is complete.
use super::budget::{slices, Budget, Clock};
use super::perf::Perf;
use super::strategy::Strategy;
use super::symbol_state::STATE_COLUMNS;
use super::trades::{Trade, TradeBook, TRADE_COLUMNS};
use super::writer::{write_atomic, Col, ResultTable, Val};
use super::{keep_first_failure, Progress, Stage};
use crate::error::Result;
use crate::read::{RunSink, SymbolRun};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// The `signals` table's columns for a strategy: `symbol, ts, close`, the strategy's
/// columns, then `position, strategy_return, equity`.
pub fn signal_columns(strategy: &dyn Strategy) -> Vec<Col> {
    let mut cols = vec![
        Col::text("symbol"),
        Col::timestamp("ts"),
        Col::double("close"),
    ];
    cols.extend(strategy.columns().iter().cloned());
    cols.extend([
        Col::double("position"),
        Col::double("strategy_return"),
        Col::double("equity"),
    ]);
    cols
}

pub const SUMMARY_COLUMNS: [Col; 13] = [
    Col::text("symbol"),
    Col::timestamp("first_ts"),
    Col::timestamp("last_ts"),
    Col::bigint("bars"),
    Col::double("last_signal"),
    Col::double("total_return"),
    Col::double("cagr"),
    Col::double("volatility"),
    Col::double("sharpe"),
    Col::double("max_drawdown"),
    Col::bigint("trades"),
    Col::double("win_rate"),
    Col::double("exposure"),
];

pub const ERROR_COLUMNS: [Col; 3] = [
    Col::text("symbol"),
    Col::text("stage"),
    Col::text("message"),
];

/// What a backtest does beside its strategy.
#[derive(Clone, Debug)]
pub struct BacktestOptions {
    pub out: PathBuf,
    /// Cost per unit of position change, as a fraction (`fee_bps / 10_000`).
    pub fee: f64,
    /// A short target goes flat instead.
    pub long_only: bool,
    /// The time each symbol may take.
    pub budget: Budget,
}

pub(super) struct Sym {
    pub(super) symbol: String,
    pub(super) bars: u64,
    pub(super) failed: Option<(Stage, String)>,
    /// Rows already in the signals table (else still in `pending`).
    pub(super) flushed: bool,
    pub(super) perf: Perf,
    pub(super) prev_close: f64,
    pub(super) pos: f64,
    pub(super) target: f64,
    pub(super) last_signal: f64,
    pub(super) clock: Clock,
    pub(super) book: TradeBook,
    /// The last bar of a previous run (`i64::MIN` for a symbol started here): trades that
    /// close, or open and stay open, after it are this run's.
    pub(super) since: i64,
}

impl Sym {
    pub(super) fn new(symbol: &str, clock: Clock) -> Self {
        Sym {
            symbol: symbol.to_string(),
            bars: 0,
            failed: None,
            flushed: false,
            perf: Perf::new(),
            prev_close: f64::NAN,
            pos: 0.0,
            target: 0.0,
            last_signal: f64::NAN,
            clock,
            book: TradeBook::new(),
            since: i64::MIN,
        }
    }
}

struct Tables {
    signals: ResultTable,
    summary: ResultTable,
    /// Closed trades.
    trades: ResultTable,
    /// Trades still open at each symbol's last bar (rewritten whole by an update).
    open: ResultTable,
    errors: ResultTable,
    /// Each symbol's state at its last bar (see [`super::symbol_state`]).
    states: ResultTable,
}

pub struct BacktestSink {
    bucket: u32,
    pub(super) opts: BacktestOptions,
    pub(super) strategy: Box<dyn Strategy>,
    signal_cols: Vec<Col>,
    /// Where `close` is among the strategy's inputs.
    close_at: usize,
    tables: Option<Tables>,
    pub(super) sym: Option<Sym>,
    /// Bars of a symbol not yet known to reach the strategy's minimum.
    pub(super) pending_ts: Vec<i64>,
    pub(super) pending: Vec<Vec<f64>>,
    /// This slice's position, strategy return and equity.
    run_cols: [Vec<f64>; 3],
    progress: Arc<Progress>,
    pub symbols: u64,
    pub skipped: u64,
    pub failed: u64,
    /// Bars read.
    pub bars: u64,
    /// States of symbols continued from a previous run (`--update`), by symbol, taken out
    /// as each symbol is continued; see [`super::symbol_state`].
    pub(super) prior: std::collections::BTreeMap<String, super::symbol_state::SymbolState>,
    /// Symbols that failed in the previous run, kept failed (see [`super::carried`]).
    pub(super) prior_failed: std::collections::BTreeMap<String, (Stage, String)>,
    /// The part number of this run's signals file (`signals/bucket=<k>/part-<n>.parquet`).
    part: u32,
    /// Symbols started from scratch, and continued from a saved state with new bars.
    pub added: u64,
    pub updated: u64,
    /// Trades this run closed, or opened and left open (see [`Sym::since`]).
    pub trades_added: u64,
    /// The previous run's files, not read yet (see [`super::carried`]).
    pub(super) carry_pending: Option<(crate::duck::Database, super::carried::CarriedFiles)>,
}

impl BacktestSink {
    /// # Errors
    /// `InvalidParam` when the strategy's inputs lack `close`.
    pub fn new(
        bucket: u32,
        strategy: Box<dyn Strategy>,
        opts: &BacktestOptions,
        progress: Arc<Progress>,
    ) -> Result<Self> {
        let close_at = strategy
            .inputs()
            .iter()
            .position(|c| c == "close")
            .ok_or_else(|| crate::Error::param("a backtest strategy must read close"))?;
        let signal_cols = signal_columns(strategy.as_ref());
        Ok(BacktestSink {
            bucket,
            opts: opts.clone(),
            pending: vec![Vec::new(); signal_cols.len() - 2],
            signal_cols,
            strategy,
            close_at,
            tables: None,
            sym: None,
            pending_ts: Vec::new(),
            run_cols: [Vec::new(), Vec::new(), Vec::new()],
            progress,
            symbols: 0,
            skipped: 0,
            failed: 0,
            bars: 0,
            prior: std::collections::BTreeMap::new(),
            prior_failed: std::collections::BTreeMap::new(),
            part: 0,
            added: 0,
            updated: 0,
            trades_added: 0,
            carry_pending: None,
        })
    }

    /// Names this run's signals file `part-<part>.parquet` (an update's generation; 0 by default).
    pub fn set_part(&mut self, part: u32) {
        self.part = part;
    }

    /// The value columns this sink reads after `symbol, ts`.
    pub fn inputs(&self) -> &[String] {
        self.strategy.inputs()
    }

    fn tables(&mut self) -> &mut Tables {
        ensure_tables(
            &mut self.tables,
            &self.opts.out,
            self.bucket,
            self.part,
            &self.signal_cols,
        )
    }

    fn begin(&mut self, symbol: &str) -> Result<()> {
        self.end_symbol()?;
        self.strategy.begin()?;
        self.sym = Some(Sym::new(symbol, self.opts.budget.clock()));
        Ok(())
    }

    pub(super) fn end_symbol(&mut self) -> Result<()> {
        let state = self.save_symbol()?;
        let Some(mut s) = self.sym.take() else {
            return Ok(());
        };
        self.symbols += 1;
        self.progress.symbols.fetch_add(1, Ordering::Relaxed);
        self.pending_ts.clear();
        self.pending.iter_mut().for_each(Vec::clear);
        let min_bars = self.strategy.min_bars();
        let skip_reason = self.strategy.skip_reason(s.bars);
        let mut added = 0;
        let t = self.tables();
        if let Some(st) = &state {
            t.states.push_row(&[
                Val::Text(&st.symbol),
                Val::Timestamp(st.last_ts),
                Val::BigInt(st.bars as i64),
                Val::Blob(&st.state),
            ])?;
        }
        if let Some((stage, mut message)) = s.failed {
            if s.flushed {
                let kept = t.signals.rollback_symbol(&s.symbol);
                if kept > 0 {
                    message.push_str(&format!(
                        " (its first {kept} rows were already written to signals)"
                    ));
                }
                let kept = t.trades.rollback_symbol(&s.symbol);
                if kept > 0 {
                    message.push_str(&format!(
                        " (its first {kept} trades were already written to trades)"
                    ));
                }
            }
            t.errors.push_row(&[
                Val::Text(&s.symbol),
                Val::Text(stage.as_str()),
                Val::Text(&message),
            ])?;
            self.failed += 1;
        } else if s.bars < min_bars {
            t.errors.push_row(&[
                Val::Text(&s.symbol),
                Val::Text("skipped"),
                Val::Text(&skip_reason),
            ])?;
            self.skipped += 1;
        } else {
            let open = s.book.still_open();
            added = push_trades(&mut t.trades, &s.symbol, &mut s.book.closed, s.since)?;
            added += push_trades(
                &mut t.open,
                &s.symbol,
                &mut open.into_iter().collect(),
                s.since,
            )?;
            let p = s.perf.summary();
            t.summary.push_row(&[
                Val::Text(&s.symbol),
                Val::Timestamp(p.first_ts),
                Val::Timestamp(p.last_ts),
                Val::BigInt(p.bars as i64),
                Val::Double(s.last_signal),
                Val::Double(p.total_return),
                Val::Double(p.cagr),
                Val::Double(p.volatility),
                Val::Double(p.sharpe),
                Val::Double(p.max_drawdown),
                Val::BigInt(p.trades as i64),
                Val::Double(p.win_rate),
                Val::Double(p.exposure),
            ])?;
        }
        self.trades_added += added;
        Ok(())
    }

    /// Position, strategy return and equity for this slice's bars, from the strategy's
    /// targets: the target after bar i is the position from bar i+1 on.
    fn trade(&mut self, ts: &[i64], close: &[f64]) {
        let s = self.sym.as_mut().expect("a run belongs to a symbol");
        let targets = self.strategy.targets();
        let n = close.len();
        let [pos_out, ret_out, eq_out] = &mut self.run_cols;
        for v in [&mut *pos_out, &mut *ret_out, &mut *eq_out] {
            v.resize(n, 0.0);
        }
        for i in 0..n {
            let first = s.prev_close.is_nan();
            let pos = s.target;
            let r = if first {
                0.0
            } else {
                close[i] / s.prev_close - 1.0
            };
            let ret = if first {
                0.0
            } else {
                s.pos * r - self.opts.fee * (pos - s.pos).abs()
            };
            eq_out[i] = s.perf.bar(ts[i], pos, ret);
            s.book.bar(ts[i], close[i], pos, ret);
            pos_out[i] = pos;
            ret_out[i] = ret;
            s.pos = pos;
            s.prev_close = close[i];
            let t = targets[i];
            s.target = if t < 0.0 && self.opts.long_only {
                0.0
            } else {
                t
            };
        }
        s.last_signal = self.strategy.last_signal();
    }

    /// Computes bars `range` of `run`; `Err((stage, message))` when the symbol fails.
    fn slice(
        &mut self,
        run: &SymbolRun<'_>,
        range: std::ops::Range<usize>,
    ) -> Result<std::result::Result<(), (Stage, String)>> {
        let n = range.len();
        let values: Vec<&[f64]> = run.values.iter().map(|v| &v[range.clone()]).collect();
        let ts = &run.ts[range];
        let close = values[self.close_at];
        if let Err(e) = self.strategy.step(&values) {
            return Ok(Err((self.strategy.stage(), e.message)));
        }
        self.trade(ts, close);
        let sym = self.sym.as_mut().expect("symbol");
        sym.bars += n as u64;
        let (bars, flushed) = (sym.bars, sym.flushed);
        let outs = self.strategy.outputs();
        let cols: Vec<&[f64]> = std::iter::once(close)
            .chain(outs)
            .chain(self.run_cols.iter().map(|v| v.as_slice()))
            .collect();
        if flushed {
            let t = ensure_tables(
                &mut self.tables,
                &self.opts.out,
                self.bucket,
                self.part,
                &self.signal_cols,
            );
            let sym = self.sym.as_mut().expect("symbol");
            t.signals.push_series(&sym.symbol, ts, &cols)?;
            self.trades_added +=
                push_trades(&mut t.trades, &sym.symbol, &mut sym.book.closed, sym.since)?;
            return Ok(Ok(()));
        }
        self.pending_ts.extend_from_slice(ts);
        for (p, c) in self.pending.iter_mut().zip(cols) {
            p.extend_from_slice(c);
        }
        if bars >= self.strategy.min_bars() {
            let ts = std::mem::take(&mut self.pending_ts);
            let pending = std::mem::take(&mut self.pending);
            let cols: Vec<&[f64]> = pending.iter().map(|v| v.as_slice()).collect();
            let t = ensure_tables(
                &mut self.tables,
                &self.opts.out,
                self.bucket,
                self.part,
                &self.signal_cols,
            );
            let sym = self.sym.as_mut().expect("symbol");
            t.signals.push_series(&sym.symbol, &ts, &cols)?;
            self.trades_added +=
                push_trades(&mut t.trades, &sym.symbol, &mut sym.book.closed, sym.since)?;
            sym.flushed = true;
            self.pending_ts = ts;
            self.pending_ts.clear();
            self.pending = pending;
            self.pending.iter_mut().for_each(Vec::clear);
        }
        Ok(Ok(()))
    }
}

/// Moves `trades` of `symbol` into the trades table; returns how many of them this run
/// closed, or opened and left open (after `since`).
fn push_trades(
    table: &mut ResultTable,
    symbol: &str,
    trades: &mut Vec<Trade>,
    since: i64,
) -> Result<u64> {
    let new = trades
        .iter()
        .filter(|t| t.exit_ts.unwrap_or(t.entry_ts) > since)
        .count() as u64;
    for t in trades.drain(..) {
        table.push_row(&[
            Val::Text(symbol),
            Val::Text(t.side_name()),
            Val::Timestamp(t.entry_ts),
            t.exit_ts.map_or(Val::Null, Val::Timestamp),
            Val::Double(t.entry_price),
            Val::Double(t.exit_price),
            Val::BigInt(t.bars as i64),
            Val::Double(t.ret),
        ])?;
    }
    Ok(new)
}

impl BacktestSink {
    /// Starts `symbol`: kept failed if it failed in the previous run, continued from its
    /// saved state if it has one, else from scratch.
    fn open_symbol(&mut self, symbol: &str) -> Result<()> {
        self.carry_before(Some(symbol))?;
        if let Some(f) = self.prior_failed.remove(symbol) {
            return self.keep_failed(symbol, f);
        }
        match self.prior.remove(symbol) {
            Some(st) => {
                self.resume(&st)?;
                self.updated += 1;
            }
            None => {
                self.begin(symbol)?;
                self.added += 1;
            }
        }
        Ok(())
    }
}

impl RunSink for BacktestSink {
    fn on_run(&mut self, run: &SymbolRun<'_>) -> Result<()> {
        if !run.continues {
            self.load_carried()?;
            self.open_symbol(run.symbol)?;
        }
        let n = run.ts.len();
        self.bars += n as u64;
        self.progress.bars.fetch_add(n as u64, Ordering::Relaxed);
        let sym = self.sym.as_mut().expect("symbol");
        if sym.failed.is_some() {
            return Ok(());
        }
        if let Err(m) = sym.clock.check() {
            sym.failed = Some((Stage::Timeout, m));
            return Ok(());
        }
        for range in slices(n) {
            let start = Instant::now();
            let len = range.len();
            let outcome = match self.slice(run, range)? {
                Ok(()) => {
                    // Bars computed ahead in a lane group are charged their share of it.
                    let ahead = self.strategy.primed_ns_per_bar() * len as f64 * 1e-9;
                    let start = start
                        .checked_sub(std::time::Duration::from_secs_f64(ahead))
                        .unwrap_or(start);
                    let sym = self.sym.as_mut().expect("symbol");
                    sym.clock
                        .charge(start, len)
                        .map_err(|m| (Stage::Timeout, m))
                }
                Err(f) => Err(f),
            };
            if let Err(f) = outcome {
                self.sym.as_mut().expect("symbol").failed = Some(f);
                return Ok(());
            }
        }
        Ok(())
    }

    /// The symbol fails at stage `input` (the first failure of a symbol is the one kept):
    /// its rows are taken back from `signals` and `trades` as for a kernel failure, and an
    /// `_errors` row records it when the symbol ends.
    fn fail_symbol(&mut self, symbol: &str, message: &str) -> Result<()> {
        self.load_carried()?;
        if self.sym.as_ref().is_none_or(|s| s.symbol != symbol) {
            self.open_symbol(symbol)?;
        }
        let s = self.sym.as_mut().expect("symbol");
        keep_first_failure(&mut s.failed, Stage::Input, message);
        Ok(())
    }

    /// Writes the bucket's files and its completion marker.
    fn finish(&mut self) -> Result<()> {
        self.load_carried()?;
        self.carry_before(None)?;
        self.end_symbol()?;
        self.tables();
        let t = self.tables.take().expect("created");
        let out = &self.opts.out;
        let k = self.bucket;
        let mut entries = Vec::new();
        for (rel, table) in bucket_files(k, self.part)
            .into_iter()
            .zip([t.signals, t.summary, t.trades, t.errors, t.states, t.open])
        {
            let w = table.write_parquet()?;
            entries.push(format!(
                "{{\"path\":\"{rel}\",\"rows\":{},\"bytes\":{},\"sha256\":\"{}\"}}",
                w.rows, w.bytes, w.sha256
            ));
        }
        let marker = format!(
            "{{\"bucket\":{k},\"bars\":{},\"symbols\":{},\"skipped\":{},\"failed\":{},\"added\":{},\"updated\":{},\"tradesAdded\":{},\"files\":[{}]}}\n",
            self.bars,
            self.symbols,
            self.skipped,
            self.failed,
            self.added,
            self.updated,
            self.trades_added,
            entries.join(",")
        );
        write_atomic(&state_path(out, k), marker.as_bytes())?;
        self.progress.partitions.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Where bucket `k`'s files go, relative to the output folder: signals and closed trades as
/// part `part` (an update's generation; the trades of part 0 are `part-<k>`, of part g
/// `part-<k>-<g>`), the rest rewritten whole (the trades still open in `open-<k>`).
pub fn bucket_files(k: u32, part: u32) -> [String; 6] {
    [
        format!("signals/bucket={k}/part-{part}.parquet"),
        format!("summary/part-{k}.parquet"),
        if part == 0 {
            format!("trades/part-{k}.parquet")
        } else {
            format!("trades/part-{k}-{part}.parquet")
        },
        format!("_errors/part-{k}.parquet"),
        format!("_state/symbols/bucket={k}/part-0.parquet"),
        format!("trades/open-{k}.parquet"),
    ]
}

/// The bucket's tables, created on first use.
fn ensure_tables<'a>(
    slot: &'a mut Option<Tables>,
    out: &Path,
    bucket: u32,
    part: u32,
    signal_cols: &[Col],
) -> &'a mut Tables {
    slot.get_or_insert_with(|| {
        let [sig, sum, trades, err, states, open] = bucket_files(bucket, part);
        Tables {
            signals: ResultTable::create(&out.join(sig), signal_cols),
            summary: ResultTable::create(&out.join(sum), &SUMMARY_COLUMNS),
            trades: ResultTable::create(&out.join(trades), &TRADE_COLUMNS),
            errors: ResultTable::create(&out.join(err), &ERROR_COLUMNS),
            states: ResultTable::create(&out.join(states), &STATE_COLUMNS),
            open: ResultTable::create(&out.join(open), &TRADE_COLUMNS),
        }
    })
}

/// `OUT/_state/bucket-<k>.json`: present once bucket `k` is complete.
pub fn state_path(out: &Path, bucket: u32) -> PathBuf {
    out.join("_state").join(format!("bucket-{bucket}.json"))
}
