//! A [`RunSink`] that summarises each symbol: bar count, number of runs it arrived in,
//! first and last timestamp, last and summed close. It proves the read path end to end
//! (every row arrives, in order, whole) and backs the demo until the kernels land.
use super::{RunSink, SymbolRun};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct SymbolStats {
    pub symbol: String,
    pub rows: u64,
    pub runs: u32,
    pub first_ts: i64,
    pub last_ts: i64,
    pub last_close: f64,
    pub sum_close: f64,
}

/// Collects [`SymbolStats`] in arrival order; `values[0]` is taken as the close.
/// A symbol whose input is bad is moved from `symbols` to `failed`.
#[derive(Default)]
pub struct StatsSink {
    pub symbols: Vec<SymbolStats>,
    /// (symbol, message) of each symbol whose input was bad.
    pub failed: Vec<(String, String)>,
}

impl RunSink for StatsSink {
    fn on_run(&mut self, run: &SymbolRun<'_>) -> Result<()> {
        let close = run.values.first().copied().unwrap_or(&[]);
        let sum: f64 = close.iter().sum();
        let last_close = close.last().copied().unwrap_or(f64::NAN);
        let last_ts = run.ts[run.ts.len() - 1];
        if run.continues {
            let s = self
                .symbols
                .last_mut()
                .expect("a continued run follows its symbol");
            s.rows += run.ts.len() as u64;
            s.runs += 1;
            s.last_ts = last_ts;
            s.last_close = last_close;
            s.sum_close += sum;
        } else {
            self.symbols.push(SymbolStats {
                symbol: run.symbol.to_string(),
                rows: run.ts.len() as u64,
                runs: 1,
                first_ts: run.ts[0],
                last_ts,
                last_close,
                sum_close: sum,
            });
        }
        Ok(())
    }

    fn fail_symbol(&mut self, symbol: &str, message: &str) -> Result<()> {
        if self.symbols.last().is_some_and(|s| s.symbol == symbol) {
            self.symbols.pop();
        }
        self.failed.push((symbol.to_string(), message.to_string()));
        Ok(())
    }
}
