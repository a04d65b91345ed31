//! Golden files and comparison helpers shared by the integration tests.
#![allow(dead_code)]
use barstream_kernels::atc::symbols::{run_group, run_group_with_states};
use barstream_kernels::atc::{Atc, AtcParams, HmaKind, Path, Robustness, COLUMNS, NCOL};
use serde_json::Value;
use std::path::PathBuf;

/// Named series (`key -> values`, NaN where the file has null).
pub type Named = Vec<(String, Vec<f64>)>;

pub struct Golden {
    pub file: String,
    pub close: Vec<f64>,
    pub indicators: Named,
    pub atc: Vec<(AtcParams, Named)>,
}

pub fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/golden")
}

fn series(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

fn named(v: &Value) -> Named {
    v.as_object()
        .expect("object")
        .iter()
        .map(|(k, s)| (k.clone(), series(s)))
        .collect()
}

/// The spec's parameter names (`lam`, `lengths_by_type`, `hma_kind`, ...) as [`AtcParams`].
pub fn atc_params(p: &Value) -> AtcParams {
    let mut a = AtcParams::default();
    for (k, v) in p.as_object().expect("params") {
        match k.as_str() {
            "length" => a.lengths = [v.as_i64().expect("length"); 6],
            "lengths_by_type" => {
                for (t, l) in v.as_object().expect("lengths_by_type") {
                    a.lengths[type_index(t)] = l.as_i64().expect("length");
                }
            }
            "weights" => {
                for (t, w) in v.as_object().expect("weights") {
                    a.weights[type_index(t)] = w.as_f64().expect("weight");
                }
            }
            "robustness" => {
                a.robustness =
                    Robustness::parse(v.as_str().expect("robustness")).expect("robustness")
            }
            "lam" => a.lambda = v.as_f64().expect("lam"),
            "decay" => a.decay = v.as_f64().expect("decay"),
            "cutout" => a.cutout = v.as_i64().expect("cutout"),
            "cut" => a.cut = v.as_f64().expect("cut"),
            "hma_kind" => a.hma = HmaKind::parse(v.as_str().expect("hma_kind")).expect("hma_kind"),
            other => panic!("unknown ATC parameter in golden file: {other}"),
        }
    }
    a
}

fn type_index(t: &str) -> usize {
    ["EMA", "HMA", "WMA", "DEMA", "LSMA", "KAMA"]
        .iter()
        .position(|&n| n == t)
        .unwrap_or_else(|| panic!("unknown type {t}"))
}

pub fn load_all() -> Vec<Golden> {
    let mut files: Vec<_> = std::fs::read_dir(golden_dir())
        .expect("shared/golden")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no golden files in {}",
        golden_dir().display()
    );
    files
        .iter()
        .map(|p| {
            let v: Value =
                serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json");
            Golden {
                file: p.file_name().expect("name").to_string_lossy().into_owned(),
                close: series(&v["close"]),
                indicators: named(&v["indicators"]),
                atc: v["atc"]
                    .as_array()
                    .expect("atc")
                    .iter()
                    .map(|c| (atc_params(&c["params"]), named(&c["outputs"])))
                    .collect(),
            }
        })
        .collect()
}

/// NaN exactly where `want` is NaN, else `|got - want| <= 1e-9`.
pub fn assert_matches(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = if w.is_nan() {
            g.is_nan()
        } else {
            (g - w).abs() <= 1e-9
        };
        assert!(
            ok,
            "{what}[{i}]: got {g}, want {w} (diff {:e})",
            (g - w).abs()
        );
    }
}

/// Bit-identical (NaN == NaN).
pub fn assert_bits(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
            "{what}[{i}]: {g} != {w}"
        );
    }
}

/// Every robustness, in the order the property tests index them.
pub const ROBUSTNESS: [Robustness; 3] = [Robustness::Narrow, Robustness::Medium, Robustness::Wide];

/// ATC parameters from a property test's draws: `lengths` shifted so the shortest length after
/// the robustness offsets stays at least the drawn one; `sma` picks the `hma` kind.
#[allow(clippy::too_many_arguments)]
pub fn drawn_params(
    lengths: [i64; 6],
    rob: usize,
    cutout: i64,
    lambda: f64,
    decay: f64,
    weights: [f64; 6],
    cut: f64,
    sma: bool,
) -> AtcParams {
    let robustness = ROBUSTNESS[rob];
    AtcParams {
        lengths: lengths.map(|l| l + robustness.offsets()[3]),
        robustness,
        cutout,
        lambda,
        decay,
        weights,
        cut,
        hma: if sma { HmaKind::Sma } else { HmaKind::Hull },
        ..AtcParams::default()
    }
}

/// A random walk from 50 whose steps of kind 0 or 1 repeat the price (flat windows).
pub fn flat_walk(steps: &[(f64, u8)]) -> Vec<f64> {
    let mut price = 50.0;
    steps
        .iter()
        .map(|&(r, k)| {
            if k > 1 {
                price *= 1.0 + r;
            }
            price
        })
        .collect()
}

/// Every robustness x `hma` kind x three length sets (equal lengths, short ones, mixed; each
/// raised so the robustness offsets leave it at least 1), with `cutout`.
pub fn every_kind(cutout: i64) -> Vec<AtcParams> {
    let mut all = Vec::new();
    for robustness in ROBUSTNESS {
        for hma in [HmaKind::Hull, HmaKind::Sma] {
            for lengths in [[28; 6], [1, 2, 5, 9, 13, 40], [60, 3, 17, 8, 1, 25]] {
                all.push(AtcParams {
                    robustness,
                    hma,
                    lengths: lengths.map(|l: i64| l.max(robustness.offsets()[3] + 1)),
                    cutout,
                    ..AtcParams::default()
                });
            }
        }
    }
    all
}

proptest::prop_compose! {
    /// Random ATC parameters for property tests: lengths 1..70 (raised by the robustness
    /// offsets), any robustness and `hma` kind, cutout 0..60, lambda, decay and weights over
    /// their ranges, a negative `cut` too (a signal above `cut` and below `-cut` counts long)
    /// and random thresholds.
    pub fn any_params()(
        lengths in proptest::array::uniform6(1i64..70),
        rob in 0usize..3,
        cutout in 0i64..60,
        lambda in 0.0f64..1.0,
        decay in 0.0f64..100.0,
        weights in proptest::array::uniform6(0.0f64..3.0),
        cut in -0.9f64..0.9,
        sma in proptest::bool::ANY,
        long in -0.5f64..0.5,
        short in -0.5f64..0.5,
    ) -> AtcParams {
        let mut p = drawn_params(lengths, rob, cutout, lambda, decay, weights, cut, sma);
        (p.long_threshold, p.short_threshold) = (long, short);
        p
    }
}

/// The 14 output columns of `atc` continued over `x`.
pub fn atc_cols(atc: &mut Atc, x: &[f64]) -> Vec<Vec<f64>> {
    let mut cols = vec![vec![0.0; x.len()]; NCOL];
    let mut refs: Vec<&mut [f64]> = cols.iter_mut().map(|c| c.as_mut_slice()).collect();
    atc.update(x, (&mut refs[..]).try_into().expect("14"))
        .expect("atc");
    cols
}

/// The 14 columns of one fresh pass over `x` on `path`.
pub fn one_pass(p: &AtcParams, path: Path, x: &[f64]) -> Vec<Vec<f64>> {
    let mut a = Atc::with_path(p, path).expect("params");
    assert_eq!(a.path(), path);
    atc_cols(&mut a, x)
}

/// Each series' 14 columns from one lane group over `xs` and, `with_states`, their states.
pub fn group_cols(
    p: &AtcParams,
    xs: &[&[f64]],
    with_states: bool,
) -> (Vec<Vec<Vec<f64>>>, Option<Vec<Vec<u8>>>) {
    let mut cols: Vec<Vec<Vec<f64>>> = xs
        .iter()
        .map(|x| vec![vec![f64::NAN; x.len()]; NCOL])
        .collect();
    let mut refs: Vec<[&mut [f64]; NCOL]> = cols
        .iter_mut()
        .map(|c| {
            let v: Vec<&mut [f64]> = c.iter_mut().map(|c| c.as_mut_slice()).collect();
            v.try_into().expect("14")
        })
        .collect();
    let mut outs: Vec<&mut [&mut [f64]; NCOL]> = refs.iter_mut().collect();
    let states = if with_states {
        Some(run_group_with_states(p, xs, &mut outs))
    } else {
        run_group(p, xs, &mut outs);
        None
    };
    (cols, states)
}

/// The 14 columns equal bit for bit, each named in the message.
pub fn same_cols(what: &str, got: &[Vec<f64>], want: &[Vec<f64>]) {
    for c in 0..NCOL {
        assert_bits(&format!("{what}: {}", COLUMNS[c]), &got[c], &want[c]);
    }
}
