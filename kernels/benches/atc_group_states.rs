//! `run_group_with_states` against `run_group` in one process on one thread: 300
//! series x 2,000 bars in lane groups of `W`, the two interleaved round by round so a
//! loaded machine slows both alike; M bars/s of each and the median ratio of their
//! times, and of their best times. Twice: series of equal lengths, and of lengths 1,000 to 2,000 (blocks cut
//! where a series ends).
//! `cargo bench --no-default-features --bench atc_group_states [-- ROUNDS]`
mod common;

use barstream_kernels::atc::symbols::{run_group, run_group_with_states, W};
use barstream_kernels::atc::{AtcParams, NCOL};
use common::{median, walk};
use std::hint::black_box;
use std::time::Instant;

/// Seconds for every group of `xs` (series `W` at a time), with or without states, and
/// the states' bytes in all.
fn pass(p: &AtcParams, xs: &[Vec<f64>], out: &mut [Vec<Vec<f64>>], states: bool) -> (f64, usize) {
    let t = Instant::now();
    let mut bytes = 0;
    for (g, o) in xs.chunks(W).zip(out.chunks_mut(W)) {
        let refs: Vec<&[f64]> = g.iter().map(|x| x.as_slice()).collect();
        let mut cols: Vec<[&mut [f64]; NCOL]> = o
            .iter_mut()
            .map(|c| {
                let v: Vec<&mut [f64]> = c.iter_mut().map(|c| c.as_mut_slice()).collect();
                v.try_into().expect("14")
            })
            .collect();
        let mut outs: Vec<&mut [&mut [f64]; NCOL]> = cols.iter_mut().collect();
        if states {
            let s = run_group_with_states(p, black_box(&refs), &mut outs);
            bytes += s.iter().map(|s| s.len()).sum::<usize>();
        } else {
            run_group(p, black_box(&refs), &mut outs);
        }
    }
    (t.elapsed().as_secs_f64(), bytes)
}

fn compare(what: &str, p: &AtcParams, xs: &[Vec<f64>], rounds: usize) {
    let mut out: Vec<Vec<Vec<f64>>> = xs.iter().map(|x| vec![vec![0.0; x.len()]; NCOL]).collect();
    let (mut plain, mut with, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    let bytes = pass(p, xs, &mut out, true).1;
    for r in 0..rounds {
        // Alternate which goes first.
        let (a, b) = if r % 2 == 0 {
            let a = pass(p, xs, &mut out, false).0;
            (a, pass(p, xs, &mut out, true).0)
        } else {
            let b = pass(p, xs, &mut out, true).0;
            (pass(p, xs, &mut out, false).0, b)
        };
        plain.push(a);
        with.push(b);
        ratio.push(b / a);
    }
    let bars: usize = xs.iter().map(|x| x.len()).sum();
    let rate = |v: &mut Vec<f64>| bars as f64 / median(v) / 1e6;
    let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "{what}: run_group {:.2} M bars/s, run_group_with_states {:.2} M bars/s, \
         with_states/run_group time {:.4}x (median of {rounds} rounds), {:.4}x (best of each); \
         {} bytes per state",
        rate(&mut plain),
        rate(&mut with),
        median(&mut ratio),
        best(&with) / best(&plain),
        bytes / xs.len()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a number after it is ROUNDS.
    let rounds = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(15);
    let p = AtcParams::default();
    let (symbols, bars) = (300, 2_000);
    let equal: Vec<Vec<f64>> = (0..symbols).map(|s| walk(bars, 100 + s as u64)).collect();
    compare("300 x 2,000 bars", &p, &equal, rounds);
    let mixed: Vec<Vec<f64>> = equal
        .iter()
        .enumerate()
        .map(|(s, x)| x[..bars - (s * 337) % 1_001].to_vec())
        .collect();
    compare("300 x 1,000..2,000 bars", &p, &mixed, rounds);
}
