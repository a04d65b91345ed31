//! Every case of `shared/golden/formula`: value and named values within
//! `1e-9 * max(1, |expected|)`, NaN exactly where the file holds null, conditions exact.
mod formula_util;
use barstream_kernels::formula::Kind;
use formula_util::{compile, load, run};

fn agree(what: &str, got: &[f64], want: &[f64], exact: bool) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!("{what}: {} values, want {}", got.len(), want.len()));
    }
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = if w.is_nan() {
            g.is_nan()
        } else if exact {
            g == w
        } else {
            (g - w).abs() <= 1e-9 * w.abs().max(1.0)
        };
        if !ok {
            return Err(format!("{what}[{i}]: got {g}, want {w}"));
        }
    }
    Ok(())
}

#[test]
fn every_golden_case_agrees() {
    let (mut checked, mut failures) = (0, Vec::new());
    for g in load() {
        for c in &g.cases {
            let f = compile(&c.formula);
            let (value, named) = run(&f, &g.bars);
            let what = format!("{} {:?}", g.file, c.formula);
            if f.kind != Kind::Strategy {
                if let Err(e) = agree(
                    &format!("{what} value"),
                    &value,
                    &c.value,
                    f.kind == Kind::Condition,
                ) {
                    failures.push(e);
                }
            }
            for (name, want) in &c.values {
                let i = f
                    .names
                    .iter()
                    .position(|n| n == name)
                    .unwrap_or_else(|| panic!("{what}: no name {name}"));
                if let Err(e) = agree(&format!("{what} {name}"), &named[i], want, false) {
                    failures.push(e);
                }
            }
            assert_eq!(f.names.len(), c.values.len(), "{what}: names");
            checked += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(checked, 84, "every case checked");
}
