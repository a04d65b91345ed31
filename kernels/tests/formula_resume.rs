//! Chunked and resumed evaluation equal one pass, bit for bit: every golden case in
//! steps 1, 2, 3, 5, 7, 13, 100 and all (carried in memory, and saved to bytes and
//! restored after every chunk), and random splits of series with gaps (NaN bars, which
//! exercise the skip rule across chunk edges) via proptest.
mod formula_util;
use formula_util::{compile, load, run, run_chunked, same_bits, Bars};
use proptest::prelude::*;

const STEPS: [usize; 8] = [1, 2, 3, 5, 7, 13, 100, usize::MAX];

/// `bars` with NaN holes: every field at bars where `i % 17 == 5`, close alone where
/// `i % 29 == 11`, and a run of 40 NaN bars at 300.
fn with_gaps(bars: &Bars) -> Bars {
    let mut b = bars.clone();
    for i in 0..b.len() {
        let all = i % 17 == 5 || (300..340).contains(&i);
        for (k, col) in b.cols.iter_mut().enumerate() {
            if all || (k == 3 && i % 29 == 11) {
                col[i] = f64::NAN;
            }
        }
    }
    b
}

#[test]
fn golden_cases_in_every_step_equal_one_pass() {
    for g in load() {
        for bars in [g.bars.clone(), with_gaps(&g.bars)] {
            for c in &g.cases {
                let f = compile(&c.formula);
                let (value, named) = run(&f, &bars);
                for step in STEPS {
                    for resume in [false, true] {
                        let (v, n) = run_chunked(&f, &bars, &mut || step, resume);
                        let what =
                            format!("{} {:?} step {step} resume {resume}", g.file, c.formula);
                        assert!(same_bits(&v, &value), "{what}: value");
                        for (i, (a, b)) in n.iter().zip(&named).enumerate() {
                            assert!(same_bits(a, b), "{what}: {}", f.names[i]);
                        }
                    }
                }
            }
        }
    }
}

/// Every function at least once, with gaps in its inputs.
const MIXED: &str = "a = sma(close, 5) + ema(hl2, 4) - rma(tr, 3) + wma(close, 6)
b = dema(close, 3) + hma(close, 9) + lsma(close, 5) + kama(close, 4) + rsi(close, 3)
c = bb_upper(close, 5, 1.5) - bb_lower(close, 5) + bb_mid(close, 5) + stdev(close, 4)
d = highest(high, 7) - lowest(low, 7) + sum(close > open, 4) + atr(5)
e = macd(close, 3, 6) + macd_signal(close, 3, 6, 4) + macd_hist(close, 3, 6, 4)
k = stoch_k(5) + stoch_d(5, 3) + atc(close, 8)
g = change(close, 2) + roc(close, 3) + barssince(crosses(close, a / 4)) + valuewhen(close > open, close, 2)
h = count(close > close[1], 6) + state(crosses_above(close, ema(close, 5)), crosses_below(close, ema(close, 5))) + trend_state(close, sma(close, 4))
m = iff(na(close[2]), nz(volume, 1), abs(open - close)) + sqrt(volume) + log(close) + min(open, close) + max(high, ohlc4) + hlc3
a > 0 and (b > 10 or not (c < 0)) or m[3] > 1";

fn series(seed: u64, n: usize, gaps: &[bool]) -> Bars {
    let mut s = seed | 1;
    let mut r = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut c = 100.0;
    let mut cols: [Vec<f64>; 5] = Default::default();
    for i in 0..n {
        let o = c;
        c *= 1.0 + (r() - 0.5) * 0.04;
        let (h, l) = (o.max(c) * (1.0 + r() * 0.01), o.min(c) * (1.0 - r() * 0.01));
        let v = 1000.0 + r() * 500.0;
        let gap = gaps[i % gaps.len()];
        for (k, x) in [o, h, l, c, v].into_iter().enumerate() {
            cols[k].push(if gap && (k == 3 || i % 3 == 0) {
                f64::NAN
            } else {
                x
            });
        }
    }
    Bars { cols }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn random_splits_equal_one_pass(
        seed in 1u64..u64::MAX,
        n in 1usize..700,
        gaps in prop::collection::vec(prop::bool::weighted(0.15), 1..40),
        cuts in prop::collection::vec(1usize..300, 1..20),
        resume in any::<bool>(),
    ) {
        let f = compile(MIXED);
        let bars = series(seed, n, &gaps);
        let (value, named) = run(&f, &bars);
        let mut i = 0;
        let (v, nn) = run_chunked(&f, &bars, &mut || { i += 1; cuts[i % cuts.len()] }, resume);
        prop_assert!(same_bits(&v, &value));
        for (a, b) in nn.iter().zip(&named) {
            prop_assert!(same_bits(a, b));
        }
    }
}

/// A kernel whose sums overflow gives NaN there, never infinity, in one pass and in every
/// split: huge closes in the second block of 2048 bars (with NaN bars among them, and
/// without), small ones around them.
#[test]
fn an_overflowing_kernel_gives_nan_in_every_split() {
    const HUGE: f64 = 1e308;
    let f = compile(
        "s = sum(close, 3)
m = sma(close, 4)
d = stdev(close, 5)
w = wma(close, 3)
c = sum(s, 2)
h = highest(close, 3)
close > 0",
    );
    let n = 5000;
    let mut cols: [Vec<f64>; 5] = Default::default();
    for i in 0..n {
        let c = match i {
            2500..=2503 | 3000 | 3002 | 3004 => HUGE,
            3001 | 3003 => f64::NAN,
            _ => 100.0 + (i % 7) as f64,
        };
        for (k, col) in cols.iter_mut().enumerate() {
            col.push(if k == 3 { c } else { 1.0 });
        }
    }
    let bars = formula_util::Bars { cols };
    let (value, named) = run(&f, &bars);
    assert_eq!(value.len(), n);
    for (name, v) in f.names.iter().zip(&named) {
        assert!(
            v.iter().all(|x| !x.is_infinite()),
            "{name} holds an infinity"
        );
    }
    let at = |name: &str, i: usize| named[f.names.iter().position(|x| x == name).unwrap()][i];
    // Three and four huge values overflow the sum; the highest of them is one of them.
    assert!(at("s", 2502).is_nan() && at("m", 2503).is_nan() && at("w", 2502).is_nan());
    assert!(at("d", 2503).is_nan() && at("c", 2503).is_nan());
    assert!(
        at("s", 3004).is_nan(),
        "the window skips the NaN bars: three huge values"
    );
    assert_eq!((at("h", 2502), at("h", 3004)), (HUGE, HUGE));
    // Before the huge values every output is the small series' own.
    assert_eq!(
        at("s", 2499),
        (100.0 + (2497 % 7) as f64) + (100.0 + (2498 % 7) as f64) + (100.0 + (2499 % 7) as f64)
    );
    for step in STEPS.into_iter().chain([2047, 2049]) {
        for resume in [false, true] {
            let (v, nn) = formula_util::run_chunked(&f, &bars, &mut || step, resume);
            assert!(same_bits(&v, &value), "step {step} resume {resume}: value");
            for (i, (a, b)) in nn.iter().zip(&named).enumerate() {
                assert!(
                    same_bits(a, b),
                    "step {step} resume {resume}: {}",
                    f.names[i]
                );
            }
        }
    }
}
