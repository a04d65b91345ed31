//! Each series' carried state from a lane group (`run_group_with_states`) against the
//! scalar kernel over that series alone (`Atc::new` + `update`, then `to_bytes`), byte
//! for byte: every robustness and `hma` kind, default and random parameters, groups of
//! 1 to `W` series of different lengths (1 bar, at the cutout, around the longest
//! warm-up, none). The outputs stay `run_group`'s bit for bit, and a state from the
//! group, restored and continued, equals one scalar pass over the whole series.
mod common;
use barstream_kernels::atc::symbols::W;
use barstream_kernels::atc::{Atc, AtcParams, HmaKind, MaType, Path, NCOL};
use common::{
    any_params, assert_bits, atc_cols, drawn_params, every_kind, flat_walk, group_cols, load_all,
};
use proptest::prelude::*;

const HMA: [HmaKind; 2] = [HmaKind::Hull, HmaKind::Sma];

fn scalar_state(p: &AtcParams, x: &[f64]) -> Vec<u8> {
    let mut atc = Atc::new(p).expect("params");
    atc_cols(&mut atc, x);
    atc.to_bytes()
}

fn same_bytes(what: &str, got: &[u8], want: &[u8]) {
    if got != want {
        let at = got.iter().zip(want).position(|(a, b)| a != b);
        panic!(
            "{what}: state differs (got {} bytes, want {}; first difference at byte {at:?})",
            got.len(),
            want.len()
        );
    }
}

fn same_bits(what: &str, got: &[Vec<f64>], want: &[Vec<f64>]) {
    for (c, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.len(), w.len(), "{what}: column {c} length");
        for (i, (a, b)) in g.iter().zip(w).enumerate() {
            assert_eq!(a.to_bits(), b.to_bits(), "{what}: column {c} bar {i}");
        }
    }
}

/// The whole check on one group: states against the scalar kernel byte for byte,
/// outputs against `run_group` bit for bit.
fn check(what: &str, p: &AtcParams, xs: &[&[f64]]) {
    let (got, states) = group_cols(p, xs, true);
    let (want, _) = group_cols(p, xs, false);
    let states = states.expect("states");
    assert_eq!(states.len(), xs.len(), "{what}: one state per series");
    for (s, x) in xs.iter().enumerate() {
        let what = format!("{what}, series {s} of {} ({} bars)", xs.len(), x.len());
        same_bits(&what, &got[s], &want[s]);
        same_bytes(&what, &states[s], &scalar_state(p, x));
    }
}

/// The longest warm-up of `p`'s lines (Hull: its length plus the outer WMA's).
fn longest(p: &AtcParams) -> usize {
    MaType::ALL
        .iter()
        .flat_map(|&t| p.lengths_of(t))
        .map(|l| {
            let l = l as usize;
            l + (l as f64).sqrt() as usize + 1
        })
        .max()
        .expect("54 lines")
}

#[test]
fn every_robustness_and_hma_kind_on_golden_closes_cut_at_the_edges() {
    let g = load_all();
    let close = &g[0].close;
    for p in every_kind(7) {
        let (rob, hma, lengths) = (p.robustness, p.hma, p.lengths);
        let top = longest(&p);
        let ends = [
            close.len(),
            1,
            7,
            8,
            top - 1,
            top,
            top + 1,
            2 * top + 3,
            close.len() - 1,
        ];
        let xs: Vec<&[f64]> = ends.iter().map(|&n| &close[..n.min(close.len())]).collect();
        // Groups of every size over consecutive ends, so each end shares a group
        // with longer and shorter series.
        for k in 1..=W {
            for from in 0..=xs.len() - k {
                let what = format!(
                    "{rob:?} {hma:?} {lengths:?}, ends {:?}",
                    &ends[from..from + k]
                );
                check(&what, &p, &xs[from..from + k]);
            }
        }
    }
}

#[test]
fn flat_series_and_flat_tails_keep_their_runs() {
    // Runs of identical prices longer than every window (the KAMA windows' runs are
    // derived from the series): a flat series, one that goes flat, one flat then moving.
    let moving: Vec<f64> = (0..400).map(|i| 100.0 + (i as f64 * 0.21).sin()).collect();
    let flat = vec![42.5; 400];
    let goes_flat: Vec<f64> = moving[..150].iter().copied().chain([7.25; 250]).collect();
    let starts_flat: Vec<f64> = [3.0; 200]
        .into_iter()
        .chain(moving[..200].iter().copied())
        .collect();
    for hma in HMA {
        let p = AtcParams {
            hma,
            ..AtcParams::default()
        };
        for n in [1, 2, 28, 29, 30, 120, 199, 200, 201, 400] {
            let xs: [&[f64]; W] = [&flat[..n], &goes_flat[..n], &starts_flat[..n], &moving];
            check(&format!("{hma:?}, {n} bars"), &p, &xs);
        }
    }
}

#[test]
fn a_series_of_no_bars_gets_a_fresh_state() {
    let p = AtcParams::default();
    let x: Vec<f64> = (0..300).map(|i| 100.0 + (i as f64 * 0.3).sin()).collect();
    let fresh = Atc::new(&p).expect("params").to_bytes();
    let xs: [&[f64]; 3] = [&x, &[], &x[..50]];
    let (_, states) = group_cols(&p, &xs, true);
    same_bytes("no bars", &states.expect("states")[1], &fresh);
    check("no bars among others", &p, &xs);
    check("no bars alone", &p, &[&[]]);
    check("no bars at all", &p, &[&[], &[]]);
}

/// Series `s`'s length from its `kind`: anything, 1 bar, at the cutout or just after,
/// around the longest warm-up, or shorter than it.
fn length_of(kind: u8, r: usize, p: &AtcParams, max: usize) -> usize {
    let top = longest(p);
    let c = p.cutout as usize;
    let n = match kind {
        0 => r,
        1 => 1,
        2 => c,
        3 => c + 1,
        4 => top + r % 5 - 2,
        _ => r % top,
    };
    n.clamp(1, max)
}

const MAX_BARS: usize = 700;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn random_groups_give_the_scalar_state_of_each_series(
        series in prop::collection::vec(
            (prop::collection::vec((-0.05f64..0.05, 0u8..5), MAX_BARS), 0u8..6, 0usize..MAX_BARS),
            1..=W,
        ),
        p in any_params(),
    ) {
        let xs: Vec<Vec<f64>> = series
            .iter()
            .map(|(steps, kind, r)| flat_walk(&steps[..length_of(*kind, *r, &p, MAX_BARS)]))
            .collect();
        let refs: Vec<&[f64]> = xs.iter().map(|x| x.as_slice()).collect();
        check(&format!("{p:?}"), &p, &refs);
    }

    /// A group's state restored (on either path) and continued over more bars equals
    /// one scalar pass over the whole series: outputs bit for bit, final state byte for
    /// byte.
    #[test]
    fn a_state_from_the_group_continues_as_one_pass(
        series in prop::collection::vec(
            (prop::collection::vec((-0.05f64..0.05, 0u8..5), MAX_BARS), 0u8..6, 0usize..MAX_BARS),
            1..=W,
        ),
        more in 0usize..300,
        lengths in prop::array::uniform6(1i64..50),
        rob in 0usize..3,
        cutout in 0i64..60,
        sma in any::<bool>(),
    ) {
        let p = drawn_params(lengths, rob, cutout, 0.02, 0.03, [1.0; 6], 0.49, sma);
        let whole: Vec<Vec<f64>> = series.iter().map(|(steps, _, _)| flat_walk(steps)).collect();
        let heads: Vec<&[f64]> = series
            .iter()
            .zip(&whole)
            .map(|((_, kind, r), w)| &w[..length_of(*kind, *r, &p, MAX_BARS - more.min(MAX_BARS - 1))])
            .collect();
        let (_, states) = group_cols(&p, &heads, true);
        for ((head, state), w) in heads.iter().zip(states.expect("states")).zip(&whole) {
            let n = head.len();
            let rest = &w[n..(n + more).min(w.len())];
            let mut one = Atc::new(&p).expect("params");
            let want = atc_cols(&mut one, &w[..n + rest.len()]);
            for path in [Path::Lanes, Path::Scalar] {
                let what = format!("{path:?}, {n} + {} bars", rest.len());
                let mut resumed = Atc::from_bytes_with_path(&p, &state, path).expect("restore");
                let got = atc_cols(&mut resumed, rest);
                for c in 0..NCOL {
                    assert_bits(&format!("{what}: column {c}"), &got[c], &want[c][n..]);
                }
                if path == Path::Lanes {
                    same_bytes(&what, &resumed.to_bytes(), &one.to_bytes());
                }
            }
        }
    }
}
