//! Every indicator key and every ATC case of every file in `shared/golden`.
mod common;
use barstream_kernels::atc::{Atc, Equity, EquityParams, Trend, COLUMNS, NCOL};
use barstream_kernels::kernel::{compute, Kernel};
use barstream_kernels::ma::{Dema, Ema, Hma, Kama, Lsma, Sma, Wma};
use barstream_kernels::osc::{Bollinger, BollingerParams, Roc, Rsi};
use common::{assert_matches, load_all};

fn ma<K: Kernel<Params = usize>>(x: &[f64], len: usize) -> Vec<f64> {
    compute::<K>(&len, x).expect("kernel")
}

/// The series a golden key names, computed from `x`.
fn indicator(key: &str, x: &[f64]) -> Vec<f64> {
    let n = x.len();
    match key {
        "roc_1" => return compute::<Roc>(&(), x).expect("roc"),
        "trend_state_close_vs_ema_28" | "equity_trend_state_ema_28" => {
            let line = ma::<Ema>(x, 28);
            let mut s = vec![0.0; n];
            Trend::new().update(x, &line, &mut s).expect("trend");
            if key.starts_with("trend") {
                return s;
            }
            let r = compute::<Roc>(&(), x).expect("roc");
            let p = EquityParams {
                start: 1.0,
                lambda: 0.02,
                decay: 0.03,
                cutout: 0,
            };
            let mut e = vec![0.0; n];
            Equity::new(&p)
                .expect("equity")
                .update(&s, &r, &mut e)
                .expect("equity");
            return e;
        }
        _ => {}
    }
    if let Some(band) = key.strip_prefix("bb_") {
        let parts: Vec<&str> = band.split('_').collect();
        let p = BollingerParams {
            length: parts[0].parse().expect("length"),
            k: parts[1].parse().expect("k"),
        };
        let (mut m, mut u, mut l) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        Bollinger::new(&p)
            .expect("bb")
            .update(x, &mut m, &mut u, &mut l)
            .expect("bb");
        return match parts[2] {
            "mid" => m,
            "upper" => u,
            "lower" => l,
            other => panic!("unknown band {other}"),
        };
    }
    let (name, len) = key
        .rsplit_once('_')
        .unwrap_or_else(|| panic!("unknown key {key}"));
    let len: usize = len.parse().unwrap_or_else(|_| panic!("unknown key {key}"));
    match name {
        "sma" => ma::<Sma>(x, len),
        "ema" => ma::<Ema>(x, len),
        "wma" => ma::<Wma>(x, len),
        "dema" => ma::<Dema>(x, len),
        "hma" => ma::<Hma>(x, len),
        "lsma" => ma::<Lsma>(x, len),
        "kama" => ma::<Kama>(x, len),
        "rsi" => compute::<Rsi>(&len, x).expect("rsi"),
        _ => panic!("unknown key {key}"),
    }
}

#[test]
fn every_indicator_matches_golden() {
    let mut checked = 0;
    for g in load_all() {
        for (key, want) in &g.indicators {
            assert_matches(
                &format!("{}: {key}", g.file),
                &indicator(key, &g.close),
                want,
            );
            checked += 1;
        }
    }
    assert!(checked >= 4 * 35, "checked only {checked} series");
}

pub fn atc_columns(atc: &mut Atc, x: &[f64]) -> Vec<Vec<f64>> {
    let mut cols = vec![vec![0.0; x.len()]; NCOL];
    let mut refs: Vec<&mut [f64]> = cols.iter_mut().map(|c| c.as_mut_slice()).collect();
    let out: &mut [&mut [f64]; NCOL] = (&mut refs[..]).try_into().expect("14 columns");
    atc.update(x, out).expect("atc");
    cols
}

#[test]
fn every_atc_case_matches_golden() {
    let mut checked = 0;
    for g in load_all() {
        for (p, outputs) in &g.atc {
            let cols = atc_columns(&mut Atc::new(p).expect("params"), &g.close);
            for (key, want) in outputs {
                let c = COLUMNS
                    .iter()
                    .position(|c| c == key)
                    .unwrap_or_else(|| panic!("unknown output {key}"));
                assert_matches(&format!("{}: atc {p:?}: {key}", g.file), &cols[c], want);
                checked += 1;
            }
        }
    }
    assert!(checked >= 4 * 3 * 13, "checked only {checked} series");
}

/// Events as the spec derives them, from the golden `Average_Signal`: long when it
/// crosses over 0.1 and the last event was short or none, short when it crosses
/// under -0.1 and the last event was long.
fn events_of(avg: &[f64]) -> Vec<f64> {
    let mut last = 0.0;
    let mut ev = vec![0.0; avg.len()];
    for i in 1..avg.len() {
        if avg[i] > 0.1 && avg[i - 1] <= 0.1 && last != 1.0 {
            ev[i] = 1.0;
        } else if avg[i] < -0.1 && avg[i - 1] >= -0.1 && last == 1.0 {
            ev[i] = -1.0;
        }
        if ev[i] != 0.0 {
            last = ev[i];
        }
    }
    ev
}

#[test]
fn atc_events_follow_the_golden_average_signal() {
    let mut events = 0;
    for g in load_all() {
        for (p, outputs) in &g.atc {
            let cols = atc_columns(&mut Atc::new(p).expect("params"), &g.close);
            let avg = &outputs
                .iter()
                .find(|(k, _)| k == "Average_Signal")
                .expect("Average_Signal")
                .1;
            let want = events_of(avg);
            assert_eq!(cols[NCOL - 1], want, "{}: events {p:?}", g.file);
            events += want.iter().filter(|&&e| e != 0.0).count();
        }
    }
    assert!(events > 10, "only {events} events in the golden series");
}

fn first_defined_is<K: Kernel<Params = usize>>(name: &str, x: &[f64]) {
    for len in 1..40 {
        let out = compute::<K>(&len, x).expect("kernel");
        let first = out
            .iter()
            .position(|v| !v.is_nan())
            .expect("defined somewhere");
        assert_eq!(first, K::first_defined(&len), "{name}({len})");
    }
}

#[test]
fn first_defined_is_where_outputs_start() {
    let x = &load_all()[0].close;
    first_defined_is::<Sma>("sma", x);
    first_defined_is::<Ema>("ema", x);
    first_defined_is::<barstream_kernels::ma::Rma>("rma", x);
    first_defined_is::<Wma>("wma", x);
    first_defined_is::<Dema>("dema", x);
    first_defined_is::<Hma>("hma", x);
    first_defined_is::<Lsma>("lsma", x);
    first_defined_is::<Kama>("kama", x);
    first_defined_is::<Rsi>("rsi", x);
    let r = compute::<Roc>(&(), x).expect("roc");
    assert_eq!(
        r.iter().position(|v| !v.is_nan()),
        Some(Roc::first_defined(&()))
    );
}
