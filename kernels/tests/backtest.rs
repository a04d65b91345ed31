//! The backtest over real Parquet through a real DuckDB: the ATC's per-bar outputs,
//! positions, returns and equity equal the rule written again here on each symbol's bars
//! read back; the trades table reconciles with equity bar by bar; a symbol over its time
//! budget fails alone with stage `timeout` and its rows taken back.
mod support;

use barstream_kernels::atc::{Atc, AtcParams, NCOL};
use barstream_kernels::pipeline::backtest::BacktestOptions;
use barstream_kernels::pipeline::budget::Budget;
use barstream_kernels::pipeline::strategy::StrategySpec;
use barstream_kernels::pipeline::{backtest, BacktestCounts, Progress};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use support::{query, Series, SIGNAL_VALUES};

const FEE: f64 = 0.0005;

fn run(
    db: &barstream_kernels::duck::Database,
    files: &[(u32, String)],
    out: &Path,
    long_only: bool,
    budget: Budget,
) -> BacktestCounts {
    let parts: Vec<(u32, String)> = files
        .iter()
        .map(|(k, f)| (*k, support::source_sql(f, &["close"])))
        .collect();
    let opts = BacktestOptions {
        out: out.to_path_buf(),
        fee: FEE,
        long_only,
        budget,
    };
    backtest(
        db,
        &parts,
        &StrategySpec::Atc(AtcParams::default()),
        &opts,
        2,
        &Arc::new(Progress::default()),
        &AtomicBool::new(false),
    )
    .expect("backtest")
}

fn bars(db: &barstream_kernels::duck::Database, files: &[(u32, String)]) -> Vec<Series> {
    let list: Vec<String> = files.iter().map(|(_, f)| format!("'{f}'")).collect();
    query(
        db,
        &format!(
            "SELECT symbol, ts, close FROM read_parquet([{}]) ORDER BY symbol, ts",
            list.join(", ")
        ),
        &["close"],
    )
}

fn signals(db: &barstream_kernels::duck::Database, out: &Path) -> Vec<Series> {
    let cols = SIGNAL_VALUES.join(", ");
    query(
        db,
        &format!(
            "SELECT symbol, ts, {cols} FROM read_parquet('{}/signals/*/*.parquet') ORDER BY symbol, ts",
            out.display()
        ),
        &SIGNAL_VALUES,
    )
}

fn assert_bits(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
            "{what}[{i}]: {g} != {w}"
        );
    }
}

/// The ATC backtest rule of the spec, on a whole series: the event of bar i sets the
/// target, which is the position from bar i+1 on; returns pay the fee on each change.
fn expected(close: &[f64], long_only: bool) -> Vec<Vec<f64>> {
    let n = close.len();
    let mut outs = vec![vec![0.0; n]; NCOL];
    {
        let mut cols: [&mut [f64]; NCOL] = {
            let mut it = outs.iter_mut().map(|v| v.as_mut_slice());
            std::array::from_fn(|_| it.next().unwrap())
        };
        Atc::new(&AtcParams::default())
            .unwrap()
            .update(close, &mut cols)
            .unwrap();
    }
    let (mut pos, mut ret, mut eq) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let (mut target, mut equity) = (0.0, 1.0);
    for i in 0..n {
        pos[i] = target;
        if i > 0 {
            ret[i] =
                pos[i - 1] * (close[i] / close[i - 1] - 1.0) - FEE * (pos[i] - pos[i - 1]).abs();
        }
        equity *= 1.0 + ret[i];
        eq[i] = equity;
        let e = outs[NCOL - 1][i];
        if e > 0.0 {
            target = 1.0;
        } else if e < 0.0 {
            target = if long_only { 0.0 } else { -1.0 };
        }
    }
    let mut all = vec![close.to_vec()];
    all.extend(outs);
    all.extend([pos, ret, eq]);
    all
}

#[test]
fn atc_signals_follow_the_rule_on_every_symbol() {
    let dir = support::temp_dir("bt-rule");
    let files = support::dataset(&dir.join("data"), 7, 700, 3);
    let db = support::db();
    let input = bars(&db, &files);
    for long_only in [false, true] {
        let out = dir.join(format!("out-{long_only}"));
        let c = run(&db, &files, &out, long_only, Budget::unlimited());
        assert_eq!((c.symbols, c.skipped, c.failed, c.partitions), (7, 0, 0, 3));
        let got = signals(&db, &out);
        assert_eq!(got.len(), input.len());
        let mut shorts = 0;
        for (g, s) in got.iter().zip(&input) {
            assert_eq!((&g.symbol, &g.ts), (&s.symbol, &s.ts));
            let want = expected(s.col(0), long_only);
            for (k, name) in SIGNAL_VALUES.iter().enumerate() {
                assert_bits(&format!("{} {name}", s.symbol), g.col(k), &want[k]);
            }
            shorts += g.col(15).iter().filter(|p| **p < 0.0).count();
        }
        // Both sides are exercised, and long-only never goes short.
        assert_eq!(shorts == 0, long_only, "short bars: {shorts}");
    }
}

#[test]
fn trades_reconcile_with_equity_and_name_the_closes_of_their_bars() {
    let dir = support::temp_dir("bt-trades");
    let files = support::dataset(&dir.join("data"), 6, 900, 2);
    let db = support::db();
    let out = dir.join("out");
    run(&db, &files, &out, false, Budget::unlimited());
    let sig = signals(&db, &out);
    let trades = query(
        &db,
        &format!(
            "SELECT symbol, entry_ts AS ts, (side = 'long')::DOUBLE AS long,
                    coalesce(epoch_us(exit_ts), -1)::DOUBLE AS exit_us, entry_price, exit_price,
                    bars::DOUBLE AS bars, \"return\" AS ret
             FROM read_parquet('{}/trades/*.parquet') ORDER BY symbol, entry_ts",
            out.display()
        ),
        &[
            "long",
            "exit_us",
            "entry_price",
            "exit_price",
            "bars",
            "ret",
        ],
    );
    assert_eq!(trades.len(), sig.len(), "every symbol traded");
    let summary = query(
        &db,
        &format!(
            "SELECT symbol, last_ts AS ts, trades::DOUBLE AS trades, total_return
             FROM read_parquet('{}/summary/*.parquet') ORDER BY symbol",
            out.display()
        ),
        &["trades", "total_return"],
    );
    for ((t, s), sum) in trades.iter().zip(&sig).zip(&summary) {
        assert_eq!((&t.symbol, &sum.symbol), (&s.symbol, &s.symbol));
        let (close, pos, eq) = (s.col(0), s.col(15), s.col(17));
        let at = |ts: i64| s.ts.binary_search(&ts).expect("a bar of the symbol");
        let n = s.ts.len();
        let mut product = 1.0;
        for k in 0..t.ts.len() {
            let side = if t.col(0)[k] == 1.0 { 1.0 } else { -1.0 };
            let e = at(t.ts[k]);
            assert_eq!(t.col(2)[k], close[e], "{} entry price", s.symbol);
            assert_eq!(
                pos[e], side,
                "the position at the entry bar is the trade's side"
            );
            assert!(
                e == 0 || pos[e - 1] != side,
                "a trade starts where the position changes"
            );
            let x = if t.col(1)[k] < 0.0 {
                assert_eq!(k, t.ts.len() - 1, "only the last trade is open");
                assert_eq!(pos[n - 1], side, "an open trade holds at the last bar");
                n - 1
            } else {
                let x = at(t.col(1)[k] as i64);
                assert_ne!(pos[x], side, "a trade ends where the position changes");
                assert!(pos[e..x].iter().all(|p| *p == side), "held in between");
                x
            };
            assert_eq!(t.col(3)[k], close[x], "{} exit price", s.symbol);
            assert_eq!(t.col(4)[k], (x - e) as f64, "bars");
            product *= 1.0 + t.col(5)[k];
        }
        // Every change to a non-zero position starts a trade.
        let starts = (0..n)
            .filter(|&i| pos[i] != 0.0 && (i == 0 || pos[i] != pos[i - 1]))
            .count();
        assert_eq!(starts, t.ts.len());
        assert_eq!(sum.col(0)[0], t.ts.len() as f64, "summary trades");
        let growth = eq[n - 1] / eq[0];
        assert!(
            (product - growth).abs() <= 1e-12 * growth,
            "{}: trades compound to {product}, equity to {growth}",
            s.symbol
        );
        assert!((sum.col(1)[0] - (eq[n - 1] - 1.0)).abs() <= 1e-15);
    }
    // An open trade's exit is NULL in the file itself.
    let open = query(
        &db,
        &format!(
            "SELECT symbol, entry_ts AS ts, 1.0::DOUBLE AS one FROM read_parquet('{}/trades/*.parquet') WHERE exit_ts IS NULL ORDER BY symbol",
            out.display()
        ),
        &["one"],
    );
    let held = sig
        .iter()
        .filter(|s| *s.col(15).last().unwrap() != 0.0)
        .count();
    assert_eq!(
        open.len(),
        held,
        "one open trade per symbol holding a position at its end"
    );
}

#[test]
fn a_symbol_over_its_time_budget_fails_alone_and_its_rows_are_taken_back() {
    let dir = support::temp_dir("bt-timeout");
    let files = support::dataset(&dir.join("data"), 5, 3000, 2);
    let db = support::db();
    let out = dir.join("out");
    // Any work at all exceeds a budget of 0 ms: every symbol times out, the job completes.
    let c = run(&db, &files, &out, false, Budget::millis(0.0).unwrap());
    assert_eq!((c.symbols, c.failed, c.skipped), (5, 5, 0));
    let errors = query(
        &db,
        &format!(
            "SELECT symbol, TIMESTAMP '2000-01-01' AS ts, (stage = 'timeout')::DOUBLE AS timeout,
                    contains(message, 'time budget of 0 ms')::DOUBLE AS says
             FROM read_parquet('{}/_errors/*.parquet') ORDER BY symbol",
            out.display()
        ),
        &["timeout", "says"],
    );
    assert_eq!(errors.len(), 5);
    assert!(errors.iter().all(|e| e.cols == vec![vec![1.0], vec![1.0]]));
    for table in ["signals/*/*", "summary/*", "trades/*"] {
        let rows = query(
            &db,
            &format!(
                "SELECT 'all' AS symbol, TIMESTAMP '2000-01-01' AS ts, count(*)::DOUBLE AS n FROM read_parquet('{}/{table}.parquet')",
                out.display()
            ),
            &["n"],
        );
        assert_eq!(
            rows[0].cols[0],
            vec![0.0],
            "{table} keeps no row of a timed-out symbol"
        );
    }
    // A generous budget changes nothing.
    let ok = dir.join("ok");
    let c = run(&db, &files, &ok, false, Budget::millis(60_000.0).unwrap());
    assert_eq!((c.symbols, c.failed), (5, 0));
}
