//! A backtest symbol saved after k bars and continued in a new sink (as `--update` does)
//! writes the same signals, summary and trades as one pass over all bars, bit for bit:
//! for the ATC and a formula strategy, with k inside the warm-up (rows still held back),
//! mid-series, one bar before the end and at the end (no new bars). Read back from the
//! real Parquet files through DuckDB.
mod support;

use barstream_kernels::atc::AtcParams;
use barstream_kernels::formula::Formula;
use barstream_kernels::pipeline::backtest::{BacktestOptions, BacktestSink};
use barstream_kernels::pipeline::budget::Budget;
use barstream_kernels::pipeline::strategy::StrategySpec;
use barstream_kernels::pipeline::symbol_state::SymbolState;
use barstream_kernels::pipeline::Progress;
use barstream_kernels::read::{RunSink, SymbolRun};
use std::path::Path;
use std::sync::Arc;
use support::{query, Series, SIGNAL_VALUES};

const N: usize = 400;
const DAY: i64 = 86_400_000_000;

/// A random walk with trends that turn, so the strategies trade both ways.
fn closes() -> Vec<f64> {
    closes_from(0x9E37_79B9_7F4A_7C15)
}

fn closes_from(seed: u64) -> Vec<f64> {
    let mut x: u64 = seed;
    let mut c = 100.0;
    (0..N)
        .map(|i| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let noise = ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.03;
            let drift = if (i / 60) % 2 == 0 { 0.004 } else { -0.004 };
            c *= 1.0 + drift + noise;
            c
        })
        .collect()
}

fn sink(spec: &StrategySpec, out: &Path) -> BacktestSink {
    let opts = BacktestOptions {
        out: out.to_path_buf(),
        fee: 0.0005,
        long_only: false,
        budget: Budget::unlimited(),
    };
    BacktestSink::new(
        0,
        spec.build().unwrap(),
        &opts,
        Arc::new(Progress::default()),
    )
    .unwrap()
}

/// Feeds bars `range` of the series; `continues` as the reader would say.
fn feed(
    s: &mut BacktestSink,
    ts: &[i64],
    close: &[f64],
    range: std::ops::Range<usize>,
    continues: bool,
) {
    feed_as(s, "AAA", ts, close, range, continues);
}

fn feed_as(
    s: &mut BacktestSink,
    symbol: &str,
    ts: &[i64],
    close: &[f64],
    range: std::ops::Range<usize>,
    continues: bool,
) {
    let values = [&close[range.clone()]];
    s.on_run(&SymbolRun {
        symbol,
        ts: &ts[range],
        values: &values,
        continues,
    })
    .unwrap();
}

fn read(db: &barstream_kernels::duck::Database, sql: &str, cols: &[&str]) -> Vec<Series> {
    query(db, sql, cols)
}

const SIGNALS: &str =
    "SELECT symbol, ts, * EXCLUDE (symbol, ts) FROM read_parquet([{}]) ORDER BY symbol, ts";

fn check(spec: &StrategySpec, value_cols: &[&str], name: &str) {
    let close = closes();
    let ts: Vec<i64> = (0..N as i64)
        .map(|i| 1_600_000_000_000_000 + i * DAY)
        .collect();
    let db = support::db();
    let full = support::temp_dir(&format!("state-{name}-full"));
    let mut a = sink(spec, &full);
    feed(&mut a, &ts, &close, 0..N, false);
    let saved_full = a.save_symbol().unwrap().expect("a state");
    a.finish().unwrap();
    let f = |dir: &Path, t: &str| format!("'{}/{t}'", dir.display());
    for k in [5, 150, N - 1, N] {
        let (d1, d2) = (
            support::temp_dir(&format!("state-{name}-{k}-a")),
            support::temp_dir(&format!("state-{name}-{k}-b")),
        );
        let mut b1 = sink(spec, &d1);
        feed(&mut b1, &ts, &close, 0..k, false);
        let st: SymbolState = b1.save_symbol().unwrap().expect("a state");
        assert_eq!(
            (st.symbol.as_str(), st.bars, st.last_ts),
            ("AAA", k as u64, ts[k - 1])
        );
        b1.finish().unwrap();
        let mut b2 = sink(spec, &d2);
        b2.resume(&st).unwrap();
        if k < N {
            feed(&mut b2, &ts, &close, k..N, true);
        }
        assert_eq!(
            b2.save_symbol().unwrap().unwrap(),
            saved_full,
            "{name} k={k}: state"
        );
        b2.finish().unwrap();

        let sig = |dirs: &[&Path]| {
            let files: Vec<String> = dirs.iter().map(|d| f(d, "signals/*/*.parquet")).collect();
            read(&db, &SIGNALS.replace("{}", &files.join(",")), value_cols)
        };
        let want = sig(&[&full]);
        assert_eq!(want[0].ts.len(), N);
        same(&sig(&[&d1, &d2]), &want, &format!("{name} k={k}: signals"));

        let summary = |d: &Path| {
            read(&db, &format!("SELECT symbol, last_ts AS ts, epoch_us(first_ts)::DOUBLE AS first, bars::DOUBLE AS n, last_signal, total_return, cagr, volatility, sharpe, max_drawdown, trades::DOUBLE AS trades, win_rate, exposure FROM read_parquet({})", f(d, "summary/*.parquet")), &["first", "n", "last_signal", "total_return", "cagr", "volatility", "sharpe", "max_drawdown", "trades", "win_rate", "exposure"])
        };
        same(
            &summary(&d2),
            &summary(&full),
            &format!("{name} k={k}: summary"),
        );

        // The first run's still-open trade is superseded by the continued run's rows.
        let trades = |dirs: &[(&Path, bool)]| {
            let parts: Vec<String> = dirs
                .iter()
                .map(|(d, all)| {
                    format!(
                        "SELECT * FROM read_parquet({}) {}",
                        f(d, "trades/*.parquet"),
                        if *all {
                            ""
                        } else {
                            "WHERE exit_ts IS NOT NULL"
                        }
                    )
                })
                .collect();
            read(&db, &format!("SELECT symbol, entry_ts AS ts, coalesce(epoch_us(exit_ts), -1)::DOUBLE AS exit, entry_price, exit_price, bars::DOUBLE AS n, \"return\" AS ret, CASE side WHEN 'long' THEN 1 ELSE -1 END::DOUBLE AS side FROM ({}) ORDER BY symbol, entry_ts", parts.join(" UNION ALL ")), &["exit", "entry_price", "exit_price", "n", "ret", "side"])
        };
        let want = trades(&[(&full, true)]);
        assert!(want[0].ts.len() >= 4, "{name}: the series trades");
        same(
            &trades(&[(&d1, false), (&d2, true)]),
            &want,
            &format!("{name} k={k}: trades"),
        );
    }
}

fn same(got: &[Series], want: &[Series], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: symbols");
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.ts, w.ts, "{what}: timestamps");
        for (c, (x, y)) in g.cols.iter().zip(&w.cols).enumerate() {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                assert!(
                    p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()),
                    "{what}: column {c} row {i}: {p} != {q}"
                );
            }
        }
    }
}

#[test]
fn a_continued_atc_backtest_equals_one_pass() {
    check(
        &StrategySpec::Atc(AtcParams::default()),
        &SIGNAL_VALUES,
        "atc",
    );
}

#[test]
fn a_continued_formula_backtest_equals_one_pass() {
    let f = Formula::compile(
        "fast = ema(close, 8)\nslow = sma(close, 30)\nentry = crosses_above(fast, slow)\nexit = crosses_below(fast, slow)\nshort_entry = exit\nshort_exit = entry",
    )
    .unwrap();
    let cols = [
        "close",
        "fast",
        "slow",
        "entry",
        "exit",
        "short_entry",
        "short_exit",
        "position",
        "strategy_return",
        "equity",
    ];
    check(&StrategySpec::Formula(Arc::new(f)), &cols, "formula");
}

#[test]
fn a_state_of_other_parameters_is_refused_naming_the_symbol() {
    let close = closes();
    let ts: Vec<i64> = (0..N as i64).map(|i| i * DAY).collect();
    let d = support::temp_dir("state-refuse");
    let mut a = sink(&StrategySpec::Atc(AtcParams::default()), &d);
    feed(&mut a, &ts, &close, 0..50, false);
    let st = a.save_symbol().unwrap().unwrap();
    let other = AtcParams {
        lengths: [20; 6],
        ..AtcParams::default()
    };
    let mut b = sink(&StrategySpec::Atc(other), &d.join("b"));
    let e = b.resume(&st).unwrap_err();
    assert!(e.message.contains("saved state of AAA"), "{}", e.message);
    let mut truncated = st.clone();
    truncated.state.truncate(st.state.len() - 3);
    let mut c = sink(&StrategySpec::Atc(AtcParams::default()), &d.join("c"));
    assert!(c
        .resume(&truncated)
        .unwrap_err()
        .message
        .contains("truncated"));
}

/// Every backtest with an output folder writes one state row per symbol that did not fail
/// (the skipped too: they may reach the minimum later), at its last bar, as a BLOB.
#[test]
fn a_backtest_writes_each_symbols_state_at_its_last_bar() {
    use barstream_kernels::pipeline::backtest;
    use std::sync::atomic::AtomicBool;
    let dir = support::temp_dir("state-table");
    let files = support::dataset(&dir.join("data"), 5, 300, 2);
    let db = support::db();
    let out = dir.join("out");
    let parts: Vec<(u32, String)> = files
        .iter()
        .map(|(k, f)| (*k, support::source_sql(f, &["close"])))
        .collect();
    let opts = BacktestOptions {
        out: out.clone(),
        fee: 0.0,
        long_only: false,
        budget: Budget::unlimited(),
    };
    let c = backtest(
        &db,
        &parts,
        &StrategySpec::Atc(AtcParams::default()),
        &opts,
        2,
        &Arc::new(Progress::default()),
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!((c.symbols, c.failed), (5, 0));
    let list: Vec<String> = files.iter().map(|(_, f)| format!("'{f}'")).collect();
    let want = read(
        &db,
        &format!("SELECT symbol, max(ts) AS ts, count(*)::DOUBLE AS n, 1::DOUBLE AS blob FROM read_parquet([{}]) GROUP BY symbol ORDER BY symbol", list.join(",")),
        &["n", "blob"],
    );
    let got = read(
        &db,
        &format!("SELECT symbol, last_ts AS ts, bars::DOUBLE AS n, (typeof(state) = 'BLOB' AND octet_length(state) > 100)::DOUBLE AS blob FROM read_parquet('{}/_state/symbols/*/*.parquet') ORDER BY symbol", out.display()),
        &["n", "blob"],
    );
    assert_eq!(want.len(), 5);
    assert_eq!(got, want);
}

/// A sink given the saved states continues the symbols read again, carries over the ones
/// without new bars and starts new symbols afresh: its summary and state files equal a
/// one-pass run's byte for byte, and the bars it counts are only those it read.
#[test]
fn carried_symbols_continue_stay_or_start_as_in_one_pass() {
    let k = 250;
    let ts: Vec<i64> = (0..N as i64)
        .map(|i| 1_600_000_000_000_000 + i * DAY)
        .collect();
    let series: Vec<(&str, Vec<f64>)> = ["AAA", "BBB", "CCC", "DDD"]
        .iter()
        .enumerate()
        .map(|(i, s)| (*s, closes_from(0x1234_5678 + i as u64 * 7919)))
        .collect();
    let spec = StrategySpec::Atc(AtcParams::default());
    let (full, old, new) = (
        support::temp_dir("carry-full"),
        support::temp_dir("carry-old"),
        support::temp_dir("carry-new"),
    );
    let mut a = sink(&spec, &full);
    for (sym, c) in &series {
        feed_as(&mut a, sym, &ts, c, 0..N, false);
    }
    a.finish().unwrap();
    // The previous run: AAA and CCC up to bar k, BBB whole, DDD not yet there.
    let mut b1 = sink(&spec, &old);
    let mut states = Vec::new();
    for (sym, c) in &series[..3] {
        let end = if *sym == "BBB" { N } else { k };
        feed_as(&mut b1, sym, &ts, c, 0..end, false);
        states.push(b1.save_symbol().unwrap().unwrap());
    }
    b1.finish().unwrap();
    let mut b2 = sink(&spec, &new);
    b2.carry(states);
    for (sym, c) in &series {
        match *sym {
            "AAA" | "CCC" => feed_as(&mut b2, sym, &ts, c, k..N, false),
            "DDD" => feed_as(&mut b2, sym, &ts, c, 0..N, false),
            _ => {}
        }
    }
    b2.finish().unwrap();
    assert_eq!(
        (b2.bars, b2.symbols, b2.skipped),
        (2 * (N - k) as u64 + N as u64, 4, 0)
    );
    for f in [
        "summary/part-0.parquet",
        "_state/symbols/bucket=0/part-0.parquet",
    ] {
        let bytes = |d: &Path| std::fs::read(d.join(f)).unwrap();
        assert!(bytes(&full) == bytes(&new), "{f} differs from one pass");
    }
    let db = support::db();
    let sig = |dirs: &[&Path]| {
        let files: Vec<String> = dirs
            .iter()
            .map(|d| format!("'{}/signals/*/*.parquet'", d.display()))
            .collect();
        read(
            &db,
            &SIGNALS.replace("{}", &files.join(",")),
            &["close", "event", "position", "strategy_return", "equity"],
        )
    };
    let want = sig(&[&full]);
    assert_eq!(want.len(), 4);
    same(&sig(&[&old, &new]), &want, "carried signals");
}

/// The state table read back (`read_states`, through DuckDB's BLOB vectors) gives each
/// symbol's saved bytes exactly, short and long symbol names alike (DuckDB keeps strings up
/// to 12 bytes inline), in symbol order; of several files the last given wins per symbol,
/// and a file without the state columns is refused naming it.
#[test]
fn state_tables_read_back_byte_for_byte_the_last_file_winning() {
    use barstream_kernels::pipeline::symbol_state::read_states;
    let ts: Vec<i64> = (0..N as i64).map(|i| i * DAY).collect();
    let names = ["ZZ", "A_SYMBOL_LONGER_THAN_12", "MMM"];
    let spec = StrategySpec::Atc(AtcParams::default());
    let run = |dir: &Path, upto: usize| {
        let mut s = sink(&spec, dir);
        let mut saved = Vec::new();
        for (i, sym) in names.iter().enumerate() {
            feed_as(
                &mut s,
                sym,
                &ts,
                &closes_from(77 + i as u64),
                0..upto,
                false,
            );
            saved.push(s.save_symbol().unwrap().unwrap());
        }
        s.finish().unwrap();
        saved.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        saved
    };
    let (d1, d2) = (
        support::temp_dir("read-states-1"),
        support::temp_dir("read-states-2"),
    );
    let first = run(&d1, 100);
    let second = run(&d2, 300);
    let file = |d: &Path| {
        d.join("_state/symbols/bucket=0/part-0.parquet")
            .display()
            .to_string()
    };
    let db = support::db();
    assert_eq!(read_states(&db, &[file(&d1)]).unwrap(), first);
    assert_eq!(read_states(&db, &[file(&d1), file(&d2)]).unwrap(), second);
    assert_eq!(read_states(&db, &[file(&d2), file(&d1)]).unwrap(), first);
    assert_eq!(read_states(&db, &[]).unwrap(), vec![]);
    // A resumed sink continues from the state read back as from the one saved in memory.
    let mut a = sink(&spec, &d1.join("again"));
    a.resume(&read_states(&db, &[file(&d1)]).unwrap()[0])
        .unwrap();
    let summary = d1.join("summary/part-0.parquet").display().to_string();
    let e = read_states(&db, &[summary.clone()]).unwrap_err();
    assert!(e.message.contains(&summary), "{}", e.message);
}

/// An update's sink given the previous run's files (`CarriedFiles`: states, errors) rewrites
/// the bucket's summary, errors, states and open trades exactly as one pass over all bars
/// does, and its closed trades (a new part) with the previous part's are the one pass's; a
/// symbol that failed stays failed with its message, its new bars ignored.
#[test]
fn carried_files_rewrite_the_bucket_tables_as_one_pass() {
    use barstream_kernels::pipeline::carried::CarriedFiles;
    let k = 250;
    let ts: Vec<i64> = (0..N as i64)
        .map(|i| 1_600_000_000_000_000 + i * DAY)
        .collect();
    let mut series: Vec<(&str, Vec<f64>)> = ["AAA", "BAD", "CCC"]
        .iter()
        .enumerate()
        .map(|(i, s)| (*s, closes_from(0x5151 + i as u64 * 104_729)))
        .collect();
    series[1].1[100] = 0.0; // the ATC refuses a close of 0: BAD fails at stage kernel
    let spec = StrategySpec::Atc(AtcParams::default());
    let (full, old, new) = (
        support::temp_dir("files-full"),
        support::temp_dir("files-old"),
        support::temp_dir("files-new"),
    );
    let mut a = sink(&spec, &full);
    for (sym, c) in &series {
        feed_as(&mut a, sym, &ts, c, 0..N, false);
    }
    a.finish().unwrap();
    let mut b1 = sink(&spec, &old);
    for (sym, c) in &series {
        feed_as(&mut b1, sym, &ts, c, 0..k, false);
    }
    b1.finish().unwrap();
    assert_eq!(b1.failed, 1);
    let path = |f: &str| old.join(f).display().to_string();
    let files = CarriedFiles {
        states: vec![path("_state/symbols/bucket=0/part-0.parquet")],
        errors: Some(path("_errors/part-0.parquet")),
    };
    let db = support::db();
    let carried = files.read(&db).unwrap();
    assert_eq!((carried.states.len(), carried.failed.len()), (2, 1));
    let mut b2 = sink(&spec, &new);
    b2.set_part(1);
    b2.carry_all(carried);
    for (sym, c) in &series {
        feed_as(&mut b2, sym, &ts, c, k..N, false);
    }
    b2.finish().unwrap();
    assert_eq!((b2.symbols, b2.failed, b2.updated, b2.added), (3, 1, 2, 0));
    for f in [
        "summary/part-0.parquet",
        "_errors/part-0.parquet",
        "_state/symbols/bucket=0/part-0.parquet",
        "trades/open-0.parquet",
    ] {
        let bytes = |d: &Path| std::fs::read(d.join(f)).unwrap();
        assert!(bytes(&full) == bytes(&new), "{f} differs from one pass");
    }
    let trades = |files: &[String]| {
        let list: Vec<String> = files.iter().map(|f| format!("'{f}'")).collect();
        read(
            &db,
            &format!("SELECT symbol, entry_ts AS ts, epoch_us(exit_ts)::DOUBLE AS x, entry_price, exit_price, bars::DOUBLE AS n, \"return\" AS r FROM read_parquet([{}]) ORDER BY ALL", list.join(",")),
            &["x", "entry_price", "exit_price", "n", "r"],
        )
    };
    let at = |d: &Path, f: &str| d.join(f).display().to_string();
    let want = trades(&[at(&full, "trades/part-0.parquet")]);
    assert!(!want.is_empty());
    assert_eq!(
        trades(&[
            at(&old, "trades/part-0.parquet"),
            at(&new, "trades/part-0-1.parquet")
        ]),
        want
    );
    let missing = CarriedFiles {
        errors: Some(path("_errors/none.parquet")),
        ..CarriedFiles::default()
    };
    assert!(missing
        .read(&db)
        .unwrap_err()
        .message
        .contains("_errors/none.parquet"));
}
