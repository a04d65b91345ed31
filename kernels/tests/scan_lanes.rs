//! The scan sink with whole symbols in lane groups against the same symbols split over
//! several runs (stepped run by run with the carried state, the path before lanes):
//! the same outcomes, in the same order, bit for bit; each done symbol's signal equals
//! the scalar ATC over it alone; bad prices, short symbols, a symbol off the lanes and
//! a failed input keep their outcomes.
use barstream_kernels::atc::{Atc, AtcParams, HmaKind, Path, NCOL};
use barstream_kernels::pipeline::scan::{ScanRow, ScanSink};
use barstream_kernels::pipeline::{Outcome, Progress, Stage};
use barstream_kernels::read::{RunSink, SymbolRun};
use std::sync::atomic::Ordering;
use std::sync::Arc;

struct Sym {
    name: String,
    close: Vec<f64>,
    /// Fails at stage `input` after its first `k` bars.
    fail_after: Option<usize>,
}

/// A seeded walk (xorshift) with repeated prices, scaled.
fn walk(n: usize, seed: u64, scale: f64) -> Vec<f64> {
    let mut s = seed | 1;
    let mut p = 100.0;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let u = (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            if !s.is_multiple_of(3) {
                p *= 1.0 + 0.04 * u;
            }
            p * scale
        })
        .collect()
}

fn symbols() -> Vec<Sym> {
    let mut v: Vec<Sym> = (0..15)
        .map(|i| Sym {
            name: format!("S{i:02}"),
            close: walk([700, 1300, 40, 999, 300, 1, 640][i % 7], 7 + i as u64, 1.0),
            fail_after: None,
        })
        .collect();
    v[3].close[5] = f64::NAN; // a kernel failure
    v[8].close[400] = -2.0; // another, deep in
    v[6].close = walk(900, 99, 1e306); // window sums overflow: off the lanes
    v[11].fail_after = Some(250); // an input failure after one run
    v
}

/// Feeds `syms` to a scan sink, symbol `s` in runs of at most `split(s)` bars.
fn scan(
    p: &AtcParams,
    syms: &[Sym],
    split: impl Fn(usize) -> usize,
) -> (Vec<Outcome<ScanRow>>, u64) {
    let progress = Arc::new(Progress::default());
    let mut sink = ScanSink::new(p, progress.clone()).expect("params");
    for (s, sym) in syms.iter().enumerate() {
        let n = sym.fail_after.unwrap_or(sym.close.len());
        let ts: Vec<i64> = (0..sym.close.len() as i64)
            .map(|i| 1_000 + i * 60)
            .collect();
        let step = split(s).max(1);
        let mut lo = 0;
        while lo < n {
            let hi = (lo + step).min(n);
            let values = [&sym.close[lo..hi]];
            sink.on_run(&SymbolRun {
                symbol: &sym.name,
                ts: &ts[lo..hi],
                values: &values,
                continues: lo > 0,
            })
            .expect("run");
            lo = hi;
        }
        if sym.fail_after.is_some() {
            sink.fail_symbol(&sym.name, "bad row").expect("fail");
        }
    }
    sink.finish().expect("finish");
    assert_eq!(progress.symbols.load(Ordering::Relaxed), syms.len() as u64);
    (sink.outcomes, progress.bars.load(Ordering::Relaxed))
}

fn last_signal(p: &AtcParams, x: &[f64]) -> f64 {
    let mut cols = vec![vec![0.0; x.len()]; NCOL];
    let mut refs: Vec<&mut [f64]> = cols.iter_mut().map(|c| c.as_mut_slice()).collect();
    Atc::with_path(p, Path::Scalar)
        .expect("params")
        .update(x, (&mut refs[..]).try_into().expect("14"))
        .expect("atc");
    cols[0][x.len() - 1]
}

#[test]
fn whole_symbols_in_lane_groups_equal_symbols_split_over_runs() {
    let syms = symbols();
    for p in [
        AtcParams::default(),
        AtcParams {
            lengths: [9, 40, 8, 17, 30, 12],
            hma: HmaKind::Sma,
            cutout: 5,
            ..AtcParams::default()
        },
    ] {
        let (whole, bars) = scan(&p, &syms, |_| usize::MAX);
        let (split, split_bars) = scan(&p, &syms, |s| 97 + 31 * s);
        let (mixed, _) = scan(&p, &syms, |s| if s % 3 == 0 { 200 } else { usize::MAX });
        assert_eq!(bars, split_bars);
        for (got, what) in [(&whole, "whole"), (&mixed, "mixed")] {
            assert_eq!(got.len(), split.len());
            for (a, b) in got.iter().zip(&split) {
                // Debug prints every f64 so that it reads back to the same bits.
                assert_eq!(format!("{a:?}"), format!("{b:?}"), "{what}");
            }
        }
        let mut done = 0;
        for (o, sym) in whole.iter().zip(&syms) {
            assert_eq!(o.symbol(), sym.name, "symbol order");
            match o {
                Outcome::Done(row) => {
                    let want = last_signal(&p, &sym.close);
                    assert_eq!(row.signal.to_bits(), want.to_bits(), "{}", sym.name);
                    assert_eq!(row.bars, sym.close.len() as u64);
                    assert_eq!(row.close, *sym.close.last().unwrap());
                    done += 1;
                }
                Outcome::Failed { stage, message, .. } => match sym.name.as_str() {
                    "S03" => {
                        assert_eq!(*stage, Stage::Kernel);
                        assert_eq!(message, "x[5] is NaN: prices must be finite and > 0");
                    }
                    "S08" => assert_eq!(message, "x[400] is -2: prices must be finite and > 0"),
                    "S11" => assert_eq!((*stage, message.as_str()), (Stage::Input, "bad row")),
                    other => panic!("{other} failed: {message}"),
                },
                Outcome::Skipped { .. } => assert!(sym.close.len() < 62, "{}", sym.name),
            }
        }
        assert!(done >= 8, "only {done} done");
    }
}
