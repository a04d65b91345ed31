//! Golden formula cases and a whole-series runner shared by the `formula_*` tests.
#![allow(dead_code)]
use barstream_kernels::formula::{Evaluator, Field, Formula};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;

/// One symbol's bars, in `Field::ALL` order.
#[derive(Clone, Debug)]
pub struct Bars {
    pub cols: [Vec<f64>; 5],
}

impl Bars {
    pub fn len(&self) -> usize {
        self.cols[3].len()
    }
    /// The series `f` reads, sliced to `lo..hi`.
    pub fn of<'a>(&'a self, f: &Formula, lo: usize, hi: usize) -> Vec<&'a [f64]> {
        f.fields
            .iter()
            .map(|&x| &self.cols[x as usize][lo..hi])
            .collect()
    }
}

pub struct Case {
    pub file: String,
    pub formula: String,
    pub value: Vec<f64>,
    pub values: Vec<(String, Vec<f64>)>,
}

pub struct GoldenFile {
    pub file: String,
    pub bars: Bars,
    pub cases: Vec<Case>,
}

impl GoldenFile {
    /// The case whose formula starts with `head`.
    pub fn case(&self, head: &str) -> &Case {
        self.cases
            .iter()
            .find(|c| c.formula.starts_with(head))
            .unwrap_or_else(|| panic!("{}: no case starting {head:?}", self.file))
    }
    /// The named value `name` of the case whose formula starts with `head`.
    pub fn named(&self, head: &str, name: &str) -> &[f64] {
        &self
            .case(head)
            .values
            .iter()
            .find(|(k, _)| k == name)
            .unwrap_or_else(|| panic!("{}: no {name}", self.file))
            .1
    }
}

fn series(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

pub fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/golden/formula")
}

pub fn load() -> Vec<GoldenFile> {
    let mut files: Vec<_> = std::fs::read_dir(golden_dir())
        .expect("shared/golden/formula")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no golden formula files");
    files
        .iter()
        .map(|p| {
            let v: Value =
                serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json");
            let file = p.file_name().expect("name").to_string_lossy().into_owned();
            let cols = Field::ALL.map(|f| series(&v[f.as_str()]));
            let cases = v["formulas"]
                .as_array()
                .expect("formulas")
                .iter()
                .map(|c| Case {
                    file: file.clone(),
                    formula: c["formula"].as_str().expect("formula").to_string(),
                    value: if c["value"].is_null() {
                        Vec::new()
                    } else {
                        series(&c["value"])
                    },
                    values: c["values"]
                        .as_object()
                        .expect("values")
                        .iter()
                        .map(|(k, s)| (k.clone(), series(s)))
                        .collect(),
                })
                .collect();
            GoldenFile {
                file,
                bars: Bars { cols },
                cases,
            }
        })
        .collect()
}

/// Value and named values of `f` over `bars`, pushed in chunks of the sizes `steps`
/// gives (cycled), resuming from saved bytes after every chunk when `resume`.
pub fn run_chunked(
    f: &Arc<Formula>,
    bars: &Bars,
    steps: &mut dyn FnMut() -> usize,
    resume: bool,
) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = bars.len();
    let mut ev = Evaluator::new(f);
    let (mut value, mut named) = (Vec::new(), vec![Vec::new(); f.names.len()]);
    let mut lo = 0;
    while lo < n {
        let hi = (lo + steps().max(1)).min(n);
        ev.push(&bars.of(f, lo, hi)).expect("push");
        value.extend_from_slice(ev.value());
        for (i, v) in named.iter_mut().enumerate() {
            v.extend_from_slice(ev.named(i));
        }
        if resume {
            ev = Evaluator::from_state(f, &ev.state()).expect("resume");
        }
        lo = hi;
    }
    (value, named)
}

/// One push of every bar.
pub fn run(f: &Arc<Formula>, bars: &Bars) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = bars.len();
    run_chunked(f, bars, &mut || n, false)
}

pub fn compile(text: &str) -> Arc<Formula> {
    Arc::new(Formula::compile(text).unwrap_or_else(|e| panic!("{text}: {}", e.message)))
}

/// Bit-identical (every NaN equal).
pub fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}
