//! The ATC's lane path (`Path::Lanes`, the default) against its scalar path
//! (`Path::Scalar`, the reference) bit for bit: golden series, every robustness and
//! `hma` kind, random series with flat runs, random parameters and random chunk
//! splits, and states handed from one path to the other at every split.
mod common;
use barstream_kernels::atc::{Atc, AtcParams, Path, COLUMNS, NCOL};
use common::{assert_matches, drawn_params, every_kind, flat_walk, load_all, one_pass, same_cols};
use proptest::prelude::*;

/// `x` in chunks ending at `cuts`; at each cut the state goes through bytes and
/// continues on the other path than the chunk before (starting on `first`).
fn chunked_across_paths(p: &AtcParams, first: Path, x: &[f64], cuts: &[usize]) -> Vec<Vec<f64>> {
    let mut cols = vec![vec![0.0; x.len()]; NCOL];
    let mut path = first;
    let mut a = Atc::with_path(p, path).expect("params");
    let mut lo = 0;
    for hi in cuts.iter().copied().chain([x.len()]) {
        let hi = hi.clamp(lo, x.len());
        let mut refs: Vec<&mut [f64]> = cols.iter_mut().map(|c| &mut c[lo..hi]).collect();
        a.update(&x[lo..hi], (&mut refs[..]).try_into().expect("14"))
            .expect("atc");
        let bytes = a.to_bytes();
        path = if path == Path::Lanes {
            Path::Scalar
        } else {
            Path::Lanes
        };
        a = Atc::from_bytes_with_path(p, &bytes, path).expect("state");
        assert_eq!(a.path(), path);
        // A state saved by either path is the same bytes.
        assert_eq!(a.to_bytes(), bytes, "state bytes differ between the paths");
        lo = hi;
    }
    cols
}

#[test]
fn golden_cases_on_both_paths_match_golden_and_each_other() {
    let mut checked = 0;
    for g in load_all() {
        for (p, outputs) in &g.atc {
            let lanes = one_pass(p, Path::Lanes, &g.close);
            let scalar = one_pass(p, Path::Scalar, &g.close);
            same_cols(&format!("{} {p:?}", g.file), &lanes, &scalar);
            for (key, want) in outputs {
                let c = COLUMNS.iter().position(|c| c == key).expect("column");
                assert_matches(&format!("{}: lanes {key}", g.file), &lanes[c], want);
                checked += 1;
            }
        }
    }
    assert!(checked >= 4 * 3 * 13, "checked only {checked} series");
}

#[test]
fn every_robustness_and_hma_kind_on_golden_closes() {
    let g = load_all();
    for p in every_kind(0) {
        for s in &g {
            let want = one_pass(&p, Path::Scalar, &s.close);
            same_cols(
                &format!("{} {p:?}", s.file),
                &one_pass(&p, Path::Lanes, &s.close),
                &want,
            );
            let cuts = [1, 255, 256, 257, 300, 777];
            for first in [Path::Lanes, Path::Scalar] {
                let got = chunked_across_paths(&p, first, &s.close, &cuts);
                same_cols(
                    &format!("{} {p:?} chunked from {first:?}", s.file),
                    &got,
                    &want,
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn random_series_parameters_and_splits_match_the_scalar_path(
        // A step of kind 0 or 1 repeats the price: flat windows of every length.
        steps in prop::collection::vec((-0.05f64..0.05, 0u8..5), 1..900),
        lengths in prop::array::uniform6(1i64..70),
        rob in 0usize..3,
        cutout in 0i64..60,
        lambda in 0.0f64..1.0,
        decay in 0.0f64..100.0,
        weights in prop::array::uniform6(0.0f64..3.0),
        cut in 0.0f64..0.9,
        sma in any::<bool>(),
        mut cuts in prop::collection::vec(0usize..900, 0..6),
        lanes_first in any::<bool>(),
    ) {
        let x = flat_walk(&steps);
        let p = drawn_params(lengths, rob, cutout, lambda, decay, weights, cut, sma);
        let want = one_pass(&p, Path::Scalar, &x);
        same_cols("one pass", &one_pass(&p, Path::Lanes, &x), &want);
        cuts.sort_unstable();
        let first = if lanes_first { Path::Lanes } else { Path::Scalar };
        same_cols("chunked", &chunked_across_paths(&p, first, &x, &cuts), &want);
    }
}
