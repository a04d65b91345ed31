//! Helpers of the pipeline tests: small datasets in the canonical layout (real Parquet
//! from the generator) and query results read back through the read path.
#![allow(dead_code)]
use barstream_kernels::duck::Database;
use barstream_kernels::gen::{write_dataset, Freq, GenParams};
use barstream_kernels::read::{read_runs, ReadMode, ReadRequest, RunSink, SymbolRun};
use std::path::{Path, PathBuf};

/// One symbol's rows: its timestamps and one series per requested column.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub symbol: String,
    pub ts: Vec<i64>,
    pub cols: Vec<Vec<f64>>,
}

impl Series {
    pub fn col(&self, i: usize) -> &[f64] {
        &self.cols[i]
    }
}

#[derive(Default)]
struct Collect(Vec<Series>);

impl RunSink for Collect {
    fn on_run(&mut self, run: &SymbolRun<'_>) -> barstream_kernels::Result<()> {
        if !run.continues {
            self.0.push(Series {
                symbol: run.symbol.to_string(),
                ts: Vec::new(),
                cols: vec![Vec::new(); run.values.len()],
            });
        }
        let s = self.0.last_mut().expect("a symbol");
        s.ts.extend_from_slice(run.ts);
        for (c, v) in s.cols.iter_mut().zip(run.values) {
            c.extend_from_slice(v);
        }
        Ok(())
    }
}

/// Runs `sql` (returning `symbol, ts` and `cols` as DOUBLE, ordered by symbol and ts) and
/// returns its rows per symbol.
pub fn query(db: &Database, sql: &str, cols: &[&str]) -> Vec<Series> {
    let conn = db.connect().expect("connect");
    let values: Vec<String> = cols.iter().map(|c| c.to_string()).collect();
    let mut sink = Collect::default();
    read_runs(
        &conn,
        &ReadRequest {
            sql,
            values: &values,
            mode: ReadMode::Vectors,
        },
        &mut sink,
        &|| false,
    )
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
    sink.0
}

/// A fresh, empty folder for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("barstream-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A generated dataset under `dir`: `symbols` x `bars` daily bars in `buckets` buckets.
/// Returns each bucket's Parquet file (bucket number, path).
pub fn dataset(dir: &Path, symbols: usize, bars: usize, buckets: usize) -> Vec<(u32, String)> {
    let p = GenParams {
        symbols,
        bars,
        seed: 7,
        start_us: 1_104_710_400_000_000, // 2005-01-03
        freq: Freq::BusinessDay,
        buckets,
        only_bucket: None,
    };
    std::fs::create_dir_all(dir).expect("dataset folder");
    let mut files: Vec<(u32, String)> = write_dataset(dir, &p, &[])
        .expect("dataset")
        .into_iter()
        .map(|f| (f.bucket as u32, f.path.display().to_string()))
        .collect();
    files.sort();
    files
}

/// SQL reading `symbol, ts` and `cols` of one Parquet file, in file order.
pub fn source_sql(file: &str, cols: &[&str]) -> String {
    let list: String = cols
        .iter()
        .map(|c| format!(", {c}::DOUBLE AS {c}"))
        .collect();
    format!("SELECT symbol::VARCHAR AS symbol, ts::TIMESTAMP AS ts{list}\nFROM (\nSELECT * FROM read_parquet('{file}')\n) AS src")
}

pub fn db() -> Database {
    Database::open(None, &[("threads", "2".to_string())]).expect("database")
}

/// The value columns of an ATC backtest's `signals` table, in order.
pub const SIGNAL_VALUES: [&str; 18] = [
    "close",
    "average_signal",
    "ema_signal",
    "hma_signal",
    "wma_signal",
    "dema_signal",
    "lsma_signal",
    "kama_signal",
    "ema_s",
    "hma_s",
    "wma_s",
    "dema_s",
    "lsma_s",
    "kama_s",
    "event",
    "position",
    "strategy_return",
    "equity",
];

/// A scan's outcomes with every number as its bits (equal strings: equal bit for bit).
pub fn outcome_bits(
    outcomes: &[barstream_kernels::pipeline::Outcome<barstream_kernels::pipeline::scan::ScanRow>],
) -> Vec<String> {
    use barstream_kernels::pipeline::Outcome;
    outcomes
        .iter()
        .map(|o| match o {
            Outcome::Done(r) => format!(
                "done {} {} {:x} {:x} {}",
                r.symbol,
                r.bars,
                r.signal.to_bits(),
                r.close.to_bits(),
                r.ts
            ),
            other => format!("{other:?}"),
        })
        .collect()
}

/// The failures among `outcomes`, as `--update` reads them back: symbol, stage, message.
pub fn failures<T>(
    outcomes: &[barstream_kernels::pipeline::Outcome<T>],
) -> Vec<(String, barstream_kernels::pipeline::Stage, String)> {
    use barstream_kernels::pipeline::Outcome;
    outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Failed {
                symbol,
                stage,
                message,
            } => Some((symbol.clone(), *stage, message.clone())),
            _ => None,
        })
        .collect()
}
