//! Data and statistics shared by the benches.
#![allow(dead_code)]

/// A seeded geometric random walk (xorshift), prices > 0.
pub fn walk(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed | 1;
    let mut p = 100.0;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let u = (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            p *= 1.0 + 0.02 * u;
            p
        })
        .collect()
}

/// The median of `v` (sorted in place).
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
