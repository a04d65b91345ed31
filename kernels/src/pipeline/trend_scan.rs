//! The trend scan: for every symbol, a moving average of the close and the trend state of
//! the close against it (the crossover state of the spec), run to the last bar. What a
//! dataframe or SQL user computes as "SMA and a rolling signal", on barstream's read path.
use super::{keep_first_failure, Outcome, Progress, Stage};
use crate::atc::Trend;
use crate::error::{Error, Result};
use crate::kernel::Kernel;
use crate::ma::{Dema, Ema, Hma, Kama, Lsma, Rma, Sma, Wma};
use crate::read::{RunSink, SymbolRun};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// A moving average chosen by name, continued run by run.
trait Line: Send {
    fn update(&mut self, x: &[f64], out: &mut [f64]) -> Result<()>;
}

impl<K: Kernel + Send> Line for K {
    fn update(&mut self, x: &[f64], out: &mut [f64]) -> Result<()> {
        Kernel::update(self, x, out)
    }
}

/// The moving averages a trend scan can use.
pub const MAS: [&str; 8] = ["SMA", "EMA", "RMA", "WMA", "DEMA", "HMA", "LSMA", "KAMA"];

fn line(ma: &str, len: usize) -> Result<Box<dyn Line>> {
    Ok(match ma {
        "SMA" => Box::new(Sma::new(&len)?),
        "EMA" => Box::new(Ema::new(&len)?),
        "RMA" => Box::new(Rma::new(&len)?),
        "WMA" => Box::new(Wma::new(&len)?),
        "DEMA" => Box::new(Dema::new(&len)?),
        "HMA" => Box::new(Hma::new(&len)?),
        "LSMA" => Box::new(Lsma::new(&len)?),
        "KAMA" => Box::new(Kama::new(&len)?),
        other => {
            return Err(Error::param(format!(
                "ma must be one of {}, got '{other}'",
                MAS.join(", ")
            )))
        }
    })
}

/// The last bar of one symbol.
#[derive(Clone, Debug, PartialEq)]
pub struct TrendRow {
    pub symbol: String,
    pub bars: u64,
    /// The moving average at the last bar (NaN if never defined).
    pub ma: f64,
    /// The trend state at the last bar: +1, -1 or 0.
    pub state: f64,
    /// Bars in state +1 and -1.
    pub long_bars: u64,
    pub short_bars: u64,
    pub close: f64,
    pub ts: i64,
}

impl super::Named for TrendRow {
    fn symbol(&self) -> &str {
        &self.symbol
    }
}

struct Current {
    row: TrendRow,
    line: Box<dyn Line>,
    trend: Trend,
    failed: Option<(Stage, String)>,
}

pub struct TrendScanSink {
    ma: String,
    len: usize,
    current: Option<Current>,
    line_buf: Vec<f64>,
    state_buf: Vec<f64>,
    pub outcomes: Vec<Outcome<TrendRow>>,
    progress: Arc<Progress>,
}

impl TrendScanSink {
    /// # Errors
    /// An unknown moving average or a length below 1, named.
    pub fn new(ma: &str, len: usize, progress: Arc<Progress>) -> Result<Self> {
        line(ma, len)?;
        Ok(TrendScanSink {
            ma: ma.to_string(),
            len,
            current: None,
            line_buf: Vec::new(),
            state_buf: Vec::new(),
            outcomes: Vec::new(),
            progress,
        })
    }

    fn end_symbol(&mut self) {
        if let Some(c) = self.current.take() {
            let symbol = c.row.symbol.clone();
            self.outcomes.push(match c.failed {
                Some((stage, message)) => Outcome::Failed {
                    symbol,
                    stage,
                    message,
                },
                None if c.row.ma.is_nan() => Outcome::Skipped {
                    symbol,
                    reason: format!(
                        "{} bars: the {}({}) is never defined",
                        c.row.bars, self.ma, self.len
                    ),
                },
                None => Outcome::Done(c.row),
            });
            self.progress.symbols.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Ends the symbol in progress and starts `symbol`.
    fn begin(&mut self, symbol: &str) -> Result<()> {
        self.end_symbol();
        let row = TrendRow {
            symbol: symbol.to_string(),
            bars: 0,
            ma: f64::NAN,
            state: 0.0,
            long_bars: 0,
            short_bars: 0,
            close: f64::NAN,
            ts: 0,
        };
        self.current = Some(Current {
            row,
            line: line(&self.ma, self.len)?,
            trend: Trend::new(),
            failed: None,
        });
        Ok(())
    }
}

impl RunSink for TrendScanSink {
    fn on_run(&mut self, run: &SymbolRun<'_>) -> Result<()> {
        if !run.continues {
            self.begin(run.symbol)?;
        }
        let n = run.ts.len();
        self.progress.bars.fetch_add(n as u64, Ordering::Relaxed);
        let cur = self.current.as_mut().expect("a run belongs to a symbol");
        cur.row.bars += n as u64;
        if cur.failed.is_some() {
            return Ok(());
        }
        let close = run.values[0];
        self.line_buf.resize(n, 0.0);
        self.state_buf.resize(n, 0.0);
        if let Err(e) = cur.line.update(close, &mut self.line_buf) {
            cur.failed = Some((Stage::Kernel, e.message));
            return Ok(());
        }
        cur.trend.run(close, &self.line_buf, &mut self.state_buf);
        for &s in &self.state_buf {
            cur.row.long_bars += (s > 0.0) as u64;
            cur.row.short_bars += (s < 0.0) as u64;
        }
        cur.row.ma = self.line_buf[n - 1];
        cur.row.state = self.state_buf[n - 1];
        cur.row.close = close[n - 1];
        cur.row.ts = run.ts[n - 1];
        Ok(())
    }

    /// The symbol fails at stage `input` (the first failure of a symbol is the one kept);
    /// its line so far is dropped.
    fn fail_symbol(&mut self, symbol: &str, message: &str) -> Result<()> {
        if self.current.as_ref().is_none_or(|c| c.row.symbol != symbol) {
            self.begin(symbol)?;
        }
        let cur = self.current.as_mut().expect("begun");
        keep_first_failure(&mut cur.failed, Stage::Input, message);
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        self.end_symbol();
        Ok(())
    }
}
