//! Hostile formulas: a clear `InvalidFormula` error or a result, never a stack overflow
//! or a hang. Each runs on a thread with a 256 KiB stack (the napi call runs on Node's
//! main thread, whose whole stack is about 1 MB) and a time limit.
mod formula_util;
use barstream_kernels::formula::{Evaluator, Formula};
use barstream_kernels::ErrorCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

const STACK: usize = 256 << 10;

/// Runs `f` on a small stack; fails if it takes longer than `limit`.
fn small_stack<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let t = Instant::now();
    let r = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(f)
        .expect("thread")
        .join()
        .expect("no panic, no overflow");
    assert!(t.elapsed() < limit, "took {:?}", t.elapsed());
    r
}

fn close(n: usize) -> Vec<f64> {
    (0..n).map(|i| 100.0 + (i as f64 * 0.7).sin()).collect()
}

#[test]
fn ten_thousand_nested_parentheses_are_refused() {
    let text = format!("{}close{} > 1", "(".repeat(10_000), ")".repeat(10_000));
    let e = small_stack(Duration::from_secs(5), move || {
        Formula::compile(&text).unwrap_err()
    });
    assert_eq!(e.code, ErrorCode::InvalidFormula);
    let first = e.message.lines().next().unwrap();
    assert_eq!(
        first,
        "line 1, column 101: the formula is nested too deep: at most 100 levels of parentheses, calls and brackets"
    );
    assert_eq!(e.message.lines().count(), 3);
}

#[test]
fn nesting_up_to_the_limit_compiles_on_a_small_stack() {
    for (open, close_) in [("(", ")"), ("abs(", ")"), ("sma(", ", 2)")] {
        let text = format!("{}close{} > 1", open.repeat(99), close_.repeat(99));
        let f = small_stack(Duration::from_secs(5), move || {
            Formula::compile(&text).map(|f| f.node_count())
        });
        assert!(f.is_ok(), "{open}: {f:?}");
    }
    let text = format!("{}close{} > 1", "abs(".repeat(10_000), ")".repeat(10_000));
    let e = small_stack(Duration::from_secs(5), move || {
        Formula::compile(&text).unwrap_err()
    });
    assert!(e.message.contains("nested too deep"), "{}", e.message);
}

#[test]
fn a_100000_term_sum_gives_its_result() {
    let text = format!("{} > 0", vec!["close"; 100_000].join(" + "));
    let x = close(300);
    let xs = x.clone();
    let (value, nodes) = small_stack(Duration::from_secs(20), move || {
        let f = Arc::new(Formula::compile(&text).expect("compiles"));
        let mut ev = Evaluator::new(&f);
        ev.push(&[&xs]).expect("push");
        let mut s = ev.state();
        s.truncate(s.len());
        (ev.value().to_vec(), f.node_count())
    });
    // close, 99,999 distinct partial sums, the 0 and the comparison.
    assert_eq!(nodes, 100_002);
    assert!(value.iter().all(|&v| v == 1.0));
}

#[test]
fn long_chains_of_unary_operators_and_lookbacks_are_loops() {
    let x = close(50);
    for text in [
        format!("{}close > 0", "- ".repeat(100_000)),
        format!("{}(close > 0)", "not ".repeat(100_000)),
        format!("close{} > 0", "[1]".repeat(10_000)),
    ] {
        let xs = x.clone();
        let v = small_stack(Duration::from_secs(20), move || {
            let f = Arc::new(Formula::compile(&text).expect("compiles"));
            let mut ev = Evaluator::new(&f);
            ev.push(&[&xs]).expect("push");
            ev.value().to_vec()
        });
        assert_eq!(v.len(), 50);
    }
}

#[test]
fn a_one_megabyte_formula_compiles_or_fails_clearly() {
    // 1 MB of statements, each using the one before.
    let mut text = String::from("x0 = close\n");
    let mut i = 0;
    while text.len() < 1 << 20 {
        i += 1;
        text.push_str(&format!(
            "x{i} = x{} * 1.0001 + sma(close, {})\n",
            i - 1,
            1 + i % 50
        ));
    }
    text.push_str(&format!("x{i} > 0"));
    let x = close(64);
    let (names, v) = small_stack(Duration::from_secs(30), move || {
        let f = Arc::new(Formula::compile(&text).expect("compiles"));
        let mut ev = Evaluator::new(&f);
        ev.push(&[&x]).expect("push");
        (f.names.len(), ev.value().to_vec())
    });
    assert_eq!(names, i + 1);
    assert_eq!(v.len(), 64);
    // 1 MB of comment around a formula.
    let text = format!("# {}\nclose > 1", "x".repeat(1 << 20));
    assert!(small_stack(Duration::from_secs(5), move || {
        Formula::compile(&text).is_ok()
    }));
    // Past the limit: refused before lexing.
    let text = "close + ".repeat(700_000) + "close > 0";
    let e = small_stack(Duration::from_secs(5), move || {
        Formula::compile(&text).unwrap_err()
    });
    assert_eq!(e.code, ErrorCode::InvalidFormula);
    assert!(
        e.message.starts_with(
            "line 1, column 1: the formula is too long: 5600009 characters, at most 4194304"
        ),
        "{}",
        &e.message[..200]
    );
}
