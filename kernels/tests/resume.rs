//! Resumability: a series fed in chunks (with the state saved to bytes and
//! restored at every boundary) gives bit-identical output to one pass. Steps as
//! tulipindicators does ({1,2,3,5,7,13,100,all}) on the golden series, and
//! proptest with random series and random split points for every kernel.
mod common;
use barstream_kernels::atc::{
    Atc, AtcParams, Equity, EquityParams, HmaKind, Robustness, Trend, NCOL,
};
use barstream_kernels::kernel::{compute, Kernel};
use barstream_kernels::ma::{Dema, Ema, Hma, Kama, Lsma, Rma, Sma, Wma};
use barstream_kernels::osc::{Bollinger, BollingerParams, Roc, Rsi};
use common::{assert_bits, load_all};
use proptest::prelude::*;

const STEPS: [usize; 8] = [1, 2, 3, 5, 7, 13, 100, usize::MAX];

/// Chunk boundaries from fixed step sizes.
fn stepped(n: usize, step: usize) -> Vec<usize> {
    (0..n).step_by(step.min(n.max(1))).skip(1).collect()
}

/// Feeds `x` in the chunks between `cuts`, restoring the state from bytes at each cut.
fn chunked<K: Kernel>(p: &K::Params, x: &[f64], cuts: &[usize]) -> Vec<f64> {
    let mut out = vec![0.0; x.len()];
    let mut k = K::new(p).expect("params");
    let mut lo = 0;
    for &hi in cuts.iter().chain(std::iter::once(&x.len())) {
        k.update(&x[lo..hi], &mut out[lo..hi]).expect("update");
        k = K::from_bytes(p, &k.to_bytes()).expect("restore");
        lo = hi;
    }
    out
}

fn check_kernel<K: Kernel>(name: &str, p: &K::Params, x: &[f64], cuts: &[usize]) {
    let whole = compute::<K>(p, x).expect("whole");
    assert_bits(
        &format!("{name} cuts {cuts:?}"),
        &chunked::<K>(p, x, cuts),
        &whole,
    );
}

fn check_all_ma(len: usize, x: &[f64], cuts: &[usize]) {
    check_kernel::<Sma>("sma", &len, x, cuts);
    check_kernel::<Ema>("ema", &len, x, cuts);
    check_kernel::<Rma>("rma", &len, x, cuts);
    check_kernel::<Wma>("wma", &len, x, cuts);
    check_kernel::<Dema>("dema", &len, x, cuts);
    check_kernel::<Hma>("hma", &len, x, cuts);
    check_kernel::<Lsma>("lsma", &len, x, cuts);
    check_kernel::<Kama>("kama", &len, x, cuts);
    check_kernel::<Rsi>("rsi", &len, x, cuts);
    check_kernel::<Roc>("roc", &(), x, cuts);
    check_bollinger(
        &BollingerParams {
            length: len,
            k: 2.0,
        },
        x,
        cuts,
    );
    check_trend_equity(len, x, cuts);
}

fn check_bollinger(p: &BollingerParams, x: &[f64], cuts: &[usize]) {
    let n = x.len();
    let run = |cuts: &[usize]| {
        let mut o = vec![vec![0.0; n]; 3];
        let mut b = Bollinger::new(p).expect("params");
        let mut lo = 0;
        for &hi in cuts.iter().chain(std::iter::once(&n)) {
            let [m, u, l] = &mut o[..] else {
                unreachable!()
            };
            b.update(&x[lo..hi], &mut m[lo..hi], &mut u[lo..hi], &mut l[lo..hi])
                .expect("update");
            b = Bollinger::from_bytes(p, &b.to_bytes()).expect("restore");
            lo = hi;
        }
        o
    };
    let (whole, parts) = (run(&[]), run(cuts));
    for c in 0..3 {
        assert_bits(
            &format!("bollinger {c} cuts {cuts:?}"),
            &parts[c],
            &whole[c],
        );
    }
}

fn check_trend_equity(len: usize, x: &[f64], cuts: &[usize]) {
    let n = x.len();
    let line = compute::<Ema>(&len, x).expect("ema");
    let r = compute::<Roc>(&(), x).expect("roc");
    let p = EquityParams {
        start: 1.0,
        lambda: 0.02,
        decay: 0.03,
        cutout: (len / 2) as i64,
    };
    let run = |cuts: &[usize]| {
        let (mut s, mut e) = (vec![0.0; n], vec![0.0; n]);
        let (mut t, mut q) = (Trend::new(), Equity::new(&p).expect("params"));
        let mut lo = 0;
        for &hi in cuts.iter().chain(std::iter::once(&n)) {
            t.update(&x[lo..hi], &line[lo..hi], &mut s[lo..hi])
                .expect("trend");
            q.update(&s[lo..hi], &r[lo..hi], &mut e[lo..hi])
                .expect("equity");
            t = Trend::from_bytes(&t.to_bytes()).expect("restore");
            q = Equity::from_bytes(&p, &q.to_bytes()).expect("restore");
            lo = hi;
        }
        (s, e)
    };
    let (whole, parts) = (run(&[]), run(cuts));
    assert_bits(&format!("trend cuts {cuts:?}"), &parts.0, &whole.0);
    assert_bits(&format!("equity cuts {cuts:?}"), &parts.1, &whole.1);
}

fn atc_chunked(p: &AtcParams, x: &[f64], cuts: &[usize]) -> Vec<Vec<f64>> {
    let n = x.len();
    let mut cols = vec![vec![0.0; n]; NCOL];
    let mut a = Atc::new(p).expect("params");
    let mut lo = 0;
    for &hi in cuts.iter().chain(std::iter::once(&n)) {
        let mut refs: Vec<&mut [f64]> = cols.iter_mut().map(|c| &mut c[lo..hi]).collect();
        a.update(&x[lo..hi], (&mut refs[..]).try_into().expect("14"))
            .expect("update");
        a = Atc::from_bytes(p, &a.to_bytes()).expect("restore");
        lo = hi;
    }
    cols
}

fn check_atc(p: &AtcParams, x: &[f64], cuts: &[usize]) {
    let whole = atc_chunked(p, x, &[]);
    let parts = atc_chunked(p, x, cuts);
    for c in 0..NCOL {
        assert_bits(
            &format!("atc column {c} cuts {cuts:?}"),
            &parts[c],
            &whole[c],
        );
    }
}

#[test]
fn golden_series_in_steps() {
    for g in load_all() {
        for step in STEPS {
            let cuts = stepped(g.close.len(), step);
            for len in [1, 2, 5, 14, 28] {
                check_all_ma(len, &g.close, &cuts);
            }
            for (p, _) in &g.atc {
                check_atc(p, &g.close, &cuts);
            }
        }
    }
}

/// Random positive prices: a random walk with flat runs and jumps.
fn series() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec((-0.03f64..0.03, 0u8..10), 1..400).prop_map(|steps| {
        let mut p = 100.0;
        steps
            .into_iter()
            .map(|(r, kind)| {
                match kind {
                    0..=2 => {}              // flat: repeat the price
                    3 => p *= 1.0 + 5.0 * r, // jump
                    _ => p *= 1.0 + r,
                }
                p
            })
            .collect()
    })
}

fn with_cuts() -> impl Strategy<Value = (Vec<f64>, Vec<usize>)> {
    series().prop_flat_map(|x| {
        let n = x.len();
        (Just(x), prop::collection::vec(0..=n, 0..8)).prop_map(|(x, mut c)| {
            c.sort_unstable();
            (x, c)
        })
    })
}

fn atc_params() -> impl Strategy<Value = AtcParams> {
    (
        prop::array::uniform6(8i64..40),
        0usize..3,
        0i64..30,
        prop::array::uniform6(0.1f64..2.0),
        any::<bool>(),
    )
        .prop_map(|(lengths, rob, cutout, weights, sma)| AtcParams {
            lengths,
            robustness: [Robustness::Narrow, Robustness::Medium, Robustness::Wide][rob],
            cutout,
            weights,
            hma: if sma { HmaKind::Sma } else { HmaKind::Hull },
            ..AtcParams::default()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_kernel_resumes_at_random_splits((x, cuts) in with_cuts(), len in 1usize..40) {
        check_all_ma(len, &x, &cuts);
    }

    #[test]
    fn atc_resumes_at_random_splits((x, cuts) in with_cuts(), p in atc_params()) {
        check_atc(&p, &x, &cuts);
    }
}
