//! The recurrence kernels' chunk loops (`Kernel::run`: warm-up bars stepped, then the
//! recurrences on locals with no per-bar check) against their per-bar `step`, bit for
//! bit: outputs and saved state, on random series (flat runs, near the float limits) split
//! at random points with the state saved and restored at each cut, and in place.
use barstream_kernels::kernel::Kernel;
use barstream_kernels::ma::{Dema, Ema, Hma, Kama, Rma, Step};
use barstream_kernels::osc::Rsi;
use proptest::prelude::*;

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|v| v.to_bits()).collect()
}

fn series() -> impl Strategy<Value = Vec<f64>> {
    let piece = prop_oneof![
        (
            prop_oneof![Just(1.0), Just(1e-300), Just(1e300), Just(100.0)],
            prop::collection::vec(-1.0..1.0f64, 1..60)
        )
            .prop_map(|(m, s)| s
                .into_iter()
                .scan(m * 2.0, |v, d| {
                    *v += d * m;
                    Some(*v)
                })
                .collect::<Vec<_>>()),
        (prop_oneof![Just(3.0), Just(0.0), Just(1e300)], 1usize..50).prop_map(|(v, n)| vec![v; n]),
        // Sums of these overflow: lines turn NaN mid-series.
        (prop_oneof![Just(f64::MAX), Just(-f64::MAX)], 1usize..8).prop_map(|(v, n)| vec![v; n]),
    ];
    prop::collection::vec(piece, 0..8).prop_map(|ps| ps.concat())
}

fn cuts(n: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0..=n, 0..6).prop_map(|mut c| {
        c.sort_unstable();
        c
    })
}

/// `run` over chunks (restored from bytes at each cut; in place or not) against `step` per bar.
fn check<K: Kernel<Params = usize>>(
    name: &str,
    len: usize,
    x: &[f64],
    cuts: &[usize],
    step: impl Fn(&mut K, f64) -> f64,
) {
    let mut k = K::new(&len).unwrap();
    let want: Vec<f64> = x.iter().map(|&v| step(&mut k, v)).collect();
    let state = k.to_bytes();
    for in_place in [false, true] {
        let mut k = K::new(&len).unwrap();
        let mut got = x.to_vec();
        let mut lo = 0;
        for hi in cuts.iter().copied().chain([x.len()]) {
            if in_place {
                k.update_in_place(&mut got[lo..hi]).unwrap();
            } else {
                k.update(&x[lo..hi], &mut got[lo..hi]).unwrap();
            }
            k = K::from_bytes(&len, &k.to_bytes()).unwrap();
            lo = hi;
        }
        assert_eq!(
            bits(&got),
            bits(&want),
            "{name}({len}) in place {in_place} cuts {cuts:?} x {x:?}"
        );
        assert_eq!(k.to_bytes(), state, "{name}({len}) state");
    }
}

fn stepper<K: Step>(k: &mut K, v: f64) -> f64 {
    k.reserve(1);
    k.step(v)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn chunk_loops_equal_stepping(
        (x, cuts) in series().prop_flat_map(|x| { let n = x.len(); (Just(x), cuts(n)) }),
        len in prop_oneof![1usize..5, 5usize..40, 100usize..200],
    ) {
        check::<Ema>("ema", len, &x, &cuts, stepper);
        check::<Rma>("rma", len, &x, &cuts, stepper);
        check::<Dema>("dema", len, &x, &cuts, stepper);
        check::<Hma>("hma", len, &x, &cuts, stepper);
        check::<Kama>("kama", len, &x, &cuts, stepper);
        check::<Rsi>("rsi", len, &x, &cuts, Rsi::step);
    }
}

/// A fresh kernel over a long series checks each block as it runs it: a bad value deep in
/// the series is still refused with its global index, and the state put back to fresh.
#[test]
fn a_long_fresh_series_refused_late_leaves_the_state_fresh() {
    use barstream_kernels::kernel::CHECK_BLOCK;
    use barstream_kernels::ma::Sma;
    let n = 3 * CHECK_BLOCK + 5;
    let mut x: Vec<f64> = (0..n).map(|i| 100.0 + (i as f64 * 0.1).sin()).collect();
    for bad in [CHECK_BLOCK - 1, 2 * CHECK_BLOCK + 7, n - 1] {
        let keep = x[bad];
        x[bad] = f64::INFINITY;
        let mut k = Sma::new(&20).unwrap();
        let fresh = k.to_bytes();
        let mut out = vec![0.0; n];
        let e = k.update(&x, &mut out).expect_err("refused");
        assert_eq!(e.message, format!("x[{bad}] is inf: prices must be finite"));
        assert_eq!(k.to_bytes(), fresh);
        // And it then runs the series as if nothing had happened.
        x[bad] = keep;
        k.update(&x, &mut out).unwrap();
        let mut again = Sma::new(&20).unwrap();
        let mut want = vec![0.0; n];
        again.update(&x[..10], &mut want[..10]).unwrap(); // checked up front: not fresh after
        again.update(&x[10..], &mut want[10..]).unwrap();
        assert_eq!(bits(&out), bits(&want));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Bollinger's chunk loop (mids by the SMA's fast path, deviations eight bars side by
    /// side) against its per-bar `step`, bit for bit, at random splits with state round trips.
    #[test]
    fn bollinger_chunks_equal_stepping(
        (x, cuts) in series().prop_flat_map(|x| { let n = x.len(); (Just(x), cuts(n)) }),
        len in prop_oneof![1usize..5, 5usize..40, 100usize..200],
        k in prop_oneof![Just(2.0), Just(0.5), Just(-1.0)],
    ) {
        use barstream_kernels::osc::{Bollinger, BollingerParams};
        let p = BollingerParams { length: len, k };
        let mut b = Bollinger::new(&p).unwrap();
        let mut want = (vec![], vec![], vec![]);
        for &v in &x {
            let mut one = (vec![0.0], vec![0.0], vec![0.0]);
            // `update` of one bar steps it when `len > 1` (the bar is the head it steps);
            // with `len = 1` every window is flat and the SMA steps it all the same.
            b.update(&[v], &mut one.0, &mut one.1, &mut one.2).unwrap();
            want.0.push(one.0[0]);
            want.1.push(one.1[0]);
            want.2.push(one.2[0]);
        }
        let state = b.to_bytes();
        let mut b = Bollinger::new(&p).unwrap();
        let n = x.len();
        let (mut m, mut u, mut l) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let mut lo = 0;
        for hi in cuts.iter().copied().chain([n]) {
            b.update(&x[lo..hi], &mut m[lo..hi], &mut u[lo..hi], &mut l[lo..hi]).unwrap();
            b = Bollinger::from_bytes(&p, &b.to_bytes()).unwrap();
            lo = hi;
        }
        prop_assert_eq!(bits(&m), bits(&want.0));
        prop_assert_eq!(bits(&u), bits(&want.1));
        prop_assert_eq!(bits(&l), bits(&want.2));
        prop_assert_eq!(b.to_bytes(), state);
    }
}
