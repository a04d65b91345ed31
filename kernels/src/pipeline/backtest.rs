//! The backtest sink: per bar, the ATC outputs, the position (following the ATC events one
//! bar late), the strategy return and the equity, streamed into the bucket's `signals`
//! table; per symbol, a `summary` row; per failed or skipped symbol, an `_errors` row
//! (stage `input`, `kernel` or `skipped`; a failed symbol's `signals` rows are taken back).
//! At the end of the bucket the three tables become Parquet files, each renamed into place,
//! then a `_state/bucket-<k>.json` marker says the bucket is complete.
use super::perf::Perf;
use super::symbol::SymbolAtc;
use super::writer::{write_atomic, Col, ResultTable, Val};
use super::{keep_first_failure, Progress, Stage};
use crate::atc::{AtcParams, NCOL};
use crate::error::Result;
use crate::read::{RunSink, SymbolRun};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub const SIGNAL_COLUMNS: [Col; 20] = [
    Col::Text("symbol"),
    Col::Timestamp("ts"),
    Col::Double("close"),
    Col::Double("average_signal"),
    Col::Double("ema_signal"),
    Col::Double("hma_signal"),
    Col::Double("wma_signal"),
    Col::Double("dema_signal"),
    Col::Double("lsma_signal"),
    Col::Double("kama_signal"),
    Col::Double("ema_s"),
    Col::Double("hma_s"),
    Col::Double("wma_s"),
    Col::Double("dema_s"),
    Col::Double("lsma_s"),
    Col::Double("kama_s"),
    Col::Double("event"),
    Col::Double("position"),
    Col::Double("strategy_return"),
    Col::Double("equity"),
];
/// DOUBLE columns after `(symbol, ts)`.
const NVAL: usize = 18;

pub const SUMMARY_COLUMNS: [Col; 13] = [
    Col::Text("symbol"),
    Col::Timestamp("first_ts"),
    Col::Timestamp("last_ts"),
    Col::BigInt("bars"),
    Col::Double("last_signal"),
    Col::Double("total_return"),
    Col::Double("cagr"),
    Col::Double("volatility"),
    Col::Double("sharpe"),
    Col::Double("max_drawdown"),
    Col::BigInt("trades"),
    Col::Double("win_rate"),
    Col::Double("exposure"),
];

pub const ERROR_COLUMNS: [Col; 3] = [
    Col::Text("symbol"),
    Col::Text("stage"),
    Col::Text("message"),
];

/// What a backtest does beside the ATC.
#[derive(Clone, Debug)]
pub struct BacktestOptions {
    pub out: PathBuf,
    /// Cost per unit of position change, as a fraction (`fee_bps / 10_000`).
    pub fee: f64,
    pub long_only: bool,
}

struct Sym {
    symbol: String,
    bars: u64,
    failed: Option<(Stage, String)>,
    /// Rows already in the signals table (else still in `pending`).
    flushed: bool,
    perf: Perf,
    prev_close: f64,
    pos: f64,
    target: f64,
    last_signal: f64,
}

impl Sym {
    fn new(symbol: &str) -> Self {
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
        }
    }
}

struct Tables {
    signals: ResultTable,
    summary: ResultTable,
    errors: ResultTable,
}

pub struct BacktestSink {
    bucket: u32,
    opts: BacktestOptions,
    atc: SymbolAtc,
    tables: Option<Tables>,
    sym: Option<Sym>,
    /// Bars of a symbol not yet known to reach the longest MA length.
    pending_ts: Vec<i64>,
    pending: Vec<Vec<f64>>,
    /// This run's position, strategy return and equity.
    run_cols: [Vec<f64>; 3],
    progress: Arc<Progress>,
    pub symbols: u64,
    pub skipped: u64,
    pub failed: u64,
    /// Bars read.
    pub bars: u64,
}

impl BacktestSink {
    /// # Errors
    /// `InvalidParam` naming the parameter.
    pub fn new(
        bucket: u32,
        params: &AtcParams,
        opts: &BacktestOptions,
        progress: Arc<Progress>,
    ) -> Result<Self> {
        Ok(BacktestSink {
            bucket,
            opts: opts.clone(),
            atc: SymbolAtc::new(params)?,
            tables: None,
            sym: None,
            pending_ts: Vec::new(),
            pending: vec![Vec::new(); NVAL],
            run_cols: [Vec::new(), Vec::new(), Vec::new()],
            progress,
            symbols: 0,
            skipped: 0,
            failed: 0,
            bars: 0,
        })
    }

    fn tables(&mut self) -> &mut Tables {
        ensure_tables(&mut self.tables, &self.opts.out, self.bucket)
    }

    fn end_symbol(&mut self) -> Result<()> {
        let Some(s) = self.sym.take() else {
            return Ok(());
        };
        self.symbols += 1;
        self.progress.symbols.fetch_add(1, Ordering::Relaxed);
        self.pending_ts.clear();
        self.pending.iter_mut().for_each(Vec::clear);
        let longest = self.atc.longest;
        let t = self.tables();
        if let Some((stage, mut message)) = s.failed {
            if s.flushed {
                let kept = t.signals.rollback_symbol(&s.symbol);
                if kept > 0 {
                    message.push_str(&format!(
                        " (its first {kept} rows were already written to signals)"
                    ));
                }
            }
            t.errors.push_row(&[
                Val::Text(&s.symbol),
                Val::Text(stage.as_str()),
                Val::Text(&message),
            ])?;
            self.failed += 1;
        } else if s.bars < longest {
            let why = format!(
                "{} bars, fewer than the longest MA length {longest}",
                s.bars
            );
            t.errors
                .push_row(&[Val::Text(&s.symbol), Val::Text("skipped"), Val::Text(&why)])?;
            self.skipped += 1;
        } else {
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
        Ok(())
    }

    /// Position, strategy return and equity for this run's bars (`out` = ATC outputs).
    fn trade(&mut self, ts: &[i64], close: &[f64]) {
        let s = self.sym.as_mut().expect("a run belongs to a symbol");
        let event = &self.atc.outputs()[NCOL - 1];
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
            pos_out[i] = pos;
            ret_out[i] = ret;
            s.pos = pos;
            s.prev_close = close[i];
            // The event of this bar moves the position from the next bar on.
            if event[i] > 0.0 {
                s.target = 1.0;
            } else if event[i] < 0.0 {
                s.target = if self.opts.long_only { 0.0 } else { -1.0 };
            }
        }
        s.last_signal = self.atc.outputs()[0][n - 1];
    }
}

impl RunSink for BacktestSink {
    fn on_run(&mut self, run: &SymbolRun<'_>) -> Result<()> {
        if !run.continues {
            self.end_symbol()?;
            self.atc.begin()?;
            self.sym = Some(Sym::new(run.symbol));
        }
        let n = run.ts.len();
        self.bars += n as u64;
        self.progress.bars.fetch_add(n as u64, Ordering::Relaxed);
        if self.sym.as_ref().expect("symbol").failed.is_some() {
            return Ok(());
        }
        let close = run.values[0];
        if let Err(e) = self.atc.step(close) {
            self.sym.as_mut().expect("symbol").failed = Some((Stage::Kernel, e.message));
            return Ok(());
        }
        self.trade(run.ts, close);
        let sym = self.sym.as_mut().expect("symbol");
        sym.bars += n as u64;
        let (bars, flushed) = (sym.bars, sym.flushed);
        let outs = self.atc.outputs();
        let cols: [&[f64]; NVAL] = {
            let mut it = std::iter::once(close)
                .chain(outs.iter().map(|v| v.as_slice()))
                .chain(self.run_cols.iter().map(|v| v.as_slice()));
            std::array::from_fn(|_| it.next().expect("18 columns"))
        };
        if flushed {
            let symbol = &self.sym.as_ref().expect("symbol").symbol;
            return ensure_tables(&mut self.tables, &self.opts.out, self.bucket)
                .signals
                .push_series(symbol, run.ts, &cols);
        }
        self.pending_ts.extend_from_slice(run.ts);
        for (p, c) in self.pending.iter_mut().zip(cols) {
            p.extend_from_slice(c);
        }
        if bars >= self.atc.longest {
            let symbol = self.sym.as_ref().expect("symbol").symbol.clone();
            let ts = std::mem::take(&mut self.pending_ts);
            let pending = std::mem::take(&mut self.pending);
            let cols: Vec<&[f64]> = pending.iter().map(|v| v.as_slice()).collect();
            self.tables().signals.push_series(&symbol, &ts, &cols)?;
            self.pending_ts = ts;
            self.pending_ts.clear();
            self.pending = pending;
            self.pending.iter_mut().for_each(Vec::clear);
            self.sym.as_mut().expect("symbol").flushed = true;
        }
        Ok(())
    }

    /// The symbol fails at stage `input` (the first failure of a symbol is the one kept):
    /// its rows are taken back from `signals` as for a kernel failure, and an `_errors` row
    /// records it when the symbol ends.
    fn fail_symbol(&mut self, symbol: &str, message: &str) -> Result<()> {
        if self.sym.as_ref().is_none_or(|s| s.symbol != symbol) {
            self.end_symbol()?;
            self.sym = Some(Sym::new(symbol));
        }
        let s = self.sym.as_mut().expect("symbol");
        keep_first_failure(&mut s.failed, Stage::Input, message);
        Ok(())
    }

    /// Writes the bucket's files and its completion marker.
    fn finish(&mut self) -> Result<()> {
        self.end_symbol()?;
        self.tables();
        let t = self.tables.take().expect("created");
        let out = &self.opts.out;
        let k = self.bucket;
        let mut entries = Vec::new();
        for (rel, table) in bucket_files(k)
            .into_iter()
            .zip([t.signals, t.summary, t.errors])
        {
            let w = table.write_parquet()?;
            entries.push(format!(
                "{{\"path\":\"{rel}\",\"rows\":{},\"bytes\":{},\"sha256\":\"{}\"}}",
                w.rows, w.bytes, w.sha256
            ));
        }
        let marker = format!(
            "{{\"bucket\":{k},\"bars\":{},\"symbols\":{},\"skipped\":{},\"failed\":{},\"files\":[{}]}}\n",
            self.bars,
            self.symbols,
            self.skipped,
            self.failed,
            entries.join(",")
        );
        write_atomic(&state_path(out, k), marker.as_bytes())?;
        self.progress.partitions.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Where bucket `k`'s files go, relative to the output folder.
pub fn bucket_files(k: u32) -> [String; 3] {
    [
        format!("signals/bucket={k}/part-0.parquet"),
        format!("summary/part-{k}.parquet"),
        format!("_errors/part-{k}.parquet"),
    ]
}

/// The bucket's tables, created on first use.
fn ensure_tables<'a>(slot: &'a mut Option<Tables>, out: &Path, bucket: u32) -> &'a mut Tables {
    slot.get_or_insert_with(|| {
        let [sig, sum, err] = bucket_files(bucket);
        Tables {
            signals: ResultTable::create(&out.join(sig), &SIGNAL_COLUMNS),
            summary: ResultTable::create(&out.join(sum), &SUMMARY_COLUMNS),
            errors: ResultTable::create(&out.join(err), &ERROR_COLUMNS),
        }
    })
}

/// `OUT/_state/bucket-<k>.json`: present once bucket `k` is complete.
pub fn state_path(out: &Path, bucket: u32) -> PathBuf {
    out.join("_state").join(format!("bucket-{bucket}.json"))
}
