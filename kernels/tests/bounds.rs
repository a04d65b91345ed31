//! Bounded lengths and memory: every length is checked against `MAX_LENGTH`, windows
//! hold no more than the bars seen, and state bytes (old padded ones included) decode,
//! while corrupt or hostile ones are errors, never an allocation abort.
use barstream_kernels::atc::{Atc, AtcParams, Equity, EquityParams, Robustness, NCOL};
use barstream_kernels::kernel::{compute, Kernel, MAX_LENGTH};
use barstream_kernels::ma::{Dema, Ema, Hma, Kama, Lsma, Rma, Sma, Wma};
use barstream_kernels::osc::{Bollinger, BollingerParams, Rsi};
use barstream_kernels::ErrorCode;

fn prices(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 100.0 + 10.0 * (i as f64 / 7.0).sin() + i as f64 * 0.01)
        .collect()
}

fn length_bounds<K: Kernel<Params = usize>>() {
    let over = MAX_LENGTH + 1;
    let e = K::new(&over).err().expect("length above the bound");
    assert_eq!(e.code, ErrorCode::InvalidParam);
    assert_eq!(
        e.message,
        format!(
            "{}: length must be an integer from 1 to 1000000, got 1000001",
            K::NAME
        )
    );
    let e = K::new(&usize::MAX).err().expect("huge length");
    assert!(e.message.contains("from 1 to 1000000"), "{}", e.message);
    assert!(
        K::new(&MAX_LENGTH).is_ok(),
        "{}: the bound itself is accepted",
        K::NAME
    );
}

#[test]
fn every_length_is_an_integer_from_1_to_max_length() {
    assert_eq!(MAX_LENGTH, 1_000_000);
    length_bounds::<Sma>();
    length_bounds::<Ema>();
    length_bounds::<Rma>();
    length_bounds::<Wma>();
    length_bounds::<Dema>();
    length_bounds::<Hma>();
    length_bounds::<Lsma>();
    length_bounds::<Kama>();
    length_bounds::<Rsi>();
    let b = Bollinger::new(&BollingerParams {
        length: MAX_LENGTH + 1,
        k: 2.0,
    })
    .unwrap_err();
    assert_eq!(
        b.message,
        "bollinger: length must be an integer from 1 to 1000000, got 1000001"
    );
}

#[test]
fn atc_lengths_and_cutouts_are_bounded_before_and_after_the_robustness_offsets() {
    let base = |l: i64, r: Robustness| AtcParams {
        lengths: [l; 6],
        robustness: r,
        ..AtcParams::default()
    };
    assert_eq!(
        Atc::new(&base(4_294_967_297, Robustness::Medium))
            .unwrap_err()
            .message,
        "atc: lengths.EMA must be an integer from 1 to 1000000, got 4294967297"
    );
    assert_eq!(
        Atc::new(&base(i64::MAX, Robustness::Wide))
            .unwrap_err()
            .message,
        format!(
            "atc: lengths.EMA must be an integer from 1 to 1000000, got {}",
            i64::MAX
        )
    );
    // 999,995 + 7 (Wide) is over the bound; 999,993 + 7 is the bound itself.
    assert_eq!(
        Atc::new(&base(999_995, Robustness::Wide))
            .unwrap_err()
            .message,
        "atc: lengths.EMA = 999995 with robustness Wide gives length 1000002; \
         every length must be an integer from 1 to 1000000"
    );
    assert!(Atc::new(&base(999_993, Robustness::Wide)).is_ok());
    let cut = |c: i64| {
        Atc::new(&AtcParams {
            cutout: c,
            ..AtcParams::default()
        })
    };
    assert_eq!(
        cut(1_000_001).unwrap_err().message,
        "atc: cutout must be an integer from 0 to 1000000, got 1000001"
    );
    assert!(cut(1_000_000).is_ok());
    let eq = |c: i64| {
        Equity::new(&EquityParams {
            start: 1.0,
            lambda: 0.02,
            decay: 0.03,
            cutout: c,
        })
    };
    assert_eq!(
        eq(i64::MIN).unwrap_err().message,
        format!(
            "equity: cutout must be an integer from 0 to 1000000, got {}",
            i64::MIN
        )
    );
    assert!(eq(0).is_ok());
}

/// A length of `MAX_LENGTH` over 300 bars: the state (which holds every window's values)
/// stays a few kilobytes, where a preallocated window alone took 8 MB.
fn small_state<K: Kernel<Params = usize>>() {
    let x = prices(300);
    let mut k = K::new(&MAX_LENGTH).unwrap();
    let mut out = vec![0.0; x.len()];
    k.update(&x, &mut out).unwrap();
    let bytes = k.to_bytes();
    assert!(
        bytes.len() < 3 * 300 * 8 + 1024,
        "{}: {} state bytes",
        K::NAME,
        bytes.len()
    );
    // It resumes, and the rest of the series matches one pass.
    let y = prices(400);
    let mut r = K::from_bytes(&MAX_LENGTH, &bytes).unwrap();
    let mut rest = vec![0.0; 100];
    r.update(&y[300..], &mut rest).unwrap();
    let whole = compute::<K>(&MAX_LENGTH, &y).unwrap();
    let same = |a: f64, b: f64| a.to_bits() == b.to_bits();
    assert!(rest.iter().zip(&whole[300..]).all(|(a, b)| same(*a, *b)));
}

#[test]
fn a_long_length_over_a_short_series_holds_only_the_bars_seen() {
    small_state::<Sma>();
    small_state::<Wma>();
    small_state::<Lsma>();
    small_state::<Hma>();
    small_state::<Kama>();
    let x = prices(300);
    let p = AtcParams {
        lengths: [MAX_LENGTH as i64 - 7; 6],
        robustness: Robustness::Wide,
        ..AtcParams::default()
    };
    let mut a = Atc::new(&p).unwrap();
    let mut cols = vec![vec![0.0; x.len()]; NCOL];
    let mut refs: Vec<&mut [f64]> = cols.iter_mut().map(|c| c.as_mut_slice()).collect();
    a.update(&x, (&mut refs[..]).try_into().unwrap()).unwrap();
    let state = a.to_bytes();
    // ~80 windows of 300 values each, not ~80 x 8 MB.
    assert!(state.len() < 1 << 20, "ATC state of {} bytes", state.len());
    Atc::from_bytes(&p, &state).unwrap();
}

/// `bytes` (an SMA/WMA-style state whose first window holds `held` values after a
/// `len`-long length field) rewritten as a preallocated ring saved it: `len` values,
/// zeros after the ones held.
fn padded(bytes: &[u8], tag: &str, len: usize, held: usize) -> Vec<u8> {
    let head = 8 + tag.len() + 8;
    let count = head + 8;
    assert_eq!(
        u64::from_le_bytes(bytes[head..count].try_into().unwrap()),
        held as u64
    );
    let mut out = bytes[..head].to_vec();
    out.extend_from_slice(&(len as u64).to_le_bytes());
    out.extend_from_slice(&bytes[count..count + 8 * held]);
    out.extend(std::iter::repeat_n(0u8, 8 * (len - held)));
    out.extend_from_slice(&bytes[count + 8 * held..]);
    out
}

fn old_states_decode<K: Kernel<Params = usize>>(len: usize, held: usize) {
    let x = prices(3 * len);
    let mut k = K::new(&len).unwrap();
    let mut out = vec![0.0; held];
    k.update(&x[..held], &mut out).unwrap();
    let compact = k.to_bytes();
    let old = padded(&compact, K::NAME, len, held);
    let mut r = K::from_bytes(&len, &old).expect("an old padded state decodes");
    assert_eq!(
        r.to_bytes(),
        compact,
        "{}: and re-encodes compactly",
        K::NAME
    );
    let mut rest = vec![0.0; x.len() - held];
    r.update(&x[held..], &mut rest).unwrap();
    let whole = compute::<K>(&len, &x).unwrap();
    assert!(rest
        .iter()
        .zip(&whole[held..])
        .all(|(a, b)| a.to_bits() == b.to_bits()));
}

#[test]
fn states_saved_by_a_preallocated_window_still_decode() {
    old_states_decode::<Sma>(9, 4);
    old_states_decode::<Wma>(7, 6);
    old_states_decode::<Lsma>(5, 1);
    old_states_decode::<Sma>(9, 0);
}

#[test]
fn corrupt_or_hostile_window_states_are_errors() {
    let mut k = Sma::new(&50).unwrap();
    let mut out = vec![0.0; 20];
    k.update(&prices(20), &mut out).unwrap();
    let good = k.to_bytes();
    let count_at = 8 + 3 + 8;
    let with_count = |n: u64| {
        let mut b = good.clone();
        b[count_at..count_at + 8].copy_from_slice(&n.to_le_bytes());
        b
    };
    for n in [u64::MAX, 1 << 60, 1 << 40, 51, 21, 19] {
        let e = Sma::from_bytes(&50, &with_count(n)).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidParam, "count {n}");
        assert!(e.message.starts_with("state: "), "{}", e.message);
    }
    // A huge length in the parameters is refused before any state is read.
    assert!(Sma::from_bytes(&(1 << 40), &good).is_err());
    for cut in 0..good.len() {
        assert!(Sma::from_bytes(&50, &good[..cut]).is_err(), "cut at {cut}");
    }
    let p = AtcParams::default();
    let mut a = Atc::new(&p).unwrap();
    let x = prices(100);
    let mut cols = vec![vec![0.0; x.len()]; NCOL];
    let mut refs: Vec<&mut [f64]> = cols.iter_mut().map(|c| c.as_mut_slice()).collect();
    a.update(&x, (&mut refs[..]).try_into().unwrap()).unwrap();
    let state = a.to_bytes();
    for cut in (0..state.len()).step_by(97) {
        assert!(Atc::from_bytes(&p, &state[..cut]).is_err());
    }
    // Every 8-byte field set to a huge count in turn: an error or a state, never an abort.
    for at in (0..state.len().saturating_sub(8)).step_by(8) {
        let mut b = state.clone();
        b[at..at + 8].copy_from_slice(&(1u64 << 61).to_le_bytes());
        let _ = Atc::from_bytes(&p, &b);
    }
}
