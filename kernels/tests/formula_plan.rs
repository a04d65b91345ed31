//! The compiled plan and the evaluator's contract: shared subexpressions, warm-up by the
//! spec's rules, fields read, the skip rule, the composed functions equal to the direct
//! kernels, runtime and input errors, and refused states.
mod formula_util;
use barstream_kernels::atc::Trend;
use barstream_kernels::formula::{Evaluator, Field, Formula, Kind};
use barstream_kernels::kernel::{compute, Kernel};
use barstream_kernels::ma::Sma;
use barstream_kernels::osc::{Bollinger, BollingerParams, Macd, MacdParams, Stoch, StochParams};
use barstream_kernels::vol::{Atr, TrueRange};
use barstream_kernels::ErrorCode;
use formula_util::{compile, load, run, same_bits, Bars};
use std::sync::Arc;

#[test]
fn equal_subexpressions_are_one_node() {
    let n = |t: &str| compile(t).node_count();
    // close, sma, 1, >, 5, <, and
    assert_eq!(n("sma(close, 20) > 1 and sma(close, 20) < 5"), 7);
    assert_eq!(n("sma(close, 20) > 1 and sma(close, 21) < 5"), 8);
    // bb_mid is the SMA itself: close, sma, >
    assert_eq!(n("bb_mid(close, 20) > sma(close, 20)"), 3);
    // trend_state is state of the two crossings: close, ema, above, below, state, ==
    assert_eq!(
        n("s = state(crosses_above(close, ema(close, 21)), crosses_below(close, ema(close, 21)))\nt = trend_state(close, ema(close, 21))\ns == t"),
        6
    );
    // a named value and the same text written out again
    assert_eq!(
        n("a = ema(close, 12) - ema(close, 26)\nmacd(close, 12, 26) > a"),
        5
    );
}

#[test]
fn warmup_follows_the_spec() {
    let table: &[(&str, u64)] = &[
        ("close > 1", 0),
        ("tr > 1", 1),
        ("hl2 > ohlc4", 0),
        ("sma(close, 20) > 1", 19),
        ("ema(sma(close, 10), 5) > 0", 13),
        ("close[3] > 0", 3),
        ("change(close, 2) > 0", 2),
        ("roc(sma(close, 5), 3) > 0", 7),
        ("crosses_above(close, sma(close, 20))", 20),
        ("crosses(close[2], open)", 3),
        ("rsi(close, 14) > 50", 14),
        ("dema(close, 10) > 0", 18),
        ("hma(close, 9) > 0", 10),
        ("lsma(close, 25) > 0", 24),
        ("kama(close, 10) > 0", 0),
        ("atr(14) > 0", 14),
        ("rma(tr, 14) > 0", 14),
        ("stdev(close[1], 20) > 0", 20),
        ("highest(high, 5) > lowest(low, 7)", 6),
        ("sum(close, 5)[2] > 0", 6),
        ("macd(close) > 0", 25),
        ("macd(close, 30, 10) > 0", 29),
        ("macd_signal(close) > 0", 33),
        ("macd_hist(close, 12, 26, 9) > 0", 33),
        ("stoch_k() > 50", 13),
        ("stoch_d() > 50", 15),
        ("stoch_d(5, 3) > 50", 6),
        ("bb_upper(close, 20) > close", 19),
        ("atc(close) > 0", 0),
        ("atc(sma(close, 5), 10) > 0", 4),
        ("barssince(close > open) > 3", 0),
        ("count(close > open, 10) > 3", 0),
        (
            "valuewhen(crosses_above(close, sma(close, 20)), close) > 0",
            20,
        ),
        ("trend_state(close, sma(close, 20)) > 0", 19),
        ("iff(close[2] > open, sma(close, 5), ema(close, 8)) > 0", 7),
        ("nz(sma(close, 4), close[9]) > 0", 9),
        ("x = sma(close, 20)\ny = x[5]\ny > 0", 24),
        ("sma(close, 1000000) > 0", 999_999),
        (
            "entry = close > sma(close, 50)\nexit = close < sma(close, 10)\nz = sma(close, 200)",
            49,
        ),
    ];
    for (text, w) in table {
        assert_eq!(compile(text).warmup, *w, "{text}");
    }
}

#[test]
fn kinds_fields_names_and_rules() {
    let f = compile("a = hl2\nb = atr(3)\na > b");
    assert_eq!(f.kind, Kind::Condition);
    assert_eq!(f.fields, vec![Field::High, Field::Low, Field::Close]);
    assert_eq!(f.names, vec!["a", "b"]);
    assert_eq!(f.rules(), [None; 4]);
    let f = compile("stoch_k(5) + volume");
    assert_eq!(f.kind, Kind::Number);
    assert_eq!(
        f.fields,
        vec![Field::High, Field::Low, Field::Close, Field::Volume]
    );
    let f = compile("1 > 0");
    assert_eq!(
        f.fields,
        vec![Field::Close],
        "a formula reading nothing still reads close"
    );
    let f = compile("x = ohlc4\nshort_entry = close < x\nentry = close > x\nexit = false");
    assert_eq!(f.kind, Kind::Strategy);
    assert_eq!(f.fields, Field::ALL[..4].to_vec());
    assert_eq!(f.rules(), [Some(2), Some(3), Some(1), None]);
    let mut ev = Evaluator::new(&f);
    let c = [1.0, 2.0, 3.0];
    ev.push(&[&c, &c, &c, &c]).unwrap();
    assert!(ev.value().is_empty());
    assert_eq!(ev.named(3), &[0.0, 0.0, 0.0]);
}

/// `sma` of the defined values only, scattered back: the skip rule written out.
#[test]
fn stateful_functions_skip_undefined_bars() {
    let x: Vec<f64> = (0..60)
        .map(|i| {
            if i % 7 == 3 || (20..26).contains(&i) {
                f64::NAN
            } else {
                100.0 + (i as f64).sin()
            }
        })
        .collect();
    let f = compile("s = sma(close, 5)\ne = ema(close, 4)\ns > 0");
    let mut ev = Evaluator::new(&f);
    ev.push(&[&x]).unwrap();
    let defined: Vec<f64> = x.iter().copied().filter(|v| !v.is_nan()).collect();
    for (k, name) in [(0, "sma"), (1, "ema")] {
        let dense = match name {
            "sma" => compute::<Sma>(&5, &defined).unwrap(),
            _ => compute::<barstream_kernels::ma::Ema>(&4, &defined).unwrap(),
        };
        let mut it = dense.iter();
        let want: Vec<f64> = x
            .iter()
            .map(|v| {
                if v.is_nan() {
                    f64::NAN
                } else {
                    *it.next().unwrap()
                }
            })
            .collect();
        assert!(same_bits(ev.named(k), &want), "{name}");
    }
    // Bar-based functions count bars, defined or not.
    let f = compile("close[2] > 0");
    let mut ev = Evaluator::new(&f);
    ev.push(&[&x]).unwrap();
    for i in 2..60 {
        let want = if x[i - 2].is_nan() { f64::NAN } else { 1.0 };
        assert!(same_bits(&ev.value()[i..=i], &[want]), "bar {i}");
    }
}

#[test]
fn composed_functions_equal_the_direct_kernels() {
    for g in load() {
        let (h, l, c) = (&g.bars.cols[1], &g.bars.cols[2], &g.bars.cols[3]);
        let n = c.len();
        let f = compile(
            "m = macd(close, 5, 13)\ns = macd_signal(close, 5, 13, 4)\nhh = macd_hist(close, 5, 13, 4)
k = stoch_k(7)\nd = stoch_d(7, 3)\na = atr(6)\nt = tr
u = bb_upper(close, 9, 1.5)\nlo = bb_lower(close, 9, 1.5)\nmid = bb_mid(close, 9)\nts = trend_state(close, sma(close, 9))\n1",
        );
        let (_, named) = run(&f, &g.bars);
        let get = |name: &str| &named[f.names.iter().position(|x| x == name).unwrap()];
        let mut macd = Macd::new(&MacdParams {
            fast: 5,
            slow: 13,
            signal: 4,
        })
        .unwrap();
        let (mut m, mut s, mut hh) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        macd.update(c, &mut m, &mut s, &mut hh).unwrap();
        let mut st = Stoch::new(&StochParams { k: 7, d: 3 }).unwrap();
        let (mut k, mut d) = (vec![0.0; n], vec![0.0; n]);
        st.update(h, l, c, &mut k, &mut d).unwrap();
        let mut a = vec![0.0; n];
        Atr::new(&6).unwrap().update(h, l, c, &mut a).unwrap();
        let mut t = vec![0.0; n];
        TrueRange::new().update(h, l, c, &mut t).unwrap();
        let (mut bm, mut bu, mut bl) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        Bollinger::new(&BollingerParams { length: 9, k: 1.5 })
            .unwrap()
            .update(c, &mut bm, &mut bu, &mut bl)
            .unwrap();
        let line = compute::<Sma>(&9, c).unwrap();
        let mut ts = vec![0.0; n];
        Trend::new().update(c, &line, &mut ts).unwrap();
        for (name, want) in [
            ("m", &m),
            ("s", &s),
            ("hh", &hh),
            ("k", &k),
            ("d", &d),
            ("a", &a),
            ("t", &t),
            ("u", &bu),
            ("lo", &bl),
            ("mid", &bm),
            ("ts", &ts),
        ] {
            assert!(same_bits(get(name), want), "{} {name}", g.file);
        }
    }
}

#[test]
fn atc_fails_on_a_non_positive_input_naming_the_bar() {
    let mut x: Vec<f64> = (0..50).map(|i| 10.0 + i as f64).collect();
    x[7] = f64::NAN;
    x[33] = -2.0;
    let f = compile("a = atc(close - 0, 10)\na > 0");
    let mut ev = Evaluator::new(&f);
    ev.push(&[&x[..20]]).unwrap();
    let e = ev.push(&[&x[20..]]).unwrap_err();
    assert_eq!(e.code, ErrorCode::BadInput);
    assert_eq!(
        e.message,
        "atc(x, 10): its input is -2 at bar 33; atc needs values > 0"
    );
}

#[test]
fn bad_bars_are_refused_naming_the_field() {
    let f = compile("close > open");
    let mut ev = Evaluator::new(&f);
    let e = ev.push(&[&[1.0, 2.0], &[1.0]]).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidParam);
    assert_eq!(
        e.message,
        "formula: close has 1 values but open has 2: every field must have one value per bar"
    );
    let e = ev.push(&[&[1.0]]).unwrap_err();
    assert_eq!(e.message, "formula: expected 2 series (open, close), got 1");
    ev.push(&[&[1.0, 2.0], &[1.0, 1.0]]).unwrap();
    let e = ev.push(&[&[1.0], &[f64::INFINITY]]).unwrap_err();
    assert_eq!(e.code, ErrorCode::BadInput);
    assert_eq!(e.message, "close[2] is inf: values must be finite or NaN");
    assert_eq!(ev.seen(), 2, "nothing consumed");
}

#[test]
fn foreign_states_are_refused() {
    let f = compile("sma(close, 3) > 1");
    let mut ev = Evaluator::new(&f);
    ev.push(&[&[1.0, 2.0, 3.0, 4.0]]).unwrap();
    let s = ev.state();
    let other = compile("sma(close, 3) > 2");
    let e = Evaluator::from_state(&other, &s).err().unwrap();
    assert_eq!(e.code, ErrorCode::InvalidParam);
    assert_eq!(
        e.message,
        "state: saved by another formula; resume with the same formula text"
    );
    let e = Evaluator::from_state(&f, &s[..s.len() - 3]).err().unwrap();
    assert!(e.message.contains("truncated"), "{}", e.message);
    let sma = barstream_kernels::ma::Sma::new(&3).unwrap().to_bytes();
    let e = Evaluator::from_state(&f, &sma).err().unwrap();
    assert!(
        e.message.contains("saved by `sma`, not `formula`"),
        "{}",
        e.message
    );
    let mut more = s.clone();
    more.push(0);
    assert!(Evaluator::from_state(&f, &more).is_err());
    let back = Evaluator::from_state(&f, &s).unwrap();
    assert_eq!(back.seen(), 4);
}

#[test]
fn long_lengths_over_short_series_stay_small() {
    let f = compile("a = sma(close, 1000000)\nb = close[1000000]\nc = count(close > 0, 1000000)\nd = valuewhen(close > 0, close, 1000000)\na > 0 or b > 0");
    let mut ev = Evaluator::new(&f);
    let x = vec![1.0; 100];
    ev.push(&[&x]).unwrap();
    assert!(
        ev.state().len() < 20_000,
        "state {} bytes",
        ev.state().len()
    );
    assert!(ev.value().iter().all(|v| v.is_nan()));
}

#[test]
fn formula_and_evaluator_are_shareable() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Formula>();
    send::<Evaluator>();
    let f: Arc<Formula> = compile("close > 1");
    let g = f.clone();
    let h = std::thread::spawn(move || {
        let mut ev = Evaluator::new(&g);
        ev.push(&[&[2.0]]).unwrap();
        ev.value().to_vec()
    });
    assert_eq!(h.join().unwrap(), vec![1.0]);
    let _ = Bars {
        cols: Default::default(),
    };
}
