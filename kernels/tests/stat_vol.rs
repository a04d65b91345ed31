//! The window statistics (stdev, highest, lowest, sum), the bar kernels (true range,
//! ATR, stochastic) and MACD: against naive references written here from their
//! definitions, against the independent golden formula cases, resumed in chunks bit for
//! bit, with bounded lengths, named input errors, storage growing with the bars seen
//! and foreign or corrupt state refused.
mod common;
mod formula_util;
use barstream_kernels::kernel::{compute, Kernel, MAX_LENGTH};
use barstream_kernels::ma::{Rma, Sma, Step};
use barstream_kernels::osc::{Bollinger, BollingerParams, Macd, MacdParams, Stoch, StochParams};
use barstream_kernels::stat::{Highest, Lowest, Stdev, Sum};
use barstream_kernels::vol::{Atr, TrueRange};
use barstream_kernels::ErrorCode;
use common::assert_bits;
use proptest::prelude::*;

// ---------- naive references: the definitions, window by window ----------

fn windows(x: &[f64], len: usize, f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            if i + 1 >= len {
                f(&x[i + 1 - len..=i])
            } else {
                f64::NAN
            }
        })
        .collect()
}

fn naive_sum(w: &[f64]) -> f64 {
    w.iter().sum()
}
fn naive_max(w: &[f64]) -> f64 {
    w.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}
fn naive_min(w: &[f64]) -> f64 {
    w.iter().copied().fold(f64::INFINITY, f64::min)
}
fn naive_sd(w: &[f64]) -> f64 {
    let n = w.len() as f64;
    let mean = w.iter().sum::<f64>() / n;
    (w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt()
}

fn naive_tr(h: &[f64], l: &[f64], c: &[f64]) -> Vec<f64> {
    (0..h.len())
        .map(|i| {
            if i == 0 {
                f64::NAN
            } else {
                let a = h[i] - l[i];
                let b = (h[i] - c[i - 1]).abs();
                let d = (l[i] - c[i - 1]).abs();
                a.max(b).max(d)
            }
        })
        .collect()
}

/// Wilder's average written as `(prev*(L-1) + tr)/L`, seeded by the mean of tr[1..=L].
fn naive_atr(h: &[f64], l: &[f64], c: &[f64], len: usize) -> Vec<f64> {
    let tr = naive_tr(h, l, c);
    let mut out = vec![f64::NAN; h.len()];
    if h.len() > len {
        let mut y = tr[1..=len].iter().sum::<f64>() / len as f64;
        out[len] = y;
        for i in len + 1..h.len() {
            y = (y * (len - 1) as f64 + tr[i]) / len as f64;
            out[i] = y;
        }
    }
    out
}

/// EMA over the defined values of `x` (NaN elsewhere), seeded by the mean of the first `len`.
fn naive_ema(x: &[f64], len: usize) -> Vec<f64> {
    let a = 2.0 / (len as f64 + 1.0);
    let mut out = vec![f64::NAN; x.len()];
    let defined: Vec<usize> = (0..x.len()).filter(|&i| !x[i].is_nan()).collect();
    if defined.len() >= len {
        let mut y = defined[..len].iter().map(|&i| x[i]).sum::<f64>() / len as f64;
        out[defined[len - 1]] = y;
        for &i in &defined[len..] {
            y += a * (x[i] - y);
            out[i] = y;
        }
    }
    out
}

fn naive_macd(x: &[f64], p: MacdParams) -> [Vec<f64>; 3] {
    let (f, s) = (naive_ema(x, p.fast), naive_ema(x, p.slow));
    let m: Vec<f64> = f.iter().zip(&s).map(|(a, b)| a - b).collect();
    let g = naive_ema(&m, p.signal);
    let h = m.iter().zip(&g).map(|(a, b)| a - b).collect();
    [m, g, h]
}

fn naive_stoch(h: &[f64], l: &[f64], c: &[f64], p: StochParams) -> [Vec<f64>; 2] {
    let hh = windows(h, p.k, naive_max);
    let ll = windows(l, p.k, naive_min);
    let k: Vec<f64> = (0..c.len())
        .map(|i| {
            let r = hh[i] - ll[i];
            if r == 0.0 {
                f64::NAN
            } else {
                100.0 * (c[i] - ll[i]) / r
            }
        })
        .collect();
    // %D: the mean of the last `d` defined %K values, NaN where %K is NaN.
    let defined: Vec<usize> = (0..k.len()).filter(|&i| !k[i].is_nan()).collect();
    let mut d = vec![f64::NAN; k.len()];
    for (j, &i) in defined.iter().enumerate() {
        if j + 1 >= p.d {
            let w: Vec<f64> = defined[j + 1 - p.d..=j].iter().map(|&t| k[t]).collect();
            d[i] = naive_sum(&w) / p.d as f64;
        }
    }
    [k, d]
}

/// `|got - want| <= 1e-9 * max(1, |want|)`, NaN exactly where `want` is NaN.
fn assert_close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = if w.is_nan() {
            g.is_nan()
        } else {
            (g - w).abs() <= 1e-9 * w.abs().max(1.0)
        };
        assert!(ok, "{what}[{i}]: got {g}, want {w}");
    }
}

// ---------- test series ----------

/// Bars from a random walk with flat runs (zero ranges) and jumps.
#[derive(Clone, Debug)]
struct Bars {
    h: Vec<f64>,
    l: Vec<f64>,
    c: Vec<f64>,
}

fn bars_from(steps: &[(f64, u8, f64)]) -> Bars {
    let mut p = 100.0;
    let mut b = Bars {
        h: vec![],
        l: vec![],
        c: vec![],
    };
    for &(r, kind, spread) in steps {
        match kind {
            0..=2 => {
                // a flat bar
                b.h.push(p);
                b.l.push(p);
                b.c.push(p);
                continue;
            }
            3 => p *= 1.0 + 5.0 * r,
            _ => p *= 1.0 + r,
        }
        b.h.push(p * (1.0 + spread));
        b.l.push(p * (1.0 - spread));
        b.c.push(p);
    }
    b
}

fn bars_strategy() -> impl Strategy<Value = Bars> {
    prop::collection::vec((-0.03f64..0.03, 0u8..10, 0.0f64..0.02), 1..300)
        .prop_map(|s| bars_from(&s))
}

fn fixed_bars(n: usize) -> Bars {
    let steps: Vec<(f64, u8, f64)> = (0..n)
        .map(|i| {
            let t = i as f64;
            (
                (t * 0.7).sin() * 0.02,
                (i * 7 % 10) as u8,
                0.01 * (t * 0.3).cos().abs(),
            )
        })
        .collect();
    bars_from(&steps)
}

// ---------- against the naive references ----------

fn check_against_naive(b: &Bars, len: usize) {
    let x = &b.c;
    let run = |what: &str, got: Vec<f64>, want: Vec<f64>| {
        assert_close(&format!("{what}({len})"), &got, &want)
    };
    run(
        "sum",
        compute::<Sum>(&len, x).unwrap(),
        windows(x, len, naive_sum),
    );
    run(
        "stdev",
        compute::<Stdev>(&len, x).unwrap(),
        windows(x, len, naive_sd),
    );
    // The extremes are values of the input: exactly equal.
    for (name, got, want) in [
        (
            "highest",
            compute::<Highest>(&len, &b.h).unwrap(),
            windows(&b.h, len, naive_max),
        ),
        (
            "lowest",
            compute::<Lowest>(&len, &b.l).unwrap(),
            windows(&b.l, len, naive_min),
        ),
    ] {
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                g == w || (g.is_nan() && w.is_nan()),
                "{name}({len})[{i}]: {g} != {w}"
            );
        }
    }
    let n = x.len();
    let mut tr = vec![0.0; n];
    TrueRange::new().update(&b.h, &b.l, x, &mut tr).unwrap();
    assert_bits("true range", &tr, &naive_tr(&b.h, &b.l, x));
    let mut atr = vec![0.0; n];
    Atr::new(&len)
        .unwrap()
        .update(&b.h, &b.l, x, &mut atr)
        .unwrap();
    run("atr", atr.clone(), naive_atr(&b.h, &b.l, x, len));
    // ATR is the RMA kernel on tr from bar 1: the same bits.
    if n > 1 {
        assert_bits(
            "atr = rma(tr[1..])",
            &atr[1..],
            &compute::<Rma>(&len, &tr[1..]).unwrap(),
        );
    }
    for p in [
        MacdParams {
            fast: len,
            slow: 2 * len + 1,
            signal: len.div_ceil(2),
        },
        MacdParams {
            fast: 2 * len,
            slow: len,
            signal: 3,
        },
    ] {
        let (mut m, mut s, mut h) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        Macd::new(&p)
            .unwrap()
            .update(x, &mut m, &mut s, &mut h)
            .unwrap();
        let [wm, ws, wh] = naive_macd(x, p);
        run("macd", m, wm);
        run("macd signal", s, ws);
        run("macd hist", h, wh);
    }
    for d in [1, 3] {
        let p = StochParams { k: len, d };
        let (mut k, mut dd) = (vec![0.0; n], vec![0.0; n]);
        Stoch::new(&p)
            .unwrap()
            .update(&b.h, &b.l, x, &mut k, &mut dd)
            .unwrap();
        let [wk, wd] = naive_stoch(&b.h, &b.l, x, p);
        run("stoch k", k, wk);
        run("stoch d", dd, wd);
    }
}

#[test]
fn every_kernel_agrees_with_its_definition() {
    let b = fixed_bars(700);
    for len in [1, 2, 3, 5, 14, 20, 64, 129, 300, 699, 700, 701] {
        check_against_naive(&b, len);
    }
}

#[test]
fn stdev_is_bollingers_deviation_bit_for_bit() {
    let x = fixed_bars(500).c;
    for len in [1, 2, 20, 77] {
        let sd = compute::<Stdev>(&len, &x).unwrap();
        let mid = compute::<Sma>(&len, &x).unwrap();
        let n = x.len();
        let (mut m, mut u, mut l) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let mut b = Bollinger::new(&BollingerParams {
            length: len,
            k: 1.0,
        })
        .unwrap();
        b.update(&x, &mut m, &mut u, &mut l).unwrap();
        assert_bits("bb mid", &m, &mid);
        let up: Vec<f64> = mid.iter().zip(&sd).map(|(m, s)| m + 1.0 * s).collect();
        assert_bits(&format!("bb upper = mid + sd ({len})"), &u, &up);
    }
    // A flat window deviates by exactly 0.
    let flat = compute::<Stdev>(&4, &[3.3; 9]).unwrap();
    assert!(flat[3..].iter().all(|&v| v == 0.0), "{flat:?}");
}

// ---------- chunked = one pass, through the state bytes ----------

const STEPS: [usize; 8] = [1, 2, 3, 5, 7, 13, 100, usize::MAX];

fn stepped(n: usize, step: usize) -> Vec<usize> {
    (0..n).step_by(step.min(n.max(1))).skip(1).collect()
}

/// Runs `n` bars in the chunks between `cuts` with `f(state, lo, hi)`, restoring the
/// state from its bytes at every cut.
fn in_chunks<S>(
    n: usize,
    cuts: &[usize],
    mut s: S,
    save: impl Fn(&S) -> Vec<u8>,
    load: impl Fn(&[u8]) -> S,
    mut f: impl FnMut(&mut S, usize, usize),
) {
    let mut lo = 0;
    for &hi in cuts.iter().chain(std::iter::once(&n)) {
        f(&mut s, lo, hi);
        s = load(&save(&s));
        lo = hi;
    }
}

fn single<K: Kernel>(p: &K::Params, x: &[f64], cuts: &[usize]) -> Vec<f64> {
    let mut out = vec![0.0; x.len()];
    in_chunks(
        x.len(),
        cuts,
        K::new(p).unwrap(),
        |k| k.to_bytes(),
        |b| K::from_bytes(p, b).unwrap(),
        |k, lo, hi| k.update(&x[lo..hi], &mut out[lo..hi]).unwrap(),
    );
    out
}

fn check_chunked(b: &Bars, len: usize, cuts: &[usize]) {
    let n = b.c.len();
    let what = |k: &str| format!("{k}({len}) cuts {cuts:?}");
    for (name, x) in [("close", &b.c), ("high", &b.h)] {
        assert_bits(
            &what(&format!("sum {name}")),
            &single::<Sum>(&len, x, cuts),
            &single::<Sum>(&len, x, &[]),
        );
        assert_bits(
            &what("stdev"),
            &single::<Stdev>(&len, x, cuts),
            &single::<Stdev>(&len, x, &[]),
        );
        assert_bits(
            &what("highest"),
            &single::<Highest>(&len, x, cuts),
            &single::<Highest>(&len, x, &[]),
        );
        assert_bits(
            &what("lowest"),
            &single::<Lowest>(&len, x, cuts),
            &single::<Lowest>(&len, x, &[]),
        );
    }
    let bars3 = |cuts: &[usize], mk: &dyn Fn() -> Box<dyn BarKernel>| {
        let mut out = vec![vec![0.0; n]; 3];
        in_chunks(
            n,
            cuts,
            mk(),
            |k| k.bytes(),
            |bytes| mk().restore(bytes),
            |k, lo, hi| {
                let [o0, o1, o2] = &mut out[..] else {
                    unreachable!()
                };
                k.run(
                    &b.h[lo..hi],
                    &b.l[lo..hi],
                    &b.c[lo..hi],
                    [&mut o0[lo..hi], &mut o1[lo..hi], &mut o2[lo..hi]],
                );
            },
        );
        out
    };
    let kinds: Vec<(&str, MakeBarKernel)> = vec![
        ("true range", Box::new(|| Box::new(TrueRange::new()))),
        ("atr", Box::new(move || Box::new(Atr::new(&len).unwrap()))),
        (
            "macd",
            Box::new(move || {
                Box::new(
                    Macd::new(&MacdParams {
                        fast: len,
                        slow: len + 3,
                        signal: 1 + len / 3,
                    })
                    .unwrap(),
                )
            }),
        ),
        (
            "stoch",
            Box::new(move || {
                Box::new(
                    Stoch::new(&StochParams {
                        k: len,
                        d: 1 + len % 4,
                    })
                    .unwrap(),
                )
            }),
        ),
    ];
    for (name, mk) in &kinds {
        let (whole, parts) = (bars3(&[], mk.as_ref()), bars3(cuts, mk.as_ref()));
        for c in 0..3 {
            assert_bits(&what(&format!("{name} output {c}")), &parts[c], &whole[c]);
        }
    }
}

type MakeBarKernel = Box<dyn Fn() -> Box<dyn BarKernel>>;

/// The multi-input kernels behind one face, for the chunk tests.
trait BarKernel {
    fn run(&mut self, h: &[f64], l: &[f64], c: &[f64], out: [&mut [f64]; 3]);
    fn bytes(&self) -> Vec<u8>;
    fn restore(&self, b: &[u8]) -> Box<dyn BarKernel>;
}
impl BarKernel for TrueRange {
    fn run(&mut self, h: &[f64], l: &[f64], c: &[f64], [o, ..]: [&mut [f64]; 3]) {
        self.update(h, l, c, o).unwrap();
    }
    fn bytes(&self) -> Vec<u8> {
        self.to_bytes()
    }
    fn restore(&self, b: &[u8]) -> Box<dyn BarKernel> {
        Box::new(TrueRange::from_bytes(b).unwrap())
    }
}
impl BarKernel for Atr {
    fn run(&mut self, h: &[f64], l: &[f64], c: &[f64], [o, ..]: [&mut [f64]; 3]) {
        self.update(h, l, c, o).unwrap();
    }
    fn bytes(&self) -> Vec<u8> {
        self.to_bytes()
    }
    fn restore(&self, b: &[u8]) -> Box<dyn BarKernel> {
        Box::new(Atr::from_bytes(&self.length(), b).unwrap())
    }
}
impl BarKernel for Macd {
    fn run(&mut self, _h: &[f64], _l: &[f64], c: &[f64], [m, s, h]: [&mut [f64]; 3]) {
        self.update(c, m, s, h).unwrap();
    }
    fn bytes(&self) -> Vec<u8> {
        self.to_bytes()
    }
    fn restore(&self, b: &[u8]) -> Box<dyn BarKernel> {
        Box::new(Macd::from_bytes(&self.params(), b).unwrap())
    }
}
impl BarKernel for Stoch {
    fn run(&mut self, h: &[f64], l: &[f64], c: &[f64], [k, d, _]: [&mut [f64]; 3]) {
        self.update(h, l, c, k, d).unwrap();
    }
    fn bytes(&self) -> Vec<u8> {
        self.to_bytes()
    }
    fn restore(&self, b: &[u8]) -> Box<dyn BarKernel> {
        Box::new(Stoch::from_bytes(&self.params(), b).unwrap())
    }
}

#[test]
fn fixed_steps_equal_one_pass() {
    let b = fixed_bars(400);
    for step in STEPS {
        let cuts = stepped(b.c.len(), step);
        for len in [1, 2, 5, 14, 20, 150] {
            check_chunked(&b, len, &cuts);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_splits_equal_one_pass(
        (b, cuts) in bars_strategy().prop_flat_map(|b| {
            let n = b.c.len();
            (Just(b), prop::collection::vec(0..=n, 0..8)).prop_map(|(b, mut c)| {
                c.sort_unstable();
                (b, c)
            })
        }),
        len in 1usize..40,
    ) {
        check_chunked(&b, len, &cuts);
    }

    #[test]
    fn random_bars_agree_with_the_definitions(b in bars_strategy(), len in 1usize..30) {
        check_against_naive(&b, len);
    }
}

// ---------- the per-bar step, as composite code uses it ----------

#[test]
fn step_per_bar_equals_the_kernel() {
    fn per_bar<K: Kernel<Params = usize> + Step>(len: usize, x: &[f64]) {
        let mut k = K::new(&len).unwrap();
        k.reserve(x.len());
        let got: Vec<f64> = x.iter().map(|&v| Step::step(&mut k, v)).collect();
        assert_bits(K::NAME, &got, &compute::<K>(&len, x).unwrap());
    }
    let x = fixed_bars(200).c;
    for len in [1, 7, 50] {
        per_bar::<Stdev>(len, &x);
        per_bar::<Highest>(len, &x);
        per_bar::<Lowest>(len, &x);
        per_bar::<Sum>(len, &x);
    }
}

// ---------- parameters, inputs, memory, state ----------

#[test]
fn lengths_are_integers_from_1_to_max_length_and_named() {
    fn bounds<K: Kernel<Params = usize>>() {
        for bad in [0, MAX_LENGTH + 1] {
            let e = K::new(&bad).err().expect("out of range");
            assert_eq!(e.code, ErrorCode::InvalidParam);
            assert_eq!(
                e.message,
                format!(
                    "{}: length must be an integer from 1 to 1000000, got {bad}",
                    K::NAME
                )
            );
        }
        assert!(K::new(&MAX_LENGTH).is_ok());
    }
    bounds::<Stdev>();
    bounds::<Highest>();
    bounds::<Lowest>();
    bounds::<Sum>();
    assert_eq!(
        Atr::new(&0).unwrap_err().message,
        "atr: length must be an integer from 1 to 1000000, got 0"
    );
    let m = |fast, slow, signal| {
        Macd::new(&MacdParams { fast, slow, signal })
            .unwrap_err()
            .message
    };
    assert_eq!(
        m(0, 26, 9),
        "macd: fast must be an integer from 1 to 1000000, got 0"
    );
    assert_eq!(
        m(12, 1_000_001, 9),
        "macd: slow must be an integer from 1 to 1000000, got 1000001"
    );
    assert_eq!(
        m(12, 26, 0),
        "macd: signal must be an integer from 1 to 1000000, got 0"
    );
    let s = |k, d| Stoch::new(&StochParams { k, d }).unwrap_err();
    assert_eq!(
        s(0, 3).message,
        "stoch: k must be an integer from 1 to 1000000, got 0"
    );
    assert_eq!(
        s(14, 0).message,
        "stoch: d must be an integer from 1 to 1000000, got 0"
    );
    assert_eq!(s(14, 0).code, ErrorCode::InvalidParam);
}

#[test]
fn non_finite_inputs_and_mismatched_lengths_are_named() {
    let x = [1.0, 2.0, f64::NAN, 4.0];
    for e in [
        compute::<Stdev>(&2, &x).unwrap_err(),
        compute::<Highest>(&2, &x).unwrap_err(),
        compute::<Lowest>(&2, &x).unwrap_err(),
        compute::<Sum>(&2, &x).unwrap_err(),
    ] {
        assert_eq!(e.code, ErrorCode::BadInput);
        assert_eq!(e.message, "x[2] is NaN: prices must be finite");
    }
    let mut o = [0.0; 4];
    let (mut o2, mut o3) = ([0.0; 4], [0.0; 4]);
    let e = Macd::new(&MacdParams::default())
        .unwrap()
        .update(&[1.0, f64::INFINITY, 1.0, 1.0], &mut o, &mut o2, &mut o3)
        .unwrap_err();
    assert_eq!(e.message, "x[1] is inf: prices must be finite");

    let ok = [2.0, 2.0, 2.0, 2.0];
    let bad = [2.0, 2.0, 2.0, f64::NEG_INFINITY];
    // After two good bars the index is global.
    let mut t = TrueRange::new();
    t.update(&ok[..2], &ok[..2], &ok[..2], &mut o[..2]).unwrap();
    let before = t.to_bytes();
    let e = t
        .update(&ok[..2], &ok[..2], &bad[2..], &mut o[..2])
        .unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (
            ErrorCode::BadInput,
            "close[3] is -inf: prices must be finite"
        )
    );
    assert_eq!(
        t.to_bytes(),
        before,
        "the state is unchanged by a refused chunk"
    );
    let mut a = Atr::new(&3).unwrap();
    assert_eq!(
        a.update(&bad, &ok, &ok, &mut o).unwrap_err().message,
        "high[3] is -inf: prices must be finite"
    );
    assert_eq!(
        a.update(&ok, &bad, &ok, &mut o).unwrap_err().message,
        "low[3] is -inf: prices must be finite"
    );
    let e = a.update(&ok, &ok[..3], &ok, &mut o).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidParam);
    assert_eq!(
        e.message,
        "low has 3 values, high has 4: the series must be as long as each other"
    );
    let e = a.update(&ok, &ok, &ok[..2], &mut o).unwrap_err();
    assert_eq!(
        e.message,
        "close has 2 values, high has 4: the series must be as long as each other"
    );
    assert_eq!(
        a.update(&ok, &ok, &ok, &mut o[..1]).unwrap_err().message,
        "out has 1 values for 4 inputs"
    );
    let mut s = Stoch::new(&StochParams { k: 2, d: 2 }).unwrap();
    let mut d = [0.0; 3];
    assert_eq!(
        s.update(&ok, &ok, &ok, &mut o, &mut d).unwrap_err().message,
        "out has 3 values for 4 inputs"
    );
    assert_eq!(
        s.update(&ok, &ok, &bad, &mut o, &mut o2)
            .unwrap_err()
            .message,
        "close[3] is -inf: prices must be finite"
    );
    assert_eq!(s.seen(), 0);
}

#[test]
fn windows_grow_with_the_bars_seen() {
    let b = fixed_bars(300);
    let len = MAX_LENGTH;
    let mut hi = Highest::new(&len).unwrap();
    let mut lo = Lowest::new(&len).unwrap();
    let mut sum = Sum::new(&len).unwrap();
    let mut out = vec![0.0; 300];
    // A falling then rising series keeps every bar in one of the deques.
    let x: Vec<f64> = (0..300).map(|i| (i as f64 - 150.0).abs()).collect();
    let mut at = 0;
    for n in [1, 2, 5, 92, 200] {
        hi.update(&x[at..at + n], &mut out[at..at + n]).unwrap();
        lo.update(&x[at..at + n], &mut out[at..at + n]).unwrap();
        sum.update(&x[at..at + n], &mut out[at..at + n]).unwrap();
        at += n;
        assert!(
            hi.capacity() <= 2 * at + 8,
            "highest holds {} slots after {at} bars",
            hi.capacity()
        );
        assert!(
            lo.capacity() <= 2 * at + 8,
            "lowest holds {} slots after {at} bars",
            lo.capacity()
        );
        assert!(
            sum.capacity() <= (2 * at).max(at + 64),
            "sum holds {} slots after {at} bars",
            sum.capacity()
        );
    }
    assert!(
        out.iter().all(|v| v.is_nan()),
        "never defined before 1,000,000 bars"
    );
    // And the state carries only what was seen.
    for bytes in [hi.to_bytes(), lo.to_bytes(), sum.to_bytes()] {
        assert!(bytes.len() < 16 * 300 + 200, "{} bytes", bytes.len());
    }
    let mut st = Stoch::new(&StochParams { k: len, d: len }).unwrap();
    let (mut k, mut d) = (vec![0.0; 300], vec![0.0; 300]);
    st.update(&b.h, &b.l, &b.c, &mut k, &mut d).unwrap();
    assert!(st.to_bytes().len() < 16 * 600 + 400);
    let mut sd = Stdev::new(&len).unwrap();
    sd.update(&b.c, &mut out).unwrap();
    assert!(sd.to_bytes().len() < 8 * 300 + 200);
}

#[test]
fn foreign_truncated_or_tampered_state_is_refused() {
    let x = fixed_bars(50).c;
    let mut hi = Highest::new(&10).unwrap();
    let mut out = vec![0.0; 50];
    hi.update(&x, &mut out).unwrap();
    let good = hi.to_bytes();
    assert!(Highest::from_bytes(&10, &good).is_ok());
    let msg = |r: barstream_kernels::Result<Highest>| r.expect_err("refused").message;
    assert_eq!(
        msg(Highest::from_bytes(&11, &good)),
        "state: saved with length 10, resumed with 11"
    );
    assert!(msg(Lowest::from_bytes(&10, &good).map(|_| hi.clone()))
        .contains("saved by `highest`, not `lowest`"));
    assert!(msg(Highest::from_bytes(&10, &good[..good.len() - 3])).contains("truncated"));
    // The oldest entry's bar moved past the newest: not a state stepping can leave.
    let mut t = good.clone();
    let first_at = 8 + "highest".len() + 8 + 8 + 8;
    t[first_at..first_at + 8].copy_from_slice(&60u64.to_le_bytes());
    assert_eq!(
        msg(Highest::from_bytes(&10, &t)),
        "state: window entry out of range"
    );
    // A claimed count far above the length.
    let mut t = good.clone();
    let count_at = 8 + "highest".len() + 8 + 8;
    t[count_at..count_at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(msg(Highest::from_bytes(&10, &t)).starts_with("state:"));
    // Bar kernels too.
    let mut a = Atr::new(&5).unwrap();
    a.update(&x, &x, &x, &mut out).unwrap();
    assert_eq!(
        Atr::from_bytes(&6, &a.to_bytes()).unwrap_err().message,
        "state: saved with length 5, resumed with 6"
    );
    assert!(TrueRange::from_bytes(&a.to_bytes()).is_err());
    let p = MacdParams::default();
    let m = Macd::new(&p).unwrap().to_bytes();
    assert_eq!(
        Macd::from_bytes(&MacdParams { signal: 8, ..p }, &m)
            .unwrap_err()
            .message,
        "state: saved with signal 9, resumed with 8"
    );
    let s = Stoch::new(&StochParams { k: 14, d: 3 }).unwrap().to_bytes();
    assert_eq!(
        Stoch::from_bytes(&StochParams { k: 14, d: 4 }, &s)
            .unwrap_err()
            .message,
        "state: saved with d 3, resumed with 4"
    );
}

// ---------- the independent golden formula cases ----------

#[test]
fn golden_formula_cases_of_the_direct_kernels() {
    for g in formula_util::load() {
        let n = g.bars.len();
        let f = |what: &str| format!("{}: {what}", g.file);
        let [open, h, l, c, _] = &g.bars.cols;

        assert_close(
            &f("hi = highest(high, 20)"),
            &compute::<Highest>(&20, h).unwrap(),
            g.named("hi = highest(high, 20)", "hi"),
        );

        let mut a = vec![0.0; n];
        Atr::new(&14).unwrap().update(h, l, c, &mut a).unwrap();
        assert_close(&f("a = atr(14)"), &a, g.named("a = atr(14)", "a"));
        // `r = rma(tr, 14)`: the RMA over the defined true ranges is the ATR.
        assert_close(
            &f("r = rma(tr, 14)"),
            &a,
            g.named("h = hma(rsi(close, 14), 9)", "r"),
        );

        for (k_len, head, kn, dn) in [
            (14, "k = stoch_k(14); d = stoch_d(14, 3)", "k", "d"),
            (5, "k = stoch_k(5)", "k", "dk"),
        ] {
            let (mut k, mut d) = (vec![0.0; n], vec![0.0; n]);
            Stoch::new(&StochParams { k: k_len, d: 3 })
                .unwrap()
                .update(h, l, c, &mut k, &mut d)
                .unwrap();
            assert_close(&f(&format!("{head}: {kn}")), &k, g.named(head, kn));
            assert_close(&f(&format!("{head}: {dn}")), &d, g.named(head, dn));
        }

        let (mut m, mut s, mut hist) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        Macd::new(&MacdParams {
            fast: 12,
            slow: 26,
            signal: 9,
        })
        .unwrap()
        .update(c, &mut m, &mut s, &mut hist)
        .unwrap();
        let head = "m = macd(close, 12, 26)";
        assert_close(&f("macd"), &m, g.named(head, "m"));
        assert_close(&f("macd_signal"), &s, g.named(head, "s"));
        assert_close(&f("macd_hist"), &hist, g.named(head, "h"));

        // `sd = stdev(lr, 20)`: lr is NaN at bar 0, so the kernel runs from bar 1.
        let head = "lr = log(close / close[1])";
        let lr: Vec<f64> = (1..n).map(|i| (c[i] / c[i - 1]).ln()).collect();
        assert_close(&f("lr"), &lr, &g.named(head, "lr")[1..]);
        let want = g.named(head, "sd");
        assert!(want[0].is_nan());
        assert_close(
            &f("sd = stdev(lr, 20)"),
            &compute::<Stdev>(&20, &lr).unwrap(),
            &want[1..],
        );

        // `up = sum(close > open, 10)` over the 0/1 series.
        let up: Vec<f64> = (0..n)
            .map(|i| if c[i] > open[i] { 1.0 } else { 0.0 })
            .collect();
        assert_close(
            &f("up = sum(close > open, 10)"),
            &compute::<Sum>(&10, &up).unwrap(),
            g.named("up = sum(close > open, 10)", "up"),
        );

        // `(close - sma(close, 20)) / stdev(close, 20)`: NaN where not finite (a flat window).
        let (mid, sd) = (
            compute::<Sma>(&20, c).unwrap(),
            compute::<Stdev>(&20, c).unwrap(),
        );
        let z: Vec<f64> = (0..n)
            .map(|i| {
                let v = (c[i] - mid[i]) / sd[i];
                if v.is_finite() {
                    v
                } else {
                    f64::NAN
                }
            })
            .collect();
        assert_close(
            &f("z-score"),
            &z,
            &g.case("(close - sma(close, 20)) / stdev(close, 20)").value,
        );
    }
}
