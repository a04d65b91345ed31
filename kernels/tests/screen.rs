//! The screen over real Parquet through a real DuckDB: its matches (latest and all, with
//! from/to) equal the Evaluator run on each symbol's bars read back, OHLCV included (the
//! fields the formula did not read filled from the source); a symbol whose evaluation
//! fails or runs out of time fails alone, with counts that add up; the files written with
//! an output folder hold the same matches.
mod support;

use barstream_kernels::duck::Database;
use barstream_kernels::formula::{Evaluator, Field, Formula};
use barstream_kernels::pipeline::budget::Budget;
use barstream_kernels::pipeline::screen::{Match, Mode, ScreenOptions};
use barstream_kernels::pipeline::{screen, Progress, ScreenResult, Stage};
use barstream_kernels::ErrorCode;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use support::{query, Series};

const OHLCV: [&str; 5] = ["open", "high", "low", "close", "volume"];

/// Reads close and volume only; open, high and low come from the fill.
const FORMULA: &str = "fast = sma(close, 5)
slow = ema(close, 20)
vol = volume / sma(volume, 10)
crosses_above(fast, slow) or (close > fast and vol > 1.2)";

fn opts(mode: Mode, from: Option<i64>, to: Option<i64>, budget: Budget) -> ScreenOptions {
    ScreenOptions {
        mode,
        from,
        to,
        every_symbol: false,
        budget,
        source_columns: Field::ALL.to_vec(),
        carried: Vec::new(),
        max_matches: None,
        part: 0,
    }
}

/// The planned partition SQL over `body` (any SQL returning the canonical columns).
fn partition(body: &str, fields: &[Field], sorted: bool) -> String {
    let list: String = fields
        .iter()
        .map(|f| format!(", {0}::DOUBLE AS {0}", f.as_str()))
        .collect();
    let order = if sorted { " ORDER BY symbol, ts" } else { "" };
    format!("SELECT symbol::VARCHAR AS symbol, ts::TIMESTAMP AS ts{list}\nFROM (\n{body}\n) AS src{order}")
}

fn run(
    db: &Database,
    bodies: &[(u32, String)],
    formula: &Arc<Formula>,
    o: &ScreenOptions,
    out: Option<&Path>,
) -> barstream_kernels::Result<ScreenResult> {
    let columns = [&formula.fields[..], &o.carried[..]].concat();
    let parts: Vec<(u32, String)> = bodies
        .iter()
        .map(|(k, b)| (*k, partition(b, &columns, true)))
        .collect();
    screen(
        db,
        &parts,
        formula,
        o,
        out,
        Default::default(),
        2,
        &Arc::new(Progress::default()),
        &AtomicBool::new(false),
    )
}

/// Every symbol's bars (all of OHLCV) from the bodies, in partition then symbol order.
fn bars(db: &Database, bodies: &[(u32, String)]) -> Vec<Series> {
    bodies
        .iter()
        .flat_map(|(_, b)| {
            query(
                db,
                &format!("SELECT * FROM (\n{b}\n) ORDER BY symbol, ts"),
                &OHLCV,
            )
        })
        .collect()
}

/// The matches the spec gives for one symbol: the formula over all its bars (up to `to`
/// in `latest`), in one pass.
fn expected(f: &Arc<Formula>, s: &Series, o: &ScreenOptions) -> (Vec<Match>, u64) {
    let n = match (o.mode, o.to) {
        (Mode::Latest, Some(to)) => s.ts.partition_point(|&t| t <= to),
        _ => s.ts.len(),
    };
    let cols: Vec<&[f64]> = f
        .fields
        .iter()
        .map(|x| &s.cols[Field::ALL.iter().position(|a| a == x).unwrap()][..n])
        .collect();
    let mut ev = Evaluator::new(f);
    ev.push(&cols).unwrap();
    let at = |j: usize| Match {
        symbol: s.symbol.clone(),
        ts: s.ts[j],
        ohlcv: std::array::from_fn(|k| s.cols[k][j]),
        values: (0..f.names.len()).map(|i| ev.named(i)[j]).collect(),
    };
    let in_range = |t: i64| o.from.is_none_or(|x| t >= x) && o.to.is_none_or(|x| t <= x);
    let hits: Vec<Match> = match o.mode {
        Mode::All => (0..n)
            .filter(|&j| ev.value()[j] == 1.0 && in_range(s.ts[j]))
            .map(at)
            .collect(),
        Mode::Latest if n > 0 && ev.value()[n - 1] == 1.0 && in_range(s.ts[n - 1]) => {
            vec![at(n - 1)]
        }
        Mode::Latest => vec![],
    };
    (hits, n as u64)
}

fn same(a: &Match, b: &Match) -> bool {
    let eq = |x: &f64, y: &f64| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan());
    a.symbol == b.symbol
        && a.ts == b.ts
        && a.ohlcv.iter().zip(&b.ohlcv).all(|(x, y)| eq(x, y))
        && a.values.len() == b.values.len()
        && a.values.iter().zip(&b.values).all(|(x, y)| eq(x, y))
}

fn dataset(
    name: &str,
    symbols: usize,
    bars: usize,
    buckets: usize,
) -> (std::path::PathBuf, Vec<(u32, String)>) {
    let dir = support::temp_dir(name);
    let files = support::dataset(&dir.join("data"), symbols, bars, buckets);
    let bodies = files
        .into_iter()
        .map(|(k, f)| (k, format!("SELECT * FROM read_parquet('{f}')")))
        .collect();
    (dir, bodies)
}

#[test]
fn matches_equal_the_evaluator_on_each_symbols_bars_in_every_mode_and_range() {
    let (_dir, bodies) = dataset("screen-modes", 9, 500, 3);
    let db = support::db();
    let f = Arc::new(Formula::compile(FORMULA).unwrap());
    assert_eq!(
        f.fields,
        vec![Field::Close, Field::Volume],
        "the fill has work to do"
    );
    let all = bars(&db, &bodies);
    let ts = &all[0].ts;
    let (a, b) = (Some(ts[150]), Some(ts[420]));
    let mut latest_hits = 0;
    // The fields the formula does not read: filled, carried by the read, or some of each.
    let carry = [
        vec![],
        vec![Field::High],
        vec![Field::Open, Field::High, Field::Low],
    ];
    for (mode, carried) in [Mode::All, Mode::Latest]
        .into_iter()
        .flat_map(|m| carry.iter().map(move |c| (m, c)))
    {
        for (from, to) in [(None, None), (a, b), (a, None), (None, b), (b, a)] {
            let o = ScreenOptions {
                carried: carried.clone(),
                ..opts(mode, from, to, Budget::unlimited())
            };
            let got = run(&db, &bodies, &f, &o, None).unwrap().outcome;
            let mut want = Vec::new();
            let mut matched = 0;
            for s in &all {
                let (hits, _) = expected(&f, s, &o);
                matched += u64::from(!hits.is_empty());
                want.extend(hits);
            }
            let what = format!("{mode:?} carrying {carried:?} from {from:?} to {to:?}");
            assert_eq!(got.matches.len(), want.len(), "{what}");
            for (g, w) in got.matches.iter().zip(&want) {
                assert!(same(g, w), "{what}: got {g:?}, want {w:?}");
            }
            assert_eq!((got.processed, got.matched), (9, matched), "{what}");
            assert!(got.skipped.is_empty() && got.failed.is_empty());
            if mode == Mode::Latest {
                latest_hits += want.len();
            }
        }
        if mode == Mode::All {
            // A range that is empty (from after to) matches nothing.
            let o = opts(mode, b, a, Budget::unlimited());
            assert!(run(&db, &bodies, &f, &o, None)
                .unwrap()
                .outcome
                .matches
                .is_empty());
        }
    }
    assert!(
        latest_hits > 0,
        "some symbol matches at its last bar in some range"
    );
    let o = ScreenOptions {
        carried: vec![Field::Close],
        ..opts(Mode::All, None, None, Budget::unlimited())
    };
    assert_eq!(
        run(&db, &bodies, &f, &o, None).unwrap_err().message,
        "carried columns: the formula reads close already"
    );
}

#[test]
fn a_source_without_a_column_gives_nan_there_and_a_short_symbol_is_skipped() {
    let (_dir, bodies) = dataset("screen-nocol", 4, 300, 1);
    let db = support::db();
    let all = bars(&db, &bodies);
    let short = all[1].symbol.clone();
    // No volume column, and one symbol cut to 12 bars.
    let body = format!(
        "SELECT symbol, ts, open, high, low, close FROM (\n{}\n) WHERE symbol <> '{short}' OR ts <= TIMESTAMP '{}'",
        bodies[0].1,
        barstream_kernels::read::split::format_ts(all[1].ts[11])
    );
    let f = Arc::new(Formula::compile("m = sma(close, 20)\nclose > m").unwrap());
    let mut o = opts(Mode::All, None, None, Budget::unlimited());
    o.source_columns = vec![Field::Open, Field::High, Field::Low, Field::Close];
    let got = run(&db, &[(0, body)], &f, &o, None).unwrap().outcome;
    assert_eq!(
        got.skipped,
        vec![(
            short.clone(),
            "12 bars, the formula needs at least 20".to_string()
        )]
    );
    assert_eq!(got.processed, 3);
    assert!(!got.matches.is_empty());
    for m in &got.matches {
        let s = all.iter().find(|s| s.symbol == m.symbol).unwrap();
        let j = s.ts.binary_search(&m.ts).unwrap();
        assert_eq!(
            &m.ohlcv[..4],
            &[s.cols[0][j], s.cols[1][j], s.cols[2][j], s.cols[3][j]]
        );
        assert!(m.ohlcv[4].is_nan(), "no volume in the source");
    }
}

/// A source (as a user's `--sql` gives one) where symbol `bad` has a negative close at
/// its 60th bar.
fn negative_close(bodies: &[(u32, String)], bad: &str) -> Vec<(u32, String)> {
    bodies
        .iter()
        .map(|(k, b)| {
            (
                *k,
                format!(
                    "SELECT symbol, ts, open, high, low, volume,
                            CASE WHEN symbol = '{bad}' AND row_number() OVER (PARTITION BY symbol ORDER BY ts) = 60
                                 THEN -1.0 ELSE close END AS close
                     FROM (\n{b}\n)"
                ),
            )
        })
        .collect()
}

#[test]
fn a_failing_symbol_fails_alone_at_stage_formula() {
    let (_dir, bodies) = dataset("screen-fail", 6, 300, 2);
    let db = support::db();
    let all = bars(&db, &bodies);
    let bad = all[2].symbol.clone();
    let src = negative_close(&bodies, &bad);
    let f = Arc::new(Formula::compile("a = atc(close)\na > 0").unwrap());
    let o = opts(Mode::Latest, None, None, Budget::unlimited());
    let got = run(&db, &src, &f, &o, None).unwrap().outcome;
    assert_eq!(got.failed.len(), 1, "{:?}", got.failed);
    let (symbol, stage, message) = &got.failed[0];
    assert_eq!((symbol, *stage), (&bad, Stage::Formula));
    assert!(message.contains("59"), "names the bar: {message}");
    assert_eq!(got.processed + got.skipped.len() as u64 + 1, 6);
    assert_eq!(got.processed, 5);
    assert!(got.matched <= got.processed);
    // The others are as if the bad symbol were not there.
    for m in &got.matches {
        let s = all.iter().find(|s| s.symbol == m.symbol).unwrap();
        let (want, _) = expected(&f, s, &o);
        assert!(same(m, &want[0]));
    }
}

#[test]
fn a_symbol_over_its_time_budget_fails_alone_and_the_counts_add_up() {
    let (_dir, bodies) = dataset("screen-timeout", 5, 400, 2);
    let db = support::db();
    let heavy = Arc::new(
        Formula::compile("a = atc(close)\nb = kama(close, 40) - hma(close, 60)\na > 0 and b > 0")
            .unwrap(),
    );
    // With 0 ms any work exceeds the budget: every symbol times out, the job completes.
    let o = opts(Mode::All, None, None, Budget::millis(0.0).unwrap());
    let got = run(&db, &bodies, &heavy, &o, None).unwrap().outcome;
    assert_eq!(got.failed.len(), 5);
    assert!(got
        .failed
        .iter()
        .all(|(_, stage, m)| *stage == Stage::Timeout && m.contains("time budget of 0 ms")));
    assert_eq!((got.processed, got.matched, got.matches.len()), (0, 0, 0));
    // One symbol of a million bars against a budget the short ones never come near.
    let mut with_long = bodies.clone();
    with_long.push((
        9,
        "SELECT 'LONG' AS symbol, TIMESTAMP '2000-01-01' + INTERVAL (i) MINUTE AS ts,
                100 + sin(i / 50.0) AS open, 101 + sin(i / 50.0) AS high, 99 + sin(i / 50.0) AS low,
                100 + sin(i / 50.0) + i * 1e-6 AS close, 1000.0 AS volume
         FROM range(1000000) t(i)"
            .to_string(),
    ));
    let o = opts(Mode::All, None, None, Budget::millis(100.0).unwrap());
    let got = run(&db, &with_long, &heavy, &o, None).unwrap().outcome;
    assert_eq!(got.failed.len(), 1, "{:?}", got.failed);
    assert_eq!(
        (got.failed[0].0.as_str(), got.failed[0].1),
        ("LONG", Stage::Timeout)
    );
    assert!(got.failed[0].2.contains("budget of 100 ms"));
    assert_eq!(got.processed, 5);
    let with_match = got
        .matches
        .iter()
        .map(|m| &m.symbol)
        .collect::<std::collections::BTreeSet<_>>();
    assert_eq!(got.matched, with_match.len() as u64);
    assert!(got.matches.iter().all(|m| m.symbol != "LONG"));
}

#[test]
fn files_written_hold_the_matches_and_every_error() {
    let (dir, bodies) = dataset("screen-out", 6, 300, 2);
    let db = support::db();
    let all = bars(&db, &bodies);
    let bad = all[0].symbol.clone();
    let src = negative_close(&bodies, &bad);
    let f = Arc::new(
        Formula::compile("a = atc(close)\nm = sma(close, 10)\na > 0 and close > m").unwrap(),
    );
    let o = opts(Mode::All, None, None, Budget::unlimited());
    let mem = run(&db, &src, &f, &o, None).unwrap();
    let out = dir.join("out");
    let disk = run(&db, &src, &f, &o, Some(&out)).unwrap();
    assert!(disk.outcome.matches.is_empty(), "matches go to the files");
    let paths: Vec<&str> = disk.files.iter().map(|f| f.path.as_str()).collect();
    let k = [bodies[0].0, bodies[1].0];
    assert_eq!(
        paths,
        vec![
            format!("matches/bucket={}/part-0.parquet", k[0]),
            format!("_errors/part-{}.parquet", k[0]),
            format!("matches/bucket={}/part-0.parquet", k[1]),
            format!("_errors/part-{}.parquet", k[1]),
        ]
    );
    for file in &disk.files {
        let bytes = std::fs::read(out.join(&file.path)).unwrap();
        assert_eq!(bytes.len() as u64, file.bytes);
        use sha2::Digest;
        let sum: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(sum, file.sha256);
    }
    let cols = ["open", "high", "low", "close", "volume", "a", "m"];
    let read = query(
        &db,
        &format!(
            "SELECT * FROM read_parquet('{}/matches/*/*.parquet') ORDER BY symbol, ts",
            out.display()
        ),
        &cols,
    );
    let mut want = mem.outcome.matches.clone();
    want.sort_by(|a, b| (&a.symbol, a.ts).cmp(&(&b.symbol, b.ts)));
    let got: Vec<Match> = read
        .iter()
        .flat_map(|s| {
            (0..s.ts.len()).map(move |j| Match {
                symbol: s.symbol.clone(),
                ts: s.ts[j],
                ohlcv: std::array::from_fn(|c| s.cols[c][j]),
                values: vec![s.cols[5][j], s.cols[6][j]],
            })
        })
        .collect();
    assert_eq!(got.len(), want.len());
    assert!(got.iter().zip(&want).all(|(g, w)| same(g, w)));
    let errors = query(
        &db,
        &format!(
            "SELECT symbol, TIMESTAMP '2000-01-01' AS ts, (stage = 'formula')::DOUBLE AS formula
             FROM read_parquet('{}/_errors/*.parquet')",
            out.display()
        ),
        &["formula"],
    );
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].symbol.as_str(), errors[0].cols[0][0]),
        (bad.as_str(), 1.0)
    );
}

#[test]
fn more_matches_than_the_limit_stop_the_screen_as_soon_as_they_are_held() {
    let (_dir, bodies) = dataset("screen-limit", 6, 300, 3);
    let db = support::db();
    let every = Arc::new(Formula::compile("close > 0").unwrap());
    let total: u64 = bars(&db, &bodies).iter().map(|s| s.ts.len() as u64).sum();
    let parts: Vec<(u32, String)> = bodies
        .iter()
        .map(|(k, b)| (*k, partition(b, &every.fields, true)))
        .collect();
    let limited = |max: u64| {
        let progress = Arc::new(Progress::default());
        let o = ScreenOptions {
            max_matches: Some(max),
            ..opts(Mode::All, None, None, Budget::unlimited())
        };
        let r = screen(
            &db,
            &parts,
            &every,
            &o,
            None,
            Default::default(),
            1,
            &progress,
            &AtomicBool::new(false),
        );
        (r, progress)
    };
    // Every bar matches: one over the limit fails within the first partition (one
    // worker takes them in order); no partition finishes.
    let first: u64 = bars(&db, &bodies[..1])
        .iter()
        .map(|s| s.ts.len() as u64)
        .sum();
    assert!(first > 50 && first < total);
    let (r, progress) = limited(50);
    let e = r.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidParam);
    assert_eq!(e.message, "the screen matched more than 50 bars, the most a result in memory may hold: write them with --out DIR (out), or narrow the formula or --from/--to");
    let read = progress.bars.load(std::sync::atomic::Ordering::Relaxed);
    assert!(read > 0 && read <= first, "read {read} of {total} bars");
    assert_eq!(
        progress
            .partitions
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    // Exactly the limit is held and returned.
    let (r, _) = limited(total);
    assert_eq!(r.unwrap().outcome.matches.len() as u64, total);
    assert!(limited(total - 1).0.is_err());
}

#[test]
fn a_formula_that_cannot_screen_is_refused_before_reading() {
    let (dir, bodies) = dataset("screen-kind", 2, 50, 1);
    let db = support::db();
    let number = Arc::new(Formula::compile("sma(close, 5)").unwrap());
    let o = opts(Mode::Latest, None, None, Budget::unlimited());
    let err = run(&db, &bodies, &number, &o, None).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidFormula);
    // A name that would repeat a column of the matches file is refused before any file.
    let ts = Arc::new(Formula::compile("ts = sma(close, 3)\nclose > ts").unwrap());
    let out = dir.join("out");
    let err = run(&db, &bodies, &ts, &o, Some(&out)).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidFormula);
    assert!(
        err.message.contains("'ts'") && !out.exists(),
        "{}",
        err.message
    );
    // With every symbol wanted, a number formula is allowed: each symbol's last value,
    // and how many bars were above and below zero.
    let trend = Arc::new(Formula::compile("ma = sma(close, 10)\ntrend_state(close, ma)").unwrap());
    let mut o = opts(Mode::Latest, None, None, Budget::unlimited());
    o.every_symbol = true;
    let got = run(&db, &bodies, &trend, &o, None).unwrap().outcome;
    let all = bars(&db, &bodies);
    assert_eq!(got.symbols.len(), 2);
    for (row, s) in got.symbols.iter().zip(&all) {
        let mut ev = Evaluator::new(&trend);
        ev.push(&[s.col(3)]).unwrap();
        let v = ev.value();
        let n = v.len();
        assert_eq!(row.last.symbol, s.symbol);
        assert_eq!(
            (row.last.ts, row.value, row.bars),
            (s.ts[n - 1], v[n - 1], n as u64)
        );
        assert_eq!(row.last.values, vec![ev.named(0)[n - 1]]);
        assert_eq!(row.last.ohlcv[0], s.col(0)[n - 1], "open filled");
        assert_eq!(row.positive, v.iter().filter(|x| **x > 0.0).count() as u64);
        assert_eq!(row.negative, v.iter().filter(|x| **x < 0.0).count() as u64);
    }
}
