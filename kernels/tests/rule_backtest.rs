//! A strategy formula's backtest over real Parquet: per bar, the named values (the rules
//! among them), the position, return and equity equal the spec's strategy rule written
//! again here on each symbol's bars read back; a symbol whose formula fails is isolated;
//! a formula that is not a strategy, or assigns a column the backtest writes, is refused.
mod support;

use barstream_kernels::formula::{Evaluator, Formula};
use barstream_kernels::pipeline::backtest::BacktestOptions;
use barstream_kernels::pipeline::budget::Budget;
use barstream_kernels::pipeline::strategy::StrategySpec;
use barstream_kernels::pipeline::{backtest, BacktestCounts, Progress};
use barstream_kernels::ErrorCode;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use support::query;

const FEE: f64 = 0.001;

/// Entries and exits that overlap on some bars, so every branch of the rule is taken.
const STRATEGY: &str = "fast = ema(close, 8)
slow = sma(close, 21)
entry = close > fast and fast > slow
exit = close < slow
short_entry = close < fast and fast < slow
short_exit = close > slow or high - low > 2 * atr(14)";

fn run(
    db: &barstream_kernels::duck::Database,
    parts: &[(u32, String)],
    f: &Arc<Formula>,
    out: &Path,
    long_only: bool,
) -> barstream_kernels::Result<BacktestCounts> {
    let opts = BacktestOptions {
        out: out.to_path_buf(),
        fee: FEE,
        long_only,
        budget: Budget::unlimited(),
    };
    backtest(
        db,
        parts,
        &StrategySpec::Formula(f.clone()),
        &opts,
        2,
        &Arc::new(Progress::default()),
        &AtomicBool::new(false),
    )
}

/// The spec's rule: the target T moves by the rules at each bar (NaN is not true) and is
/// the position from the next bar on; returns and fees as the ATC backtest.
fn rule(named: &[Vec<f64>], close: &[f64], long_only: bool) -> [Vec<f64>; 3] {
    let n = close.len();
    let t = |k: usize, i: usize| named[k][i] == 1.0;
    // entry, exit, short_entry, short_exit are names 2..6 of STRATEGY.
    let (mut pos, mut ret, mut eq) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let (mut target, mut equity) = (0.0f64, 1.0);
    for i in 0..n {
        pos[i] = if long_only && target < 0.0 {
            0.0
        } else {
            target
        };
        if i > 0 {
            ret[i] =
                pos[i - 1] * (close[i] / close[i - 1] - 1.0) - FEE * (pos[i] - pos[i - 1]).abs();
        }
        equity *= 1.0 + ret[i];
        eq[i] = equity;
        let (en, ex, sen, sex) = (t(2, i), t(3, i), t(4, i), t(5, i));
        if en && !ex && !sen {
            target = 1.0;
        } else if sen && !sex && !en {
            target = -1.0;
        } else if (target == 1.0 && ex) || (target == -1.0 && sex) {
            target = 0.0;
        }
    }
    [pos, ret, eq]
}

#[test]
fn a_rule_backtest_equals_the_strategy_rule_written_again() {
    let dir = support::temp_dir("rules");
    let files = support::dataset(&dir.join("data"), 6, 800, 2);
    let db = support::db();
    let f = Arc::new(Formula::compile(STRATEGY).unwrap());
    let parts: Vec<(u32, String)> = files
        .iter()
        .map(|(k, p)| (*k, support::source_sql(p, &["high", "low", "close"])))
        .collect();
    let list: Vec<String> = files.iter().map(|(_, p)| format!("'{p}'")).collect();
    let input = query(
        &db,
        &format!(
            "SELECT symbol, ts, high, low, close FROM read_parquet([{}]) ORDER BY symbol, ts",
            list.join(", ")
        ),
        &["high", "low", "close"],
    );
    for long_only in [false, true] {
        let out = dir.join(format!("out-{long_only}"));
        let c = run(&db, &parts, &f, &out, long_only).unwrap();
        assert_eq!((c.symbols, c.failed, c.skipped), (6, 0, 0));
        let mut cols = vec!["close"];
        cols.extend(f.names.iter().map(String::as_str));
        cols.extend(["position", "strategy_return", "equity"]);
        let got = query(
            &db,
            &format!(
                "SELECT * FROM read_parquet('{}/signals/*/*.parquet') ORDER BY symbol, ts",
                out.display()
            ),
            &cols,
        );
        assert_eq!(got.len(), input.len());
        let (mut longs, mut shorts) = (0, 0);
        for (g, s) in got.iter().zip(&input) {
            assert_eq!((&g.symbol, &g.ts), (&s.symbol, &s.ts));
            let mut ev = Evaluator::new(&f);
            ev.push(&[s.col(0), s.col(1), s.col(2)]).unwrap();
            let named: Vec<Vec<f64>> = (0..f.names.len()).map(|i| ev.named(i).to_vec()).collect();
            let want = rule(&named, s.col(2), long_only);
            let expect: Vec<&[f64]> = std::iter::once(s.col(2))
                .chain(named.iter().map(Vec::as_slice))
                .chain(want.iter().map(Vec::as_slice))
                .collect();
            for (k, name) in cols.iter().enumerate() {
                let (a, b) = (g.col(k), expect[k]);
                for i in 0..a.len() {
                    assert!(
                        a[i].to_bits() == b[i].to_bits() || (a[i].is_nan() && b[i].is_nan()),
                        "{} {name}[{i}]: {} != {}",
                        s.symbol,
                        a[i],
                        b[i]
                    );
                }
            }
            longs += want[0].iter().filter(|p| **p > 0.0).count();
            shorts += want[0].iter().filter(|p| **p < 0.0).count();
        }
        assert!(longs > 0, "the strategy goes long");
        assert_eq!(shorts == 0, long_only, "and short unless long-only");
    }
}

#[test]
fn a_failing_symbol_is_isolated_and_bad_strategies_are_refused() {
    let dir = support::temp_dir("rules-fail");
    let files = support::dataset(&dir.join("data"), 4, 300, 1);
    let db = support::db();
    let (k, file) = &files[0];
    let body = format!(
        "SELECT symbol, ts, CASE WHEN symbol = (SELECT min(symbol) FROM read_parquet('{file}'))
                 AND row_number() OVER (PARTITION BY symbol ORDER BY ts) = 100 THEN 0.0 ELSE close END AS close
         FROM read_parquet('{file}')"
    );
    let sql = format!("SELECT symbol::VARCHAR AS symbol, ts::TIMESTAMP AS ts, close::DOUBLE AS close\nFROM (\n{body}\n) AS src ORDER BY symbol, ts");
    let f = Arc::new(Formula::compile("a = atc(close)\nentry = a > 0.2\nexit = a < 0").unwrap());
    let out = dir.join("out");
    let c = run(&db, &[(*k, sql.clone())], &f, &out, false).unwrap();
    assert_eq!((c.symbols, c.failed, c.skipped), (4, 1, 0));
    let errors = query(
        &db,
        &format!(
            "SELECT symbol, TIMESTAMP '2000-01-01' AS ts, (stage = 'formula')::DOUBLE AS formula,
                    contains(message, 'bar 99')::DOUBLE AS names_bar
             FROM read_parquet('{}/_errors/*.parquet')",
            out.display()
        ),
        &["formula", "names_bar"],
    );
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].cols, vec![vec![1.0], vec![1.0]]);
    let summary = query(
        &db,
        &format!(
            "SELECT symbol, last_ts AS ts, bars::DOUBLE AS bars FROM read_parquet('{}/summary/*.parquet') ORDER BY symbol",
            out.display()
        ),
        &["bars"],
    );
    assert_eq!(summary.len(), 3);
    assert!(summary
        .iter()
        .all(|s| s.symbol != errors[0].symbol && s.cols[0][0] == 300.0));
    for (text, what) in [
        ("close > sma(close, 5)", "a condition"),
        ("entry = close > 1\nequity = close * 2", "a reserved name"),
    ] {
        let f = Arc::new(Formula::compile(text).unwrap());
        let err = run(&db, &[(*k, sql.clone())], &f, &dir.join("refused"), false).unwrap_err();
        assert_eq!(
            err.code,
            ErrorCode::InvalidFormula,
            "{what}: {}",
            err.message
        );
        assert!(!dir.join("refused").exists(), "{what}: nothing written");
    }
}
