//! The synthetic OHLCV generator and its writer into the canonical layout
//! `DIR/bucket=<k>/part-0.parquet` (columns `symbol, ts, open, high, low, close, volume`,
//! rows sorted by `(symbol, ts)`, zstd).
//!
//! Output is a pure function of the parameters: each symbol draws from its own random
//! stream (seed, symbol number), so the data do not depend on bucketing or threads.
pub mod rng;
pub mod walk;

use crate::duck::ffi::{DUCKDB_TYPE_DOUBLE, DUCKDB_TYPE_TIMESTAMP, DUCKDB_TYPE_VARCHAR};
use crate::duck::{sql_literal, vector_size, Connection, DataChunk, Database};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use walk::{walk, Bars};

const US_PER_SEC: i64 = 1_000_000;
const US_PER_DAY: i64 = 86_400 * US_PER_SEC;

/// Spacing of bars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freq {
    /// One bar per weekday (Monday to Friday), at midnight.
    BusinessDay,
    /// A fixed step in microseconds, every day of the week.
    Fixed(i64),
}

impl Freq {
    /// `1d` (weekdays), or `<n>h`, `<n>m`, `<n>s` for fixed intraday steps.
    pub fn parse(s: &str) -> Result<Freq> {
        let bad = || Error::param(format!("freq must look like 1d, 4h, 15m or 30s, got '{s}'"));
        if s == "1d" {
            return Ok(Freq::BusinessDay);
        }
        let (num, unit) = s.split_at(s.len().checked_sub(1).ok_or_else(bad)?);
        let n: i64 = num.parse().map_err(|_| bad())?;
        if n < 1 {
            return Err(bad());
        }
        let unit_us = match unit {
            "h" => 3600 * US_PER_SEC,
            "m" => 60 * US_PER_SEC,
            "s" => US_PER_SEC,
            _ => return Err(bad()),
        };
        Ok(Freq::Fixed(n * unit_us))
    }

    /// Years per bar, for scaling drift and volatility (252 trading days a year).
    pub fn years_per_bar(self) -> f64 {
        match self {
            Freq::BusinessDay => 1.0 / 252.0,
            Freq::Fixed(us) => us as f64 / (252.0 * US_PER_DAY as f64),
        }
    }

    /// `n` timestamps from `start_us`; business days start at the first weekday on or after it.
    pub fn timestamps(self, start_us: i64, n: usize, out: &mut Vec<i64>) {
        out.clear();
        match self {
            Freq::Fixed(step) => out.extend((0..n as i64).map(|i| start_us + i * step)),
            Freq::BusinessDay => {
                let mut day = start_us.div_euclid(US_PER_DAY);
                while out.len() < n {
                    // 1970-01-01 was a Thursday: weekday 0 = Monday.
                    let weekday = (day + 3).rem_euclid(7);
                    if weekday < 5 {
                        out.push(day * US_PER_DAY);
                    }
                    day += 1;
                }
            }
        }
    }
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenParams {
    pub symbols: usize,
    pub bars: usize,
    pub seed: u64,
    pub start_us: i64,
    pub freq: Freq,
    pub buckets: usize,
    /// Write only this bucket (callers drive the buckets one by one to report progress).
    pub only_bucket: Option<usize>,
}

/// A ticker-like name for symbol number `k`: four capital letters (five past 26^4 symbols),
/// scrambled so neighbouring numbers do not share prefixes.
pub fn ticker(k: usize, total: usize) -> String {
    let width = if total <= 26usize.pow(4) { 4 } else { 5 };
    let space = 26u64.pow(width);
    // 7919 is prime and coprime to 26, so this is a bijection on 0..space.
    let mut v = (k as u64 * 7919 + 11) % space;
    let mut s = vec![b'A'; width as usize];
    for c in s.iter_mut().rev() {
        *c = b'A' + (v % 26) as u8;
        v /= 26;
    }
    String::from_utf8(s).expect("ASCII")
}

/// One written file.
#[derive(Debug, Clone)]
pub struct WrittenFile {
    pub path: PathBuf,
    pub bucket: usize,
    pub rows: u64,
}

fn check(p: &GenParams) -> Result<()> {
    if p.symbols < 1 {
        return Err(Error::param("symbols must be at least 1"));
    }
    if p.symbols > 26usize.pow(5) {
        return Err(Error::param(format!(
            "symbols must be at most {}",
            26usize.pow(5)
        )));
    }
    if p.bars < 1 {
        return Err(Error::param("bars must be at least 1"));
    }
    if p.buckets < 1 {
        return Err(Error::param("buckets must be at least 1"));
    }
    if p.only_bucket.is_some_and(|b| b >= p.buckets) {
        return Err(Error::param("bucket must be below the number of buckets"));
    }
    Ok(())
}

/// Which bucket each symbol goes to: DuckDB's `hash(symbol) % buckets`, the same rule
/// `barstream ingest` applies in SQL.
fn assign_buckets(conn: &Connection, names: &[String], buckets: usize) -> Result<Vec<usize>> {
    conn.execute("CREATE OR REPLACE TEMP TABLE gen_symbols (k BIGINT, symbol VARCHAR)")?;
    let mut app = conn.appender("gen_symbols")?;
    let mut chunk =
        DataChunk::with_types(&[crate::duck::ffi::DUCKDB_TYPE_BIGINT, DUCKDB_TYPE_VARCHAR]);
    let cap = vector_size();
    for (start, part) in names.chunks(cap).enumerate().map(|(i, p)| (i * cap, p)) {
        chunk.reset();
        let ks = unsafe { chunk.vector(0).slice_mut::<i64>(part.len()) };
        for (i, name) in part.iter().enumerate() {
            ks[i] = (start + i) as i64;
            chunk.vector(1).set_string(i, name);
        }
        chunk.set_len(part.len());
        app.append(&chunk)?;
    }
    app.close()?;
    let mut out = vec![0usize; names.len()];
    let mut res = conn.stream(&format!(
        "SELECT k, (hash(symbol) % {buckets})::BIGINT AS b FROM gen_symbols"
    ))?;
    while let Some(c) = res.next_chunk()? {
        let n = c.len();
        let (ks, bs) = unsafe { (c.vector(0).slice::<i64>(n), c.vector(1).slice::<i64>(n)) };
        for i in 0..n {
            out[ks[i] as usize] = bs[i] as usize;
        }
    }
    Ok(out)
}

/// Appends one symbol's bars to the staging table, a vector's worth at a time.
fn append_symbol(
    app: &mut crate::duck::Appender,
    chunk: &mut DataChunk,
    name: &str,
    ts: &[i64],
    bars: &Bars,
) -> Result<()> {
    let cap = vector_size();
    let mut start = 0;
    while start < ts.len() {
        let n = cap.min(ts.len() - start);
        chunk.reset();
        for i in 0..n {
            chunk.vector(0).set_string(i, name);
        }
        unsafe { chunk.vector(1).slice_mut::<i64>(n) }.copy_from_slice(&ts[start..start + n]);
        for (col, src) in [&bars.open, &bars.high, &bars.low, &bars.close, &bars.volume]
            .into_iter()
            .enumerate()
        {
            unsafe { chunk.vector(col + 2).slice_mut::<f64>(n) }
                .copy_from_slice(&src[start..start + n]);
        }
        chunk.set_len(n);
        app.append(chunk)?;
        start += n;
    }
    Ok(())
}

/// Writes the dataset under `dir` (which must exist), one file per non-empty bucket (or
/// only `p.only_bucket`), each first under a temporary name and renamed into place.
///
/// # Errors
/// Invalid parameters (named), DuckDB or file-system failures.
pub fn write_dataset(
    dir: &Path,
    p: &GenParams,
    db_settings: &[(&str, String)],
) -> Result<Vec<WrittenFile>> {
    check(p)?;
    let db = Database::open(None, db_settings)?;
    let conn = db.connect()?;
    let names: Vec<String> = (0..p.symbols).map(|k| ticker(k, p.symbols)).collect();
    let bucket_of = assign_buckets(&conn, &names, p.buckets)?;
    let mut by_bucket: Vec<Vec<usize>> = vec![Vec::new(); p.buckets];
    for (k, &b) in bucket_of.iter().enumerate() {
        by_bucket[b].push(k);
    }
    let mut ts = Vec::with_capacity(p.bars);
    p.freq.timestamps(p.start_us, p.bars, &mut ts);
    let mut bars = Bars::default();
    let mut chunk = DataChunk::with_types(&[
        DUCKDB_TYPE_VARCHAR,
        DUCKDB_TYPE_TIMESTAMP,
        DUCKDB_TYPE_DOUBLE,
        DUCKDB_TYPE_DOUBLE,
        DUCKDB_TYPE_DOUBLE,
        DUCKDB_TYPE_DOUBLE,
        DUCKDB_TYPE_DOUBLE,
    ]);
    let mut files = Vec::new();
    for (b, members) in by_bucket.iter_mut().enumerate() {
        if members.is_empty() || p.only_bucket.is_some_and(|only| only != b) {
            continue;
        }
        members.sort_by(|&x, &y| names[x].cmp(&names[y]));
        conn.execute(
            "CREATE OR REPLACE TABLE gen_stage (symbol VARCHAR, ts TIMESTAMP, open DOUBLE, high DOUBLE, \
             low DOUBLE, close DOUBLE, volume DOUBLE)",
        )?;
        let mut app = conn.appender("gen_stage")?;
        for &k in members.iter() {
            walk(p.seed, k as u64, p.bars, p.freq.years_per_bar(), &mut bars);
            append_symbol(&mut app, &mut chunk, &names[k], &ts, &bars)?;
        }
        app.close()?;
        let bucket_dir = dir.join(format!("bucket={b}"));
        // Not `create_dir_all`: when the caller removed the staging folder (the run was
        // stopped), a worker still running must not bring it back.
        match std::fs::create_dir(&bucket_dir) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                return Err(Error::io(format!(
                    "cannot create {}: {e}",
                    bucket_dir.display()
                )))
            }
            _ => {}
        }
        let final_path = bucket_dir.join("part-0.parquet");
        let tmp_path = bucket_dir.join(".part-0.parquet.tmp");
        let tmp = tmp_path
            .to_str()
            .ok_or_else(|| Error::param("output path is not valid UTF-8"))?;
        conn.execute(&format!(
            "COPY gen_stage TO {} (FORMAT parquet, COMPRESSION zstd)",
            sql_literal(tmp)
        ))?;
        std::fs::rename(&tmp_path, &final_path)?;
        conn.execute("DROP TABLE gen_stage")?;
        files.push(WrittenFile {
            path: final_path,
            bucket: b,
            rows: (members.len() * p.bars) as u64,
        });
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freq_parses_and_spaces_bars() {
        assert_eq!(Freq::parse("1d").unwrap(), Freq::BusinessDay);
        assert_eq!(
            Freq::parse("15m").unwrap(),
            Freq::Fixed(15 * 60 * US_PER_SEC)
        );
        for bad in ["", "d", "0h", "5x", "-1m"] {
            assert!(Freq::parse(bad).is_err(), "{bad}");
        }
        let mut ts = Vec::new();
        // 2005-01-01 is a Saturday: the first business day is Monday 2005-01-03.
        let sat = 12784 * US_PER_DAY;
        Freq::BusinessDay.timestamps(sat, 6, &mut ts);
        let days: Vec<i64> = ts.iter().map(|t| t / US_PER_DAY).collect();
        assert_eq!(days, vec![12786, 12787, 12788, 12789, 12790, 12793]);
    }

    #[test]
    fn tickers_are_unique() {
        let mut names: Vec<String> = (0..20_000).map(|k| ticker(k, 20_000)).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 20_000);
    }
}
