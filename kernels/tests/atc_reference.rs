//! The ATC pipeline (banked lines, fused trend/equity) against the same pipeline
//! composed from the scalar kernels one line at a time, bit for bit.
mod common;
use barstream_kernels::atc::{
    Atc, AtcParams, Equity, EquityParams, HmaKind, MaType, Robustness, Trend, NCOL,
};
use barstream_kernels::kernel::compute;
use barstream_kernels::ma::{Dema, Ema, Hma, Kama, Lsma, Sma, Wma};
use barstream_kernels::osc::Roc;
use common::{assert_bits, load_all};
use proptest::prelude::*;

fn line(t: MaType, hma: HmaKind, len: usize, x: &[f64]) -> Vec<f64> {
    match (t, hma) {
        (MaType::Ema, _) => compute::<Ema>(&len, x),
        (MaType::Hma, HmaKind::Hull) => compute::<Hma>(&len, x),
        (MaType::Hma, HmaKind::Sma) => compute::<Sma>(&len, x),
        (MaType::Wma, _) => compute::<Wma>(&len, x),
        (MaType::Dema, _) => compute::<Dema>(&len, x),
        (MaType::Lsma, _) => compute::<Lsma>(&len, x),
        (MaType::Kama, _) => compute::<Kama>(&len, x),
    }
    .expect("line")
}

fn equity(start: f64, s: &[f64], r: &[f64], p: &AtcParams) -> Vec<f64> {
    let ep = EquityParams {
        start,
        lambda: p.lambda,
        decay: p.decay,
        cutout: p.cutout,
    };
    let mut e = vec![0.0; s.len()];
    Equity::new(&ep)
        .expect("equity")
        .update(s, r, &mut e)
        .expect("equity");
    e
}

fn round2(v: f64) -> f64 {
    let r = ((v * 100.0).abs() + 0.5).floor() / 100.0;
    if v < 0.0 {
        -r
    } else {
        r
    }
}

/// The spec, step by step, with the scalar kernels; columns as `COLUMNS`.
fn reference(p: &AtcParams, x: &[f64]) -> Vec<Vec<f64>> {
    let n = x.len();
    let r = compute::<Roc>(&(), x).expect("roc");
    let mut cols = vec![vec![0.0; n]; NCOL];
    for (ti, t) in MaType::ALL.into_iter().enumerate() {
        let (mut num, mut den) = (vec![0.0; n], vec![0.0; n]);
        for len in p.lengths_of(t) {
            let m = line(t, p.hma, len as usize, x);
            let mut s = vec![0.0; n];
            Trend::new().update(x, &m, &mut s).expect("trend");
            let e = equity(1.0, &s, &r, p);
            for i in 0..n {
                num[i] += s[i] * e[i];
                den[i] += e[i];
            }
        }
        cols[1 + ti] = (0..n).map(|i| round2(num[i] / den[i])).collect();
        cols[7 + ti] = equity(p.weights[ti], &cols[1 + ti], &r, p);
    }
    let (mut last, mut prev) = (0.0, f64::NAN);
    #[allow(clippy::needless_range_loop)] // bar i across 13 columns
    for i in 0..n {
        let (mut nu, mut de) = (0.0, 0.0);
        for t in 0..6 {
            let (g, w) = (cols[1 + t][i], cols[7 + t][i]);
            if !g.is_nan() && !w.is_nan() {
                let c = if g > p.cut {
                    1.0
                } else if g < -p.cut {
                    -1.0
                } else {
                    0.0
                };
                nu += c * w;
                de += w;
            }
        }
        let avg = if de == 0.0 { 0.0 } else { nu / de };
        cols[0][i] = avg;
        let ev = if avg > p.long_threshold && prev <= p.long_threshold && last != 1.0 {
            1.0
        } else if avg < p.short_threshold && prev >= p.short_threshold && last == 1.0 {
            -1.0
        } else {
            0.0
        };
        if ev != 0.0 {
            last = ev;
        }
        cols[13][i] = ev;
        prev = avg;
    }
    cols
}

fn pipeline(p: &AtcParams, x: &[f64]) -> Vec<Vec<f64>> {
    let mut cols = vec![vec![0.0; x.len()]; NCOL];
    let mut refs: Vec<&mut [f64]> = cols.iter_mut().map(|c| c.as_mut_slice()).collect();
    Atc::new(p)
        .expect("params")
        .update(x, (&mut refs[..]).try_into().expect("14"))
        .expect("atc");
    cols
}

fn check(p: &AtcParams, x: &[f64]) {
    let (got, want) = (pipeline(p, x), reference(p, x));
    for c in 0..NCOL {
        assert_bits(&format!("column {c} {p:?}"), &got[c], &want[c]);
    }
}

#[test]
fn golden_series_match_the_scalar_composition() {
    for g in load_all() {
        for (p, _) in &g.atc {
            check(p, &g.close);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn random_series_and_parameters_match_the_scalar_composition(
        steps in prop::collection::vec((-0.03f64..0.03, 0u8..6), 1..700),
        lengths in prop::array::uniform6(8i64..40),
        rob in 0usize..3,
        cutout in 0i64..40,
        weights in prop::array::uniform6(0.1f64..2.0),
        sma in any::<bool>(),
    ) {
        let mut price = 50.0;
        let x: Vec<f64> = steps.iter().map(|&(r, k)| { if k > 1 { price *= 1.0 + r; } price }).collect();
        let p = AtcParams {
            lengths,
            robustness: [Robustness::Narrow, Robustness::Medium, Robustness::Wide][rob],
            cutout,
            weights,
            hma: if sma { HmaKind::Sma } else { HmaKind::Hull },
            ..AtcParams::default()
        };
        check(&p, &x);
    }
}
