//! Parameter and input errors: clear messages naming the parameter or the index.
use barstream_kernels::atc::{Atc, AtcParams, Robustness, NCOL};
use barstream_kernels::kernel::{compute, Kernel};
use barstream_kernels::ma::{Ema, Kama, Sma};
use barstream_kernels::osc::{Bollinger, BollingerParams, Roc, Rsi};
use barstream_kernels::ErrorCode;

#[test]
fn length_below_one_is_a_parameter_error() {
    let e = compute::<Ema>(&0, &[1.0]).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidParam);
    assert_eq!(
        e.message,
        "ema: length must be an integer from 1 to 1000000, got 0"
    );
    assert_eq!(
        compute::<Rsi>(&0, &[1.0]).unwrap_err().message,
        "rsi: length must be an integer from 1 to 1000000, got 0"
    );
    let b = Bollinger::new(&BollingerParams { length: 0, k: 2.0 }).unwrap_err();
    assert_eq!(
        b.message,
        "bollinger: length must be an integer from 1 to 1000000, got 0"
    );
}

#[test]
fn non_finite_input_names_its_index() {
    let e = compute::<Sma>(&2, &[1.0, 2.0, f64::NAN, 4.0]).unwrap_err();
    assert_eq!(e.code, ErrorCode::BadInput);
    assert_eq!(e.message, "x[2] is NaN: prices must be finite");
    let e = compute::<Roc>(&(), &[1.0, 0.0]).unwrap_err();
    assert_eq!(e.message, "x[1] is 0: prices must be finite and > 0");
}

#[test]
fn the_index_is_global_and_the_state_survives_an_error() {
    let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let mut k = Kama::new(&3).unwrap();
    let mut out = [0.0; 6];
    k.update(&x[..3], &mut out[..3]).unwrap();
    let before = k.to_bytes();
    let e = k.update(&[4.0, f64::INFINITY], &mut out[3..5]).unwrap_err();
    assert_eq!(e.message, "x[4] is inf: prices must be finite");
    assert_eq!(k.to_bytes(), before);
    k.update(&x[3..], &mut out[3..]).unwrap();
    assert_eq!(out.to_vec(), compute::<Kama>(&3, &x).unwrap());
}

fn atc_err(p: AtcParams) -> String {
    Atc::new(&p).unwrap_err().message
}

#[test]
fn atc_parameters_are_checked() {
    let mut p = AtcParams {
        robustness: Robustness::Wide,
        ..AtcParams::default()
    };
    p.lengths[5] = 7;
    assert_eq!(
        atc_err(p),
        "atc: lengths.KAMA = 7 with robustness Wide gives length 0; every length must be an integer from 1 to 1000000"
    );
    assert_eq!(
        atc_err(AtcParams {
            cutout: -1,
            ..AtcParams::default()
        }),
        "atc: cutout must be an integer from 0 to 1000000, got -1"
    );
    assert_eq!(
        Robustness::parse("Tight").unwrap_err().message,
        "atc: robustness must be 'Narrow', 'Medium' or 'Wide', got 'Tight'"
    );
    assert_eq!(
        atc_err(AtcParams {
            lambda: f64::NAN,
            ..AtcParams::default()
        }),
        "atc: lambda must be a number from 0 to 1, got NaN"
    );
    assert_eq!(
        atc_err(AtcParams {
            decay: 1e308,
            ..AtcParams::default()
        }),
        "atc: decay must be a number from 0 to 100, got 1e308"
    );
}

#[test]
fn atc_refuses_non_positive_prices() {
    let mut a = Atc::new(&AtcParams::default()).unwrap();
    let x = [10.0, 11.0, -1.0];
    let mut cols = vec![vec![0.0; 3]; NCOL];
    let mut refs: Vec<&mut [f64]> = cols.iter_mut().map(|c| c.as_mut_slice()).collect();
    let e = a
        .update(&x, (&mut refs[..]).try_into().unwrap())
        .unwrap_err();
    assert_eq!(e.message, "x[2] is -1: prices must be finite and > 0");
}

#[test]
fn foreign_or_mismatched_state_is_refused() {
    let ema = Ema::new(&5).unwrap().to_bytes();
    assert_eq!(
        Sma::from_bytes(&5, &ema).unwrap_err().message,
        "state: saved by `ema`, not `sma`; pass bytes returned by state() of the same kernel and parameters"
    );
    assert_eq!(
        Ema::from_bytes(&6, &ema).unwrap_err().message,
        "state: saved with length 5, resumed with 6"
    );
    assert!(Ema::from_bytes(&5, &ema[..ema.len() - 1])
        .unwrap_err()
        .message
        .contains("truncated"));
    let atc = Atc::new(&AtcParams::default()).unwrap().to_bytes();
    let other = AtcParams {
        cutout: 3,
        ..AtcParams::default()
    };
    assert_eq!(
        Atc::from_bytes(&other, &atc).unwrap_err().message,
        "state: saved with other atc parameters than the ones given now"
    );
}
