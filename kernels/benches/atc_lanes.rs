//! The ATC's scalar path against its lane path in one process, interleaved round
//! by round so a loaded machine slows both alike: M bars/s of each and their ratio
//! (median over rounds); then `atc_batch` of 300 x 2,000 bars on one thread (per
//! core) with symbols in lanes against each symbol alone on either path.
//! `cargo bench --no-default-features --bench atc_lanes [-- BARS ROUNDS]`
mod common;

use barstream_kernels::atc::{atc_batch_on, Atc, AtcParams, BatchPath, Path, NCOL};
use common::{median, walk};
use std::hint::black_box;
use std::time::Instant;

/// Seconds for one symbol's ATC over `x` on `path`, best of `reps`.
fn once(p: &AtcParams, path: Path, x: &[f64], out: &mut [f64], reps: usize) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..reps {
        let t = Instant::now();
        let mut cols: Vec<&mut [f64]> = out.chunks_mut(x.len()).collect();
        Atc::with_path(p, path)
            .expect("atc")
            .update(black_box(x), (&mut cols[..]).try_into().expect("14"))
            .expect("atc");
        best = best.min(t.elapsed().as_secs_f64());
    }
    best
}

fn main() {
    // `cargo bench` passes `--bench`; numbers after it are BARS and ROUNDS.
    let nums: Vec<usize> = std::env::args().filter_map(|a| a.parse().ok()).collect();
    let bars = nums.first().copied().unwrap_or(5_000);
    let rounds = nums.get(1).copied().unwrap_or(15);
    let p = AtcParams::default();
    let x = walk(bars, 12);
    let mut out = vec![0.0; NCOL * bars];
    let (mut sc, mut ln, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..rounds {
        // Alternate which path goes first.
        let (a, b) = if r % 2 == 0 {
            let a = once(&p, Path::Scalar, &x, &mut out, 3);
            (a, once(&p, Path::Lanes, &x, &mut out, 3))
        } else {
            let b = once(&p, Path::Lanes, &x, &mut out, 3);
            (once(&p, Path::Scalar, &x, &mut out, 3), b)
        };
        sc.push(bars as f64 / a / 1e6);
        ln.push(bars as f64 / b / 1e6);
        ratio.push(a / b);
    }
    println!(
        "atc one symbol, {bars} bars, {rounds} rounds: scalar {:.2} M bars/s, lanes {:.2} M bars/s, lanes/scalar {:.3}x (medians)",
        median(&mut sc),
        median(&mut ln),
        median(&mut ratio)
    );
    batch(&p, rounds);
}

/// `atc_batch_on` of 300 x 2,000 bars on a one-thread pool: M bars/s per core of each
/// path and the symbol lanes' ratio to the others (medians over interleaved rounds).
fn batch(p: &AtcParams, rounds: usize) {
    let (symbols, bars) = (300, 2_000);
    let closes: Vec<f64> = (0..symbols)
        .flat_map(|s| walk(bars, 100 + s as u64))
        .collect();
    let offsets: Vec<i32> = (0..=symbols).map(|s| (s * bars) as i32).collect();
    let mut out = vec![0.0; NCOL * closes.len()];
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let paths = [
        ("symbols", BatchPath::Symbols),
        ("lanes", BatchPath::Each(Path::Lanes)),
        ("scalar", BatchPath::Each(Path::Scalar)),
    ];
    let mut secs = vec![Vec::new(); paths.len()];
    for r in 0..rounds.div_ceil(3) {
        for k in 0..paths.len() {
            let k = (k + r) % paths.len();
            let t = Instant::now();
            pool.install(|| atc_batch_on(black_box(&closes), &offsets, p, paths[k].1, &mut out))
                .expect("batch");
            secs[k].push(t.elapsed().as_secs_f64());
        }
    }
    let n = closes.len() as f64;
    let rate: Vec<f64> = secs
        .iter()
        .map(|s| n / median(&mut s.clone()) / 1e6)
        .collect();
    let ratio = |k: usize| {
        let mut v: Vec<f64> = secs[k].iter().zip(&secs[0]).map(|(a, b)| a / b).collect();
        median(&mut v)
    };
    println!(
        "atc_batch {symbols} x {bars}, 1 thread: symbols {:.2}, lanes {:.2}, scalar {:.2} M bars/s; \
         symbols/lanes {:.2}x, symbols/scalar {:.2}x (medians)",
        rate[0],
        rate[1],
        rate[2],
        ratio(1),
        ratio(2)
    );
}
