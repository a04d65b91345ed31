//! Property test of the scan sink behind lane groups (`pipeline::lanes::Lanes`) against
//! the scan sink alone (the one-symbol path): random symbols of random lengths, cut into
//! random runs as batches would cut them, some with a bad price, a price above the lanes'
//! limit or an input failure after a random number of bars, give the same outcomes bit
//! for bit and byte-identical state files.
mod support;

use barstream_kernels::atc::AtcParams;
use barstream_kernels::pipeline::carry::{state_file, StateOut};
use barstream_kernels::pipeline::lanes::Lanes;
use barstream_kernels::pipeline::scan::ScanSink;
use barstream_kernels::pipeline::Progress;
use barstream_kernels::read::{RunSink, SymbolRun};
use proptest::prelude::*;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// One symbol: its closes, the run lengths it arrives in, and where its input fails.
#[derive(Clone, Debug)]
struct Sym {
    close: Vec<f64>,
    runs: Vec<usize>,
    fail_at: Option<usize>,
}

fn symbol() -> impl Strategy<Value = Sym> {
    (
        1usize..700,
        any::<u64>(),
        0u8..12,
        prop::collection::vec(1usize..300, 1..12),
    )
        .prop_map(|(n, seed, special, cuts)| {
            let mut x = seed | 1;
            let mut c = 50.0;
            let mut close: Vec<f64> = (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    c *= 1.0 + ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.05;
                    c
                })
                .collect();
            let at = (seed as usize >> 8) % n;
            let mut fail_at = None;
            match special {
                0 => close[at] = 0.0,
                1 => close[at] = f64::NAN,
                2 => close[at] = 2e250,
                3 => fail_at = Some(at),
                _ => {}
            }
            let mut runs = Vec::new();
            let mut left = n;
            for k in cuts.iter().cycle() {
                if left == 0 {
                    break;
                }
                let r = (*k).min(left);
                runs.push(r);
                left -= r;
            }
            Sym {
                close,
                runs,
                fail_at,
            }
        })
}

fn feed(sink: &mut dyn RunSink, syms: &[Sym]) {
    for (s, sym) in syms.iter().enumerate() {
        let name = format!("S{s:03}");
        let ts: Vec<i64> = (0..sym.close.len() as i64)
            .map(|i| i * 60_000_000)
            .collect();
        let mut lo = 0;
        for &r in &sym.runs {
            let hi = (lo + r).min(sym.fail_at.unwrap_or(usize::MAX));
            if hi > lo {
                sink.on_run(&SymbolRun {
                    symbol: &name,
                    ts: &ts[lo..hi],
                    values: &[&sym.close[lo..hi]],
                    continues: lo > 0,
                })
                .unwrap();
            }
            if sym.fail_at.is_some_and(|f| f < lo + r) {
                sink.fail_symbol(&name, "a repeated timestamp").unwrap();
                break;
            }
            lo += r;
        }
    }
    sink.finish().unwrap();
}

fn sink(dir: &Path, progress: &Arc<Progress>) -> ScanSink {
    ScanSink::new(&AtcParams::default(), progress.clone())
        .unwrap()
        .saving(
            StateOut {
                dir: dir.to_path_buf(),
                generation: 0,
            },
            0,
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]
    #[test]
    fn lane_groups_equal_one_symbol_at_a_time(syms in prop::collection::vec(symbol(), 1..11)) {
        let root = support::temp_dir("lanes-props");
        let (d_off, d_on) = (root.join("off"), root.join("on"));
        let progress = Arc::new(Progress::default());
        let mut off = sink(&d_off, &progress);
        feed(&mut off, &syms);
        let mut on = Lanes::new(sink(&d_on, &progress), true, progress.clone());
        feed(&mut on, &syms);
        prop_assert_eq!(support::outcome_bits(&on.sink.outcomes), support::outcome_bits(&off.outcomes));
        let read = |d: &Path| std::fs::read(d.join(state_file(0, 0))).unwrap();
        prop_assert!(read(&d_on) == read(&d_off), "state files differ");
    }
}

#[test]
fn four_plain_symbols_run_in_one_group() {
    let root = support::temp_dir("lanes-props-four");
    let syms: Vec<Sym> = (0..4)
        .map(|i| Sym {
            close: (0..500)
                .map(|k| 10.0 + ((k * (i + 3)) % 17) as f64)
                .collect(),
            runs: vec![100, 7, 393],
            fail_at: None,
        })
        .collect();
    let progress = Arc::new(Progress::default());
    let mut on = Lanes::new(sink(&root, &progress), true, progress.clone());
    feed(&mut on, &syms);
    assert_eq!(progress.lane_symbols.load(Ordering::Relaxed), 4);
    assert_eq!(on.sink.outcomes.len(), 4);
}
