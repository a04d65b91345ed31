//! Symbols in lanes (`atc::symbols`, `atcBatch`'s default) against the scalar path
//! (`Path::Scalar`, the reference) over each symbol alone, bit for bit: golden series
//! in some lanes, random series of random lengths in the others, random parameters
//! with every robustness and `hma` kind, and batches where one symbol leaves the lanes
//! (prices that overflow the window sums, a bad price, no bars).
mod common;
use barstream_kernels::atc::symbols::{lane_safe, W};
use barstream_kernels::atc::{atc_batch_on, AtcParams, BatchPath, Path, COLUMNS, NCOL};
use common::{
    any_params, assert_bits, assert_matches, drawn_params, every_kind, flat_walk, group_cols,
    load_all, one_pass, same_cols,
};
use proptest::prelude::*;

#[test]
fn golden_series_in_lanes_match_golden_and_the_scalar_path() {
    let g = load_all();
    let mut checked = 0;
    for (i, s) in g.iter().enumerate() {
        for (p, outputs) in &s.atc {
            // The golden series in lane 0 and 2, others' golden closes (shorter or
            // longer: masked lanes) around them.
            let other = &g[(i + 1) % g.len()].close;
            let short = &s.close[..s.close.len() / 3];
            let xs: [&[f64]; W] = [&s.close, other, &s.close, short];
            let got = group_cols(p, &xs, false).0;
            for (l, x) in xs.iter().enumerate() {
                same_cols(
                    &format!("{} lane {l} {p:?}", s.file),
                    &got[l],
                    &one_pass(p, Path::Scalar, x),
                );
            }
            for (key, want) in outputs {
                let c = COLUMNS.iter().position(|c| c == key).expect("column");
                assert_matches(&format!("{}: lane 0 {key}", s.file), &got[0][c], want);
                assert_matches(&format!("{}: lane 2 {key}", s.file), &got[2][c], want);
                checked += 1;
            }
        }
    }
    assert!(checked >= 4 * 3 * 13, "checked only {checked} series");
}

#[test]
fn every_robustness_and_hma_kind_on_golden_closes_in_groups_of_every_size() {
    let g = load_all();
    for p in every_kind(7) {
        let (rob, hma, lengths) = (p.robustness, p.hma, p.lengths);
        let xs: Vec<&[f64]> = g.iter().map(|s| s.close.as_slice()).collect();
        for k in 1..=W.min(xs.len()) {
            let got = group_cols(&p, &xs[..k], false).0;
            for (l, x) in xs[..k].iter().enumerate() {
                same_cols(
                    &format!("{rob:?} {hma:?} {lengths:?} {k} lanes, lane {l}"),
                    &got[l],
                    &one_pass(&p, Path::Scalar, x),
                );
            }
        }
    }
}

/// A batch of `xs` on the symbol path and each symbol alone on the scalar path.
fn batch_both(p: &AtcParams, xs: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>, Vec<i32>) {
    let closes: Vec<f64> = xs.iter().flatten().copied().collect();
    let mut offsets = vec![0i32];
    for x in xs {
        offsets.push(offsets.last().unwrap() + x.len() as i32);
    }
    let mut lanes = vec![0.0; closes.len() * NCOL];
    let mut alone = vec![0.0; closes.len() * NCOL];
    atc_batch_on(&closes, &offsets, p, BatchPath::Symbols, &mut lanes).expect("symbols");
    atc_batch_on(
        &closes,
        &offsets,
        p,
        BatchPath::Each(Path::Scalar),
        &mut alone,
    )
    .expect("scalar");
    (lanes, alone, offsets)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn random_groups_of_random_lengths_match_the_scalar_path(
        series in prop::collection::vec(prop::collection::vec((-0.05f64..0.05, 0u8..5), 0..700), 1..=W),
        p in any_params(),
    ) {
        let xs: Vec<Vec<f64>> = series.iter().map(|s| flat_walk(s)).collect();
        let refs: Vec<&[f64]> = xs.iter().map(|x| x.as_slice()).collect();
        let got = group_cols(&p, &refs, false).0;
        for (l, x) in xs.iter().enumerate() {
            same_cols(&format!("lane {l} of {}", xs.len()), &got[l], &one_pass(&p, Path::Scalar, x));
        }
    }

    /// A batch of 1 to 11 symbols; one symbol (`odd`) has prices that overflow the
    /// window sums (NaN lines after warm-up: it leaves the lanes and runs alone).
    #[test]
    fn random_batches_with_a_symbol_off_the_lanes_match_the_scalar_path(
        series in prop::collection::vec(prop::collection::vec((-0.05f64..0.05, 0u8..5), 0..400), 1..12),
        odd in 0usize..12,
        lengths in prop::array::uniform6(1i64..40),
        rob in 0usize..3,
        cutout in 0i64..30,
        sma in any::<bool>(),
    ) {
        let p = drawn_params(lengths, rob, cutout, 0.02, 0.03, [1.0; 6], 0.49, sma);
        let mut xs: Vec<Vec<f64>> = series.iter().map(|s| flat_walk(s)).collect();
        let odd = odd % xs.len();
        for v in xs[odd].iter_mut() {
            *v *= 1e306;
        }
        prop_assert!(xs[odd].is_empty() || !lane_safe(&xs[odd]));
        let (lanes, alone, _) = batch_both(&p, &xs);
        assert_bits("batch", &lanes, &alone);
    }
}

#[test]
fn an_overflowing_symbol_gives_nan_lines_alone_and_leaves_the_others_equal() {
    let p = AtcParams::default();
    let steps: Vec<(f64, u8)> = (0..900)
        .map(|i| (((i * 37) % 11) as f64 / 100.0 - 0.05, (i % 5) as u8))
        .collect();
    let base = flat_walk(&steps);
    let huge: Vec<f64> = base.iter().map(|v| v * 1e306).collect();
    // Its weighted window sums overflow (`L*x` alone is infinite): not for lanes.
    assert!(huge.iter().any(|v| (28.0 * v).is_infinite()), "no overflow");
    assert!(!lane_safe(&huge) && lane_safe(&base));
    let xs = vec![
        base.clone(),
        huge,
        base[..500].to_vec(),
        base[100..].to_vec(),
        base.clone(),
    ];
    let (lanes, all_alone, _) = batch_both(&p, &xs);
    assert_bits("batch", &lanes, &all_alone);
}

#[test]
fn a_bad_price_names_the_first_bad_symbol_as_the_other_paths_do() {
    let p = AtcParams::default();
    let x: Vec<f64> = (0..300).map(|i| 100.0 + (i as f64 * 0.3).sin()).collect();
    let mut bad = x.clone();
    bad[17] = f64::NAN;
    let mut neg = x.clone();
    neg[3] = -1.0;
    let xs = [x.clone(), x.clone(), bad, x.clone(), neg];
    let closes: Vec<f64> = xs.iter().flatten().copied().collect();
    let offsets: Vec<i32> = (0..=xs.len() as i32).map(|i| i * 300).collect();
    let mut out = vec![0.0; closes.len() * NCOL];
    let e = atc_batch_on(&closes, &offsets, &p, BatchPath::Symbols, &mut out).expect_err("bad");
    assert_eq!(
        e.message,
        "symbol 2: x[17] is NaN: prices must be finite and > 0"
    );
    // One bad symbol: the same message on every path.
    let one: Vec<f64> = xs[..3].iter().flatten().copied().collect();
    for path in [
        BatchPath::Symbols,
        BatchPath::Each(Path::Lanes),
        BatchPath::Each(Path::Scalar),
    ] {
        let mut out = vec![0.0; one.len() * NCOL];
        let e = atc_batch_on(&one, &offsets[..4], &p, path, &mut out).expect_err("bad");
        assert_eq!(
            e.message, "symbol 2: x[17] is NaN: prices must be finite and > 0",
            "{path:?}"
        );
    }
}
