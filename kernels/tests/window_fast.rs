//! The window kernels' fast path (`Kernel::run`/`update`: stretches without per-bar flat or
//! wrap checks, see `ma/fast.rs`) against their exact per-bar `Step::step`, bit for bit:
//! outputs and saved state, on random series with flat runs, ties of 0.0 and -0.0, values
//! near the float limits, prices on a coarse tick grid, NaN gaps (refused, state unchanged,
//! then skipped) and random chunk splits with the state saved and restored at each cut;
//! also in place, and through the shared dispatch (`AnySingle`).
use barstream_kernels::kernel::single::{AnySingle, SingleKind};
use barstream_kernels::kernel::Kernel;
use barstream_kernels::ma::{Lsma, Sma, Step, Wma};
use barstream_kernels::stat::Sum;
use proptest::prelude::*;

/// One stretch of a series.
#[derive(Clone, Debug)]
enum Piece {
    /// A random walk from `start` with steps scaled by `scale`.
    Walk(f64, f64, Vec<f64>),
    /// `n` copies of one value.
    Flat(f64, usize),
    /// Alternating 0.0 and -0.0 (equal to each other, different bits).
    Zeros(usize),
    /// Prices on a grid of `tick` (many equal neighbours, short flat runs).
    Ticks(f64, Vec<u8>),
    /// Not a price: the caller skips it.
    Gap,
}

fn magnitude() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(1.0),
        Just(100.0),
        Just(1e-300),
        Just(1e300),
        Just(-5.0),
        Just(1e-9)
    ]
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        4 => (magnitude(), magnitude(), prop::collection::vec(-1.0..1.0f64, 1..80))
            .prop_map(|(a, b, s)| Piece::Walk(a, b, s)),
        3 => (magnitude(), 1usize..70).prop_map(|(v, n)| Piece::Flat(v, n)),
        1 => (1usize..40).prop_map(Piece::Zeros),
        // Sums of these overflow (inf, then NaN): both paths must overflow alike.
        1 => (prop_oneof![Just(f64::MAX), Just(-f64::MAX)], 1usize..8).prop_map(|(v, n)| Piece::Flat(v, n)),
        3 => (magnitude(), prop::collection::vec(0u8..4, 1..120)).prop_map(|(t, s)| Piece::Ticks(t, s)),
        1 => Just(Piece::Gap),
    ]
}

fn series() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(piece(), 0..10).prop_map(|ps| {
        let mut x = Vec::new();
        for p in ps {
            match p {
                Piece::Walk(a, b, s) => {
                    let mut v = a;
                    for d in s {
                        v += d * b;
                        x.push(v);
                    }
                }
                Piece::Flat(v, n) => x.extend(std::iter::repeat_n(v, n)),
                Piece::Zeros(n) => x.extend((0..n).map(|i| if i % 2 == 0 { 0.0 } else { -0.0 })),
                Piece::Ticks(t, s) => {
                    let mut level = 100i64;
                    for d in s {
                        level += d as i64 - 1;
                        x.push(level as f64 * t);
                    }
                }
                Piece::Gap => x.push(f64::NAN),
            }
        }
        x
    })
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|v| v.to_bits()).collect()
}

/// The exact path: `step` per finite bar (room reserved one bar at a time).
fn stepped<K: Kernel<Params = usize> + Step>(len: usize, x: &[f64]) -> (Vec<f64>, Vec<u8>) {
    let mut k = K::new(&len).expect("length");
    let out = x
        .iter()
        .filter(|v| v.is_finite())
        .map(|&v| {
            k.reserve(1);
            k.step(v)
        })
        .collect();
    (out, k.to_bytes())
}

/// The fast path: `update` over the chunks between `cuts`, restored from bytes at each cut;
/// a chunk holding a NaN is refused with the state unchanged, then fed without its NaNs.
fn chunked<K: Kernel<Params = usize>>(
    len: usize,
    x: &[f64],
    cuts: &[usize],
    in_place: bool,
) -> (Vec<f64>, Vec<u8>) {
    let mut k = K::new(&len).expect("length");
    let mut out = Vec::new();
    let mut lo = 0;
    for hi in cuts.iter().copied().chain([x.len()]) {
        let chunk = &x[lo..hi];
        let before = k.to_bytes();
        let mut o = vec![0.0; chunk.len()];
        let r = if in_place {
            o.copy_from_slice(chunk);
            k.update_in_place(&mut o)
        } else {
            k.update(chunk, &mut o)
        };
        if chunk.iter().any(|v| !v.is_finite()) {
            let e = r.expect_err("a NaN is refused");
            assert!(e.message.contains("is NaN"), "{}", e.message);
            assert_eq!(k.to_bytes(), before, "state unchanged by a refused chunk");
            let clean: Vec<f64> = chunk.iter().copied().filter(|v| v.is_finite()).collect();
            let mut o = vec![0.0; clean.len()];
            k.update(&clean, &mut o).expect("finite chunk");
            out.extend(o);
        } else {
            r.expect("finite chunk");
            out.extend(o);
        }
        k = K::from_bytes(&len, &k.to_bytes()).expect("restore");
        lo = hi;
    }
    (out, k.to_bytes())
}

fn check<K: Kernel<Params = usize> + Step>(name: &str, len: usize, x: &[f64], cuts: &[usize]) {
    let (want, state) = stepped::<K>(len, x);
    for in_place in [false, true] {
        let (got, got_state) = chunked::<K>(len, x, cuts, in_place);
        assert_eq!(
            bits(&got),
            bits(&want),
            "{name}({len}) in place {in_place}, cuts {cuts:?}, x {x:?}"
        );
        assert_eq!(
            got_state, state,
            "{name}({len}) state, in place {in_place}, cuts {cuts:?}"
        );
    }
}

fn lengths() -> impl Strategy<Value = usize> {
    prop_oneof![1usize..6, 6usize..40, Just(64), 100usize..300]
}

fn cuts(n: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0..=n, 0..6).prop_map(|mut c| {
        c.sort_unstable();
        c
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn fast_window_paths_equal_stepping(
        (x, cuts) in series().prop_flat_map(|x| { let n = x.len(); (Just(x), cuts(n)) }),
        len in lengths(),
    ) {
        check::<Sma>("sma", len, &x, &cuts);
        check::<Wma>("wma", len, &x, &cuts);
        check::<Lsma>("lsma", len, &x, &cuts);
        check::<Sum>("sum", len, &x, &cuts);
    }

    /// The shared dispatch runs the same kernel: same outputs and state as calling it directly.
    #[test]
    fn dispatch_runs_the_named_kernel(x in prop::collection::vec(1.0..2.0f64, 0..200), len in 1usize..30) {
        for &kind in SingleKind::ALL {
            let mut a = AnySingle::new(kind, len).expect("length");
            let mut out = vec![0.0; x.len()];
            a.update(&x, &mut out).expect("finite");
            let mut again = AnySingle::from_bytes(kind, len, &AnySingle::new(kind, len).unwrap().to_bytes()).unwrap();
            let mut out2 = x.clone();
            again.update_in_place(&mut out2).expect("finite");
            prop_assert_eq!(bits(&out), bits(&out2), "{:?}", kind);
            prop_assert_eq!(a.to_bytes(), again.to_bytes());
            let fd = kind.first_defined(len);
            prop_assert!(out.iter().take(fd).all(|v| v.is_nan()), "{:?} defined before {}", kind, fd);
            if x.len() > fd {
                prop_assert!(!out[fd].is_nan(), "{:?} not defined at {}", kind, fd);
            }
        }
    }
}

/// A flat window needs `len` equal values in a row: the fast path hands exactly those bars
/// to `step`, whose value (the direct formula's) differs from the running sum's here.
#[test]
fn flat_windows_take_the_direct_value() {
    // 0.1 ten times: the running sum drifts, the direct mean of ten 0.1s is exactly 0.1.
    let x: Vec<f64> = [0.3, 0.7]
        .into_iter()
        .chain(std::iter::repeat_n(0.1, 30))
        .collect();
    let mut k = Sma::new(&10).unwrap();
    let mut out = vec![0.0; x.len()];
    k.update(&x, &mut out).unwrap();
    assert_eq!(out[x.len() - 1], 0.1);
    assert_eq!(bits(&out), bits(&stepped::<Sma>(10, &x).0));
}
