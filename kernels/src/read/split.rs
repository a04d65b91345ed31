//! Cuts batches into per-symbol runs and checks the input as rows pass.
//!
//! What each kind of bad input becomes:
//! - a symbol whose rows come back after another symbol, or whose timestamps go back:
//!   the read fails with [`crate::ErrorCode::BadInput`] saying the source is "not ordered"
//!   (the caller may then read it again sorted by DuckDB);
//! - a repeated timestamp within a symbol, a NULL `ts`, or a NULL in a requested value
//!   column: that symbol fails ([`RunSink::fail_symbol`], naming the symbol and the first
//!   offending timestamp, or the row for a NULL `ts`); its later rows are only checked
//!   for order and never reach the sink; the other symbols go on;
//! - a NULL `symbol`: the read fails with `BadInput` (no symbol can take the blame).
//!
//! The common case (no NULL, timestamps increasing) costs one branch-free pass over each
//! run's timestamps and, only where DuckDB hands a validity mask, one pass over the mask.
use super::columns::{StrColumn, Validity};
use super::{ReadStats, RunSink, SymbolRun};
use crate::error::{Error, Result};
use std::collections::HashSet;

/// One batch's columns as the splitter reads them.
pub(crate) struct Batch<'a> {
    pub syms: StrColumn<'a>,
    pub ts: &'a [i64],
    pub values: &'a [&'a [f64]],
    /// Validity of `symbol`, `ts` and each value column (`None`: no mask, no NULL).
    pub symbol_nulls: Option<Validity<'a>>,
    pub ts_nulls: Option<Validity<'a>>,
    pub value_nulls: &'a [Option<Validity<'a>>],
    /// The value columns' names, for messages.
    pub names: &'a [String],
}

impl Batch<'_> {
    fn ts_valid(&self, k: usize) -> bool {
        self.ts_nulls.is_none_or(|v| v.valid(k))
    }
}

/// Tracks run boundaries, the order guarantee and failed symbols across batches.
pub(crate) struct Splitter {
    current: Option<String>,
    /// The last non-NULL timestamp of the current symbol.
    last_ts: i64,
    /// Rows of the current symbol so far.
    rows: u64,
    /// The current symbol's input was found bad: its later rows are only checked for order.
    failed: bool,
    finished: HashSet<String>,
    pub stats: ReadStats,
}

impl Splitter {
    pub fn new() -> Self {
        Splitter {
            current: None,
            last_ts: i64::MIN,
            rows: 0,
            failed: false,
            finished: HashSet::new(),
            stats: ReadStats::default(),
        }
    }

    /// Hands every run of `b` to `sink`.
    ///
    /// # Errors
    /// A NULL symbol, rows out of order (named), or the sink's error.
    pub fn batch(&mut self, b: &Batch<'_>, sink: &mut dyn RunSink) -> Result<()> {
        let n = b.ts.len();
        self.stats.rows += n as u64;
        self.stats.batches += 1;
        let bad = self.bad_rows(b)?;
        let mut scratch: Vec<&[f64]> = Vec::with_capacity(b.values.len());
        let mut i = 0;
        while i < n {
            let mut j = i + 1;
            while j < n && b.syms.same(i, j) {
                j += 1;
            }
            let symbol = std::str::from_utf8(b.syms.get(i))
                .map_err(|_| Error::bad_input("a symbol is not valid UTF-8"))?;
            let continues = self.current.as_deref() == Some(symbol);
            if !continues {
                if let Some(prev) = self.current.take() {
                    self.finished.insert(prev);
                }
                if self.finished.contains(symbol) {
                    return Err(Error::bad_input(format!(
                        "rows of symbol '{symbol}' are not contiguous: the source is not ordered by (symbol, ts)"
                    )));
                }
                self.current = Some(symbol.to_string());
                self.last_ts = i64::MIN;
                self.rows = 0;
                self.failed = false;
                self.stats.symbols += 1;
            }
            self.run(
                symbol,
                continues,
                i,
                j,
                b,
                bad.as_deref(),
                &mut scratch,
                sink,
            )?;
            i = j;
        }
        Ok(())
    }

    /// Rows `lo..hi` of `b`, all of `symbol`.
    #[allow(clippy::too_many_arguments)]
    fn run<'a>(
        &mut self,
        symbol: &str,
        continues: bool,
        lo: usize,
        hi: usize,
        b: &Batch<'a>,
        bad: Option<&[u64]>,
        scratch: &mut Vec<&'a [f64]>,
        sink: &mut dyn RunSink,
    ) -> Result<()> {
        if self.failed {
            return self.check_rest(symbol, b, lo, hi);
        }
        let ts = &b.ts[lo..hi];
        let clean = bad.is_none_or(|m| !(lo..hi).any(|k| bit(m, k)));
        if clean && increasing(self.last_ts, ts) {
            self.deliver(symbol, continues, lo, hi, b, scratch, sink)?;
            self.last_ts = ts[ts.len() - 1];
            self.rows += (hi - lo) as u64;
            return Ok(());
        }
        // The first row that is repeated or holds a NULL; a decrease is an order error.
        let mut prev = self.last_ts;
        let mut fail = None;
        for k in lo..hi {
            if b.ts_valid(k) {
                let t = b.ts[k];
                if t < prev {
                    return Err(not_ordered(symbol, prev, t));
                }
                if t == prev {
                    fail = Some((
                        k,
                        format!(
                            "symbol '{symbol}' has more than one bar at {} (duplicate timestamp)",
                            format_ts(t)
                        ),
                    ));
                    break;
                }
                prev = t;
            }
            if bad.is_some_and(|m| bit(m, k)) {
                let row = self.rows + (k - lo) as u64 + 1;
                fail = Some((k, null_message(symbol, b, k, row)));
                break;
            }
        }
        let Some((k, message)) = fail else {
            // Nothing wrong after all (only NULL-free rows in order): deliver them.
            self.deliver(symbol, continues, lo, hi, b, scratch, sink)?;
            self.last_ts = prev;
            self.rows += (hi - lo) as u64;
            return Ok(());
        };
        if k > lo {
            self.deliver(symbol, continues, lo, k, b, scratch, sink)?;
        }
        self.last_ts = prev;
        self.rows += (k - lo) as u64 + 1;
        self.failed = true;
        self.stats.failed += 1;
        sink.fail_symbol(symbol, &message)?;
        self.check_rest(symbol, b, k + 1, hi)
    }

    /// Rows of a failed symbol: never delivered, still checked for order so that an
    /// unordered source is read again sorted whatever else is wrong with it.
    fn check_rest(&mut self, symbol: &str, b: &Batch<'_>, lo: usize, hi: usize) -> Result<()> {
        let mut prev = self.last_ts;
        for k in lo..hi {
            if b.ts_valid(k) {
                let t = b.ts[k];
                if t < prev {
                    return Err(not_ordered(symbol, prev, t));
                }
                prev = t;
            }
        }
        self.last_ts = prev;
        self.rows += hi.saturating_sub(lo) as u64;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn deliver<'a>(
        &mut self,
        symbol: &str,
        continues: bool,
        lo: usize,
        hi: usize,
        b: &Batch<'a>,
        scratch: &mut Vec<&'a [f64]>,
        sink: &mut dyn RunSink,
    ) -> Result<()> {
        scratch.clear();
        scratch.extend(b.values.iter().map(|v| &v[lo..hi]));
        sink.on_run(&SymbolRun {
            symbol,
            ts: &b.ts[lo..hi],
            values: scratch,
            continues,
        })?;
        self.stats.runs += 1;
        Ok(())
    }

    /// A mask of the rows with a NULL `ts` or value (`None` when there is none).
    ///
    /// # Errors
    /// `BadInput` when a row has no symbol.
    fn bad_rows(&self, b: &Batch<'_>) -> Result<Option<Vec<u64>>> {
        let n = b.ts.len();
        if let Some(v) = b.symbol_nulls.filter(|v| v.any_null(n)) {
            return Err(self.null_symbol(b, v));
        }
        let mut mask: Option<Vec<u64>> = None;
        let cols = std::iter::once(&b.ts_nulls).chain(b.value_nulls);
        for v in cols.flatten().filter(|v| v.any_null(n)) {
            let m = mask.get_or_insert_with(|| vec![0; n.div_ceil(64)]);
            for i in (0..n).filter(|&i| !v.valid(i)) {
                m[i / 64] |= 1 << (i % 64);
            }
        }
        Ok(mask)
    }

    fn null_symbol(&self, b: &Batch<'_>, v: Validity<'_>) -> Error {
        let n = b.ts.len();
        let first = (0..n).find(|&i| !v.valid(i)).unwrap_or(0);
        let after = if first > 0 {
            std::str::from_utf8(b.syms.get(first - 1))
                .ok()
                .map(str::to_string)
        } else {
            self.current.clone()
        };
        let place = match after {
            Some(s) => format!("the first of them after the rows of symbol '{s}'"),
            None => "the first of them at the start of the source".to_string(),
        };
        Error::bad_input(format!(
            "column 'symbol' is NULL in {} of the {n} rows of the batch where it first occurs, \
             {place}: every bar needs a symbol (filter such rows out, e.g. WHERE symbol IS NOT NULL)",
            v.count_null(n)
        ))
    }
}

#[inline]
fn bit(m: &[u64], k: usize) -> bool {
    m[k / 64] >> (k % 64) & 1 == 1
}

/// Whether `ts` rises strictly from `before` on: one branch-free pass.
#[inline]
fn increasing(before: i64, ts: &[i64]) -> bool {
    let mut prev = before;
    let mut ok = true;
    for &t in ts {
        ok &= t > prev;
        prev = t;
    }
    ok
}

fn not_ordered(symbol: &str, prev: i64, t: i64) -> Error {
    Error::bad_input(format!(
        "timestamps of symbol '{symbol}' go back from {} to {}: the source is not ordered by (symbol, ts)",
        format_ts(prev),
        format_ts(t)
    ))
}

fn null_message(symbol: &str, b: &Batch<'_>, k: usize, row: u64) -> String {
    if !b.ts_valid(k) {
        return format!("symbol '{symbol}' has a NULL ts at its row {row} (counting from 1)");
    }
    let cols: Vec<&str> = b
        .value_nulls
        .iter()
        .zip(b.names)
        .filter(|(v, _)| v.is_some_and(|v| !v.valid(k)))
        .map(|(_, name)| name.as_str())
        .collect();
    format!(
        "symbol '{symbol}' has a NULL {} at {}",
        cols.join(" and "),
        format_ts(b.ts[k])
    )
}

/// A TIMESTAMP (microseconds since the epoch) as DuckDB prints it: `2020-01-03 00:00:00`,
/// with `.ffffff` when there are fractional seconds.
pub fn format_ts(us: i64) -> String {
    match us {
        i64::MAX => return "infinity".into(),
        v if v == -i64::MAX => return "-infinity".into(),
        _ => {}
    }
    let secs = us.div_euclid(1_000_000);
    let frac = us.rem_euclid(1_000_000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    let base = format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        s / 3600,
        s % 3600 / 60,
        s % 60
    );
    if frac == 0 {
        base
    } else {
        format!("{base}.{frac:06}")
    }
}

/// Days since 1970-01-01 as a proleptic Gregorian (year, month, day), counted in
/// 400-year eras of 146,097 days whose years start on March 1st.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_print_as_duckdb_prints_them() {
        assert_eq!(format_ts(0), "1970-01-01 00:00:00");
        // 2020-01-03 00:00:00 and 2000-02-29 (a leap day of a century year) 12:34:56.5.
        assert_eq!(format_ts(1_578_009_600_000_000), "2020-01-03 00:00:00");
        assert_eq!(format_ts(951_827_696_500_000), "2000-02-29 12:34:56.500000");
        assert_eq!(format_ts(-1), "1969-12-31 23:59:59.999999");
        assert_eq!(format_ts(-86_400_000_000 * 365), "1969-01-01 00:00:00");
        assert_eq!(format_ts(i64::MAX), "infinity");
    }
}
