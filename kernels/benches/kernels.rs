//! Bars/s per kernel on seeded data: each indicator over 1M bars, the ATC over
//! 5,000 bars per symbol (one symbol, and a batch of 64 on the thread pool).
//! `cargo bench --no-default-features --bench kernels`
mod common;

use barstream_kernels::atc::{atc_batch, Atc, AtcParams, Equity, EquityParams, Trend, NCOL};
use barstream_kernels::kernel::{compute, Kernel};
use barstream_kernels::ma::{Dema, Ema, Hma, Kama, Lsma, Rma, Sma, Wma};
use barstream_kernels::osc::{Bollinger, BollingerParams, Roc, Rsi};
use common::walk;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

fn ma<K: Kernel<Params = usize>>(c: &mut Criterion, name: &str, x: &[f64]) {
    let mut g = c.benchmark_group("indicator_1M");
    g.throughput(Throughput::Elements(x.len() as u64));
    let mut out = vec![0.0; x.len()];
    g.bench_function(BenchmarkId::new(name, 28), |b| {
        b.iter(|| {
            let mut k = K::new(&28).expect("params");
            k.update(black_box(x), &mut out).expect("update");
        })
    });
    g.finish();
}

fn indicators(c: &mut Criterion) {
    let x = walk(1_000_000, 11);
    ma::<Sma>(c, "sma", &x);
    ma::<Ema>(c, "ema", &x);
    ma::<Rma>(c, "rma", &x);
    ma::<Wma>(c, "wma", &x);
    ma::<Dema>(c, "dema", &x);
    ma::<Hma>(c, "hma", &x);
    ma::<Lsma>(c, "lsma", &x);
    ma::<Kama>(c, "kama", &x);
    ma::<Rsi>(c, "rsi", &x);
    let n = x.len();
    let mut g = c.benchmark_group("indicator_1M");
    g.throughput(Throughput::Elements(n as u64));
    let mut out = vec![0.0; n];
    g.bench_function("roc", |b| {
        b.iter(|| Roc::default().update(black_box(&x), &mut out).expect("roc"))
    });
    let (mut m, mut u, mut l) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let bp = BollingerParams { length: 20, k: 2.0 };
    g.bench_function("bollinger/20", |b| {
        b.iter(|| {
            Bollinger::new(&bp)
                .expect("bb")
                .update(black_box(&x), &mut m, &mut u, &mut l)
                .expect("bb")
        })
    });
    let line = compute::<Ema>(&28, &x).expect("ema");
    g.bench_function("trend_state", |b| {
        b.iter(|| {
            Trend::new()
                .update(black_box(&x), &line, &mut out)
                .expect("trend")
        })
    });
    let mut s = vec![0.0; n];
    Trend::new().update(&x, &line, &mut s).expect("trend");
    let r = compute::<Roc>(&(), &x).expect("roc");
    let ep = EquityParams {
        start: 1.0,
        lambda: 0.02,
        decay: 0.03,
        cutout: 0,
    };
    g.bench_function("equity", |b| {
        b.iter(|| {
            Equity::new(&ep)
                .expect("eq")
                .update(black_box(&s), &r, &mut out)
                .expect("eq")
        })
    });
    g.finish();
}

fn atc(c: &mut Criterion) {
    let p = AtcParams::default();
    let bars = 5_000;
    let mut g = c.benchmark_group("atc");
    let x = walk(bars, 12);
    let mut out = vec![0.0; NCOL * bars];
    g.throughput(Throughput::Elements(bars as u64));
    g.bench_function("one_symbol_5000", |b| {
        b.iter(|| {
            let mut cols: Vec<&mut [f64]> = out.chunks_mut(bars).collect();
            Atc::new(&p)
                .expect("atc")
                .update(black_box(&x), (&mut cols[..]).try_into().expect("14"))
                .expect("atc")
        })
    });
    let symbols = 64;
    let closes: Vec<f64> = (0..symbols)
        .flat_map(|s| walk(bars, 100 + s as u64))
        .collect();
    let offsets: Vec<i32> = (0..=symbols).map(|s| (s * bars) as i32).collect();
    let mut out = vec![0.0; NCOL * closes.len()];
    g.throughput(Throughput::Elements(closes.len() as u64));
    g.bench_function(
        format!(
            "batch_{symbols}x{bars}_{}_threads",
            rayon::current_num_threads()
        ),
        |b| b.iter(|| atc_batch(black_box(&closes), &offsets, &p, &mut out).expect("batch")),
    );
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = indicators, atc
}
criterion_main!(benches);
