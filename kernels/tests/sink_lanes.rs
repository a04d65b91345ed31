//! The scan and the ATC backtest with lane groups on against off (the one-symbol path, the
//! reference), through the real pipeline over real Parquet written by the project's
//! writer and read by DuckDB: the same outcomes, in the same order, and byte-identical
//! files (scan states; every backtest file). The buckets hold symbols of unequal lengths,
//! one spanning many runs, one longer than a lane group holds, a bad price (kernel
//! failure), a repeated timestamp mid-symbol (input failure), a symbol too short for the
//! longest MA, prices above the lanes' limit, and buckets of 1 to 7 symbols; an update
//! (carried states, kept failures and new symbols mixed) equals the full run.
mod support;

use barstream_kernels::atc::AtcParams;
use barstream_kernels::duck::Database;
use barstream_kernels::pipeline::backtest::BacktestOptions;
use barstream_kernels::pipeline::budget::Budget;
use barstream_kernels::pipeline::carried::CarriedFiles;
use barstream_kernels::pipeline::carry::{file_priors, state_file, Continuation, StateOut};
use barstream_kernels::pipeline::lanes::SYMBOL_CAP;
use barstream_kernels::pipeline::scan::ScanRow;
use barstream_kernels::pipeline::strategy::StrategySpec;
use barstream_kernels::pipeline::writer::{Col, ResultTable};
use barstream_kernels::pipeline::{
    backtest_parts_with, scan_with, BacktestPartition, Outcome, Progress, Stage,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const DAY: i64 = 86_400_000_000;
const T0: i64 = 1_500_000_000_000_000;

/// What is special about a symbol.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Plain,
    /// A non-positive price at this bar.
    BadPrice(usize),
    /// Its timestamp at this bar repeats the previous one.
    RepeatTs(usize),
    /// Prices above 1e250.
    Huge,
}

struct Sym {
    name: String,
    kind: Kind,
    close: Vec<f64>,
    ts: Vec<i64>,
}

fn walk(seed: u64, n: usize) -> Vec<f64> {
    let mut x = seed;
    let mut c = 100.0;
    (0..n)
        .map(|i| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let noise = ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.03;
            let drift = if (i / 70) % 2 == 0 { 0.003 } else { -0.003 };
            c *= 1.0 + drift + noise;
            c
        })
        .collect()
}

fn sym(name: &str, n: usize, kind: Kind, seed: u64) -> Sym {
    let mut close = walk(seed, n);
    let mut ts: Vec<i64> = (0..n as i64).map(|i| T0 + i * DAY).collect();
    match kind {
        Kind::Plain => {}
        Kind::BadPrice(at) => close[at] = -1.0,
        Kind::RepeatTs(at) => ts[at] = ts[at - 1],
        Kind::Huge => close.iter_mut().for_each(|c| *c *= 1e252),
    }
    Sym {
        name: name.to_string(),
        kind,
        close,
        ts,
    }
}

/// The main bucket: failures and outsiders among plain symbols of unequal lengths, so
/// that they fall inside lane groups, at their start and at their end.
fn main_bucket() -> Vec<Sym> {
    let spec: [(usize, Kind); 17] = [
        (300, Kind::Plain),
        (1_200, Kind::Plain),
        (5_000, Kind::BadPrice(3_100)),
        (7_000, Kind::Plain),
        (450, Kind::Plain),
        (20_000, Kind::Plain),
        (2_500, Kind::RepeatTs(1_500)),
        (900, Kind::Plain),
        (10, Kind::Plain),
        (3_000, Kind::Huge),
        (2_222, Kind::Plain),
        (SYMBOL_CAP + 5_000, Kind::Plain),
        (4_000, Kind::Plain),
        (250, Kind::BadPrice(0)),
        (3_333, Kind::Plain),
        (1_000, Kind::Plain),
        (2_000, Kind::RepeatTs(1)),
    ];
    spec.iter()
        .enumerate()
        .map(|(i, &(n, k))| sym(&format!("M{i:02}"), n, k, 0xA5A5 + i as u64 * 977))
        .collect()
}

/// Bucket `k` (1..=7) of `k` plain symbols of random lengths.
fn small_bucket(k: usize) -> Vec<Sym> {
    (0..k)
        .map(|i| {
            let n = 60 + (i * 7919 + k * 104_729) % 3_000;
            sym(
                &format!("B{k}{i:02}"),
                n,
                Kind::Plain,
                31 * k as u64 + i as u64,
            )
        })
        .collect()
}

/// The buckets: the main one, then buckets of 1 to 7 symbols.
fn universe() -> Vec<Vec<Sym>> {
    std::iter::once(main_bucket())
        .chain((1..=7).map(small_bucket))
        .collect()
}

/// Writes bars `range(sym)` of each symbol (those with any) to `file` with the project's
/// Parquet writer.
fn write(file: &Path, syms: &[Sym], range: impl Fn(&Sym) -> std::ops::Range<usize>) {
    let cols = [
        Col::text("symbol"),
        Col::timestamp("ts"),
        Col::double("close"),
    ];
    let mut t = ResultTable::create(file, &cols);
    for s in syms {
        let r = range(s);
        t.push_series(&s.name, &s.ts[r.clone()], &[&s.close[r]])
            .expect("rows");
    }
    t.write_parquet().expect("parquet");
}

/// The partitions of `files`: bucket number and SQL in file order.
fn parts(files: &[PathBuf]) -> Vec<(u32, String)> {
    files
        .iter()
        .enumerate()
        .map(|(k, f)| {
            (
                k as u32,
                support::source_sql(&f.display().to_string(), &["close"]),
            )
        })
        .collect()
}

fn dataset(dir: &Path, range: impl Fn(&Sym) -> std::ops::Range<usize>) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    universe()
        .iter()
        .enumerate()
        .map(|(k, syms)| {
            let f = dir.join(format!("bucket-{k}.parquet"));
            write(&f, syms, &range);
            f
        })
        .collect()
}

struct Scanned {
    outcomes: Vec<Outcome<ScanRow>>,
    lane_symbols: u64,
}

fn scan(db: &Database, files: &[PathBuf], cont: Continuation, lanes: bool) -> Scanned {
    let progress = Arc::new(Progress::default());
    let outcomes = scan_with(
        db,
        &parts(files),
        &AtcParams::default(),
        cont,
        2,
        &progress,
        &AtomicBool::new(false),
        lanes,
    )
    .expect("scan");
    Scanned {
        outcomes,
        lane_symbols: progress.lane_symbols.load(Ordering::Relaxed),
    }
}

fn saving(dir: &Path, generation: u32) -> Continuation {
    Continuation {
        out: Some(StateOut {
            dir: dir.to_path_buf(),
            generation,
        }),
        ..Continuation::default()
    }
}

/// Every file under `dir`, by path relative to it.
fn files_under(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn same_files(got: &Path, want: &Path, what: &str) {
    let (g, w) = (files_under(got), files_under(want));
    assert_eq!(
        g.keys().collect::<Vec<_>>(),
        w.keys().collect::<Vec<_>>(),
        "{what}: files"
    );
    for (k, v) in &w {
        assert!(g[k] == *v, "{what}: {k} differs");
    }
}

/// Checks that the fixtures do what they claim: each special symbol's outcome.
fn check_kinds(outcomes: &[Outcome<ScanRow>]) {
    let by: BTreeMap<&str, &Outcome<ScanRow>> = outcomes.iter().map(|o| (o.symbol(), o)).collect();
    let main = main_bucket();
    let total: usize = universe().iter().map(Vec::len).sum();
    assert_eq!(outcomes.len(), total);
    for s in &main {
        let o = by[s.name.as_str()];
        match (s.kind, o) {
            (Kind::BadPrice(at), Outcome::Failed { stage, message, .. }) => {
                assert_eq!(*stage, Stage::Kernel);
                assert!(message.contains(&at.to_string()), "{message}");
            }
            (Kind::RepeatTs(_), Outcome::Failed { stage, .. }) => {
                assert_eq!(*stage, Stage::Input)
            }
            (_, Outcome::Skipped { .. }) => assert_eq!(s.close.len(), 10),
            (Kind::Plain | Kind::Huge, Outcome::Done(r)) => {
                assert_eq!(r.bars as usize, s.close.len());
                assert_eq!(r.close.to_bits(), s.close.last().unwrap().to_bits());
            }
            (k, o) => panic!("{}: {k:?} gave {o:?}", s.name),
        }
    }
}

#[test]
fn a_scan_in_lanes_equals_one_symbol_at_a_time() {
    let root = support::temp_dir("lanes-scan");
    let db = support::db();
    let files = dataset(&root.join("data"), |s| 0..s.close.len());
    let off = scan(&db, &files, Continuation::default(), false);
    check_kinds(&off.outcomes);
    assert_eq!(off.lane_symbols, 0);
    let on = scan(&db, &files, Continuation::default(), true);
    assert_eq!(
        support::outcome_bits(&on.outcomes),
        support::outcome_bits(&off.outcomes),
        "without states"
    );
    assert!(on.lane_symbols >= 10, "{} in lanes", on.lane_symbols);

    let (d_off, d_on) = (root.join("states-off"), root.join("states-on"));
    let off_s = scan(&db, &files, saving(&d_off, 0), false);
    let on_s = scan(&db, &files, saving(&d_on, 0), true);
    assert_eq!(
        support::outcome_bits(&off_s.outcomes),
        support::outcome_bits(&off.outcomes)
    );
    assert_eq!(
        support::outcome_bits(&on_s.outcomes),
        support::outcome_bits(&off.outcomes),
        "with states"
    );
    assert_eq!(on_s.lane_symbols, on.lane_symbols);
    same_files(&d_on, &d_off, "scan states");
}

/// Where each symbol is cut for the update: some end before it (no new bars), some start
/// after it (new symbols: all those of buckets 3, 5 and 7), the failures fail before it.
fn cut(s: &Sym) -> usize {
    let n = s.close.len();
    if ["B3", "B5", "B7"].iter().any(|b| s.name.starts_with(b)) {
        return 0;
    }
    let h = s.name.bytes().fold(0usize, |a, b| a * 31 + b as usize);
    match (s.kind, h % 5) {
        (Kind::BadPrice(at) | Kind::RepeatTs(at), _) => (at + 1).min(n),
        (_, 0) => 0,
        (_, 1) => n,
        (_, r) => n * r / 5,
    }
}

#[test]
fn a_scan_update_in_lanes_equals_the_full_run() {
    let root = support::temp_dir("lanes-scan-update");
    let db = support::db();
    let full = dataset(&root.join("full"), |s| 0..s.close.len());
    let old = dataset(&root.join("old"), |s| 0..cut(s));
    let new = dataset(&root.join("new"), |s| cut(s)..s.close.len());
    let want_dir = root.join("want");
    let want = scan(&db, &full, saving(&want_dir, 0), false);
    let first_dir = root.join("first");
    let first = scan(&db, &old, saving(&first_dir, 0), true);
    let failed: BTreeMap<String, (Stage, String)> = support::failures(&first.outcomes)
        .into_iter()
        .map(|(symbol, stage, message)| (symbol, (stage, message)))
        .collect();
    assert!(failed.len() >= 3, "{failed:?}");
    let cont = || Continuation {
        out: Some(StateOut {
            dir: root.join("next"),
            generation: 1,
        }),
        priors: file_priors(
            &db,
            (0..full.len() as u32)
                .map(|k| CarriedFiles {
                    states: vec![first_dir.join(state_file(k, 0)).display().to_string()],
                    errors: None,
                })
                .collect(),
        ),
        failed: Arc::new(failed.clone()),
    };
    for lanes in [false, true] {
        let _ = std::fs::remove_dir_all(root.join("next"));
        let next = scan(&db, &new, cont(), lanes);
        assert_eq!(
            support::outcome_bits(&next.outcomes),
            support::outcome_bits(&want.outcomes),
            "lanes {lanes}: outcomes"
        );
        assert_eq!(next.lane_symbols > 0, lanes);
        for k in 0..full.len() as u32 {
            let got = std::fs::read(root.join("next").join(state_file(k, 1))).unwrap();
            let exp = std::fs::read(want_dir.join(state_file(k, 0))).unwrap();
            assert!(got == exp, "lanes {lanes}: bucket {k} states");
        }
    }
}

fn backtest(
    db: &Database,
    parts: &[BacktestPartition],
    part: u32,
    out: &Path,
    lanes: bool,
) -> (barstream_kernels::pipeline::BacktestCounts, u64) {
    backtest_within(db, parts, part, out, lanes, Budget::unlimited())
}

fn backtest_within(
    db: &Database,
    parts: &[BacktestPartition],
    part: u32,
    out: &Path,
    lanes: bool,
    budget: Budget,
) -> (barstream_kernels::pipeline::BacktestCounts, u64) {
    let opts = BacktestOptions {
        out: out.to_path_buf(),
        fee: 0.0005,
        long_only: false,
        budget,
    };
    let progress = Arc::new(Progress::default());
    let c = backtest_parts_with(
        db,
        parts,
        part,
        &StrategySpec::Atc(AtcParams::default()),
        &opts,
        2,
        &progress,
        &AtomicBool::new(false),
        lanes,
    )
    .expect("backtest");
    (c, progress.lane_symbols.load(Ordering::Relaxed))
}

fn fresh(files: &[PathBuf]) -> Vec<BacktestPartition> {
    parts(files)
        .into_iter()
        .map(|(bucket, sql)| BacktestPartition {
            bucket,
            sql,
            carried: None,
        })
        .collect()
}

#[test]
fn an_atc_backtest_in_lanes_writes_the_same_files() {
    let root = support::temp_dir("lanes-backtest");
    let db = support::db();
    let files = dataset(&root.join("data"), |s| 0..s.close.len());
    let (c_off, n_off) = backtest(&db, &fresh(&files), 0, &root.join("off"), false);
    let (c_on, n_on) = backtest(&db, &fresh(&files), 0, &root.join("on"), true);
    assert_eq!(c_on, c_off);
    assert_eq!((c_off.failed, c_off.skipped), (4, 1));
    assert_eq!(n_off, 0);
    assert!(n_on >= 10, "{n_on} in lanes");
    same_files(&root.join("on"), &root.join("off"), "backtest");
}

#[test]
fn a_zero_budget_stops_every_symbol_in_lanes_or_not() {
    let root = support::temp_dir("lanes-budget");
    let db = support::db();
    let files = dataset(&root.join("data"), |s| 0..s.close.len());
    let total: usize = universe().iter().map(Vec::len).sum();
    let zero = Budget::millis(0.0).unwrap();
    for lanes in [false, true] {
        let out = root.join(format!("out-{lanes}"));
        let (c, n) = backtest_within(&db, &fresh(&files), 0, &out, lanes, zero);
        // Every symbol fails at stage timeout after its first slice, in lanes or not, but
        // M13, whose first price the kernel refuses before any time is charged.
        assert_eq!((c.symbols, c.failed), (total as u64, total as u64));
        assert_eq!(n > 0, lanes);
        let timeouts = support::query(
            &db,
            &format!(
                "SELECT symbol, TIMESTAMP '2020-01-01' AS ts, 1.0::DOUBLE AS one FROM read_parquet('{}/_errors/*.parquet') WHERE stage = 'timeout'",
                out.display()
            ),
            &["one"],
        );
        assert_eq!(timeouts.len(), total - 1, "lanes {lanes}");
    }
}

#[test]
fn an_atc_backtest_update_in_lanes_equals_the_full_run() {
    let root = support::temp_dir("lanes-backtest-update");
    let db = support::db();
    let full = dataset(&root.join("full"), |s| 0..s.close.len());
    let old = dataset(&root.join("old"), |s| 0..cut(s));
    let new = dataset(&root.join("new"), |s| cut(s)..s.close.len());
    let want = root.join("want");
    backtest(&db, &fresh(&full), 0, &want, false);
    let first = root.join("first");
    backtest(&db, &fresh(&old), 0, &first, true);
    let carried: Vec<BacktestPartition> = fresh(&new)
        .into_iter()
        .map(|mut p| {
            let k = p.bucket;
            p.carried = Some(CarriedFiles {
                states: vec![first
                    .join(format!("_state/symbols/bucket={k}/part-0.parquet"))
                    .display()
                    .to_string()],
                errors: Some(
                    first
                        .join(format!("_errors/part-{k}.parquet"))
                        .display()
                        .to_string(),
                ),
            });
            p
        })
        .collect();
    let (off, on) = (root.join("next-off"), root.join("next-on"));
    let (_, n_off) = backtest(&db, &carried, 1, &off, false);
    let (_, n_on) = backtest(&db, &carried, 1, &on, true);
    assert_eq!(n_off, 0);
    assert!(n_on > 0);
    same_files(&on, &off, "backtest update");
    for k in 0..full.len() {
        for rel in [
            format!("summary/part-{k}.parquet"),
            format!("_state/symbols/bucket={k}/part-0.parquet"),
            format!("_errors/part-{k}.parquet"),
            format!("trades/open-{k}.parquet"),
        ] {
            let got = std::fs::read(on.join(&rel)).unwrap();
            let exp = std::fs::read(want.join(&rel)).unwrap();
            assert!(got == exp, "update vs full: {rel}");
        }
    }
    // The signals of both runs together are the full run's.
    let q = |files: &[String]| {
        support::query(
            &db,
            &format!(
                "SELECT symbol, ts, * EXCLUDE (symbol, ts) FROM read_parquet([{}]) ORDER BY symbol, ts",
                files.join(",")
            ),
            &support::SIGNAL_VALUES,
        )
    };
    let glob = |d: &Path| format!("'{}/signals/*/*.parquet'", d.display());
    let got = q(&[glob(&first), glob(&on)]);
    let exp = q(&[glob(&want)]);
    assert_eq!(got.len(), exp.len());
    for (g, w) in got.iter().zip(&exp) {
        assert_eq!((&g.symbol, &g.ts), (&w.symbol, &w.ts));
        for (a, b) in g.cols.iter().zip(&w.cols) {
            let ab: Vec<u64> = a.iter().map(|v| v.to_bits()).collect();
            let bb: Vec<u64> = b.iter().map(|v| v.to_bits()).collect();
            assert!(ab == bb, "{}: signals", g.symbol);
        }
    }
}
