//! Sliding windows of [`W`] symbols side by side: one ring of `[f64; W]` slots, and per
//! symbol (lane) the same sums, wraps and flat-run counts as [`crate::ma::window`]'s
//! `SumWindow` and `WeightedWindow` keep for that symbol alone. All lanes start together,
//! so the bar count, the ring position and the wraps are shared; what differs per lane
//! (the values, the flat runs) is per lane. Each lane does exactly the scalar window's
//! operations in the same order, so its sums are the scalar sums bit for bit.
// Loops index lanes `0..W` on purpose: the same form everywhere, which LLVM vectorises.
#![allow(clippy::needless_range_loop)]
use crate::codec::Enc;
use crate::ma::window::{sma_of_flat, wma_of_flat};

/// Symbols per lane group: four `f64` fill one AVX2 register.
pub const W: usize = 4;
/// One value per symbol.
pub type V = [f64; W];

pub const NAN: V = [f64::NAN; W];

/// `[f(0), .., f(W-1)]`: written as a loop over lanes, which LLVM vectorises.
#[inline(always)]
pub fn lanes(mut f: impl FnMut(usize) -> f64) -> V {
    let mut o = [0.0; W];
    for (l, v) in o.iter_mut().enumerate() {
        *v = f(l);
    }
    o
}

/// The ring of a window of `len`: preallocated to `min(len, bars)` slots (a window longer
/// than the series never fills, so never needs more), zero-filled as the scalar ring's
/// not-yet-grown slots count.
#[derive(Clone, Debug)]
pub struct Ring {
    buf: Vec<V>,
    len: usize,
    pos: usize,
}

impl Ring {
    pub fn new(len: usize, bars: usize) -> Self {
        Ring {
            buf: vec![[0.0; W]; len.min(bars).max(1)],
            len,
            pos: 0,
        }
    }
    /// Stores `x`; returns the values it replaces and whether the ring just wrapped.
    #[inline(always)]
    pub fn put(&mut self, x: V) -> (V, bool) {
        let old = std::mem::replace(&mut self.buf[self.pos], x);
        self.pos += 1;
        let wrapped = self.pos == self.len;
        if wrapped {
            self.pos = 0;
        }
        (old, wrapped)
    }
    /// The oldest values of a full ring (the ones the next `put` replaces).
    #[inline(always)]
    pub fn oldest(&self) -> V {
        self.buf[self.pos]
    }
    /// Lane `l`'s values after `seen` puts as the scalar ring saves them: all `len`
    /// slots in storage order once full, else the values so far (the ring has not
    /// wrapped, so they are `buf[..pos]`); then the position.
    pub(crate) fn save_lane(&self, l: usize, seen: u64, e: &mut Enc) {
        let held = if seen >= self.len as u64 {
            self.len
        } else {
            self.pos
        };
        e.usize(held);
        self.buf[..held].iter().for_each(|v| e.f64(v[l]));
        e.usize(self.pos);
    }
}

/// Counts of identical values in a row per lane (a window is flat when its lane's run
/// reaches the length), as the scalar windows keep them; held as `f64` (exact below
/// 2^53 bars), which AVX2 compares in one instruction.
#[derive(Clone, Debug)]
struct Runs {
    run: V,
    last: V,
    /// Whether any lane's window is flat after the last push (read by every head of it).
    any: bool,
}

impl Runs {
    fn new() -> Self {
        Runs {
            run: [0.0; W],
            last: NAN,
            any: false,
        }
    }
    /// Takes the newest values of a window of `len`.
    #[inline(always)]
    fn push(&mut self, x: V, len: usize) {
        for l in 0..W {
            // Before the first value `last` is NaN, which equals nothing.
            self.run[l] = if x[l] == self.last[l] {
                self.run[l] + 1.0
            } else {
                1.0
            };
        }
        self.last = x;
        let n = len as f64;
        self.any = self.run.iter().fold(false, |a, &r| a | (r >= n));
    }
    #[inline(always)]
    fn flat(&self, l: usize, len: usize) -> bool {
        self.run[l] >= len as f64
    }
    /// Lane `l`'s run and newest value as the scalar window holds them.
    fn lane(&self, l: usize) -> (u64, f64) {
        (self.run[l] as u64, self.last[l])
    }
}

/// The scalar `SumWindow` per lane; flat runs tracked when `RUNS`.
#[derive(Clone, Debug)]
pub struct SumWin<const RUNS: bool> {
    ring: Ring,
    seen: u64,
    sum: V,
    runs: Runs,
}

impl<const RUNS: bool> SumWin<RUNS> {
    pub fn new(len: usize, bars: usize) -> Self {
        SumWin {
            ring: Ring::new(len, bars),
            seen: 0,
            sum: [0.0; W],
            runs: Runs::new(),
        }
    }
    #[inline(always)]
    pub fn full(&self) -> bool {
        self.seen >= self.ring.len as u64
    }
    #[inline(always)]
    pub fn sum(&self) -> V {
        self.sum
    }
    /// The scalar `SumWindow::save` of lane `l`, whose run of identical values and
    /// newest value are `run` (a window without `RUNS` does not track them).
    pub(crate) fn save_lane_with(&self, l: usize, (run, last): (u64, f64), e: &mut Enc) {
        self.ring.save_lane(l, self.seen, e);
        e.u64(self.seen);
        e.f64(self.sum[l]);
        e.u64(run);
        e.f64(last);
    }
    #[inline(always)]
    pub fn push(&mut self, x: V) {
        if RUNS {
            self.runs.push(x, self.ring.len);
        }
        let (old, wrapped) = self.ring.put(x);
        self.seen += 1;
        if wrapped {
            for l in 0..W {
                self.sum[l] = self.ring.buf.iter().map(|v| v[l]).sum();
            }
        } else {
            for l in 0..W {
                self.sum[l] += x[l] - old[l];
            }
        }
    }
}

/// The scalar `WeightedWindow` per lane.
#[derive(Clone, Debug)]
pub struct WWin {
    ring: Ring,
    seen: u64,
    sum: V,
    wsum: V,
    runs: Runs,
}

impl SumWin<true> {
    /// The scalar `SumWindow::save` of lane `l`.
    pub(crate) fn save_lane(&self, l: usize, e: &mut Enc) {
        self.save_lane_with(l, self.runs.lane(l), e);
    }
}

impl WWin {
    /// The scalar `WeightedWindow::save` of lane `l`.
    pub(crate) fn save_lane(&self, l: usize, e: &mut Enc) {
        self.ring.save_lane(l, self.seen, e);
        e.u64(self.seen);
        e.f64(self.sum[l]);
        e.f64(self.wsum[l]);
        let (run, last) = self.runs.lane(l);
        e.u64(run);
        e.f64(last);
    }
    pub fn new(len: usize, bars: usize) -> Self {
        WWin {
            ring: Ring::new(len, bars),
            seen: 0,
            sum: [0.0; W],
            wsum: [0.0; W],
            runs: Runs::new(),
        }
    }
    #[inline(always)]
    pub fn length(&self) -> usize {
        self.ring.len
    }
    #[inline(always)]
    pub fn full(&self) -> bool {
        self.seen >= self.ring.len as u64
    }
    #[inline(always)]
    pub fn push(&mut self, x: V) {
        self.runs.push(x, self.ring.len);
        let n = self.ring.len as f64;
        let (old, wrapped) = self.ring.put(x);
        self.seen += 1;
        if wrapped {
            // Every lane at once, each summing its values oldest first as the scalar does.
            let (mut s, mut w) = ([0.0; W], [0.0; W]);
            for (k, v) in self.ring.buf.iter().enumerate() {
                let kf = (k + 1) as f64;
                s = lanes(|l| s[l] + v[l]);
                w = lanes(|l| w[l] + kf * v[l]);
            }
            (self.sum, self.wsum) = (s, w);
        } else {
            for l in 0..W {
                self.wsum[l] += n * x[l] - self.sum[l];
                self.sum[l] += x[l] - old[l];
            }
        }
    }
}

/// Per lane, `f(v)` for the last flat value `v` (the scalar `FlatCache`: the direct
/// formula is a loop over the window, run once per flat run).
#[derive(Clone, Debug)]
pub struct FlatCache {
    v: [u64; W],
    out: V,
}

impl Default for FlatCache {
    fn default() -> Self {
        FlatCache {
            v: [f64::NAN.to_bits(); W],
            out: NAN,
        }
    }
}

impl FlatCache {
    #[cold]
    #[inline(never)]
    fn fix(&mut self, runs: &Runs, len: usize, out: &mut V, f: fn(f64, usize) -> f64) {
        for l in 0..W {
            if runs.flat(l, len) {
                let v = runs.last[l];
                if v.to_bits() != self.v[l] {
                    self.v[l] = v.to_bits();
                    self.out[l] = f(v, len);
                }
                out[l] = self.out[l];
            }
        }
    }
}

/// The scalar `WmaHead`: the WMA of a window that has just taken its newest values.
#[derive(Clone, Debug)]
pub struct WmaHead {
    inv_denom: f64,
    flat: FlatCache,
}

impl WmaHead {
    pub fn new(len: usize) -> Self {
        WmaHead {
            inv_denom: 2.0 / (len * (len + 1)) as f64,
            flat: FlatCache::default(),
        }
    }
    /// A flat window implies a full one (a run never exceeds the values seen).
    #[inline(always)]
    pub fn value(&mut self, w: &WWin) -> V {
        if !w.full() {
            return NAN;
        }
        let mut o = lanes(|l| w.wsum[l] * self.inv_denom);
        if w.runs.any {
            self.flat.fix(&w.runs, w.length(), &mut o, wma_of_flat);
        }
        o
    }
}

/// The scalar `LsmaHead`.
#[derive(Clone, Debug)]
pub struct LsmaHead {
    inv_wdenom: f64,
    inv_len: f64,
    flat: FlatCache,
}

impl LsmaHead {
    pub fn new(len: usize) -> Self {
        LsmaHead {
            inv_wdenom: 2.0 / (len * (len + 1)) as f64,
            inv_len: 1.0 / len as f64,
            flat: FlatCache::default(),
        }
    }
    /// The LSMA of `w`, whose newest values are `x`.
    #[inline(always)]
    pub fn value(&mut self, w: &WWin, x: V) -> V {
        if w.length() == 1 {
            return x;
        }
        if !w.full() {
            return NAN;
        }
        let mut o =
            lanes(|l| 3.0 * (w.wsum[l] * self.inv_wdenom) - 2.0 * (w.sum[l] * self.inv_len));
        if w.runs.any {
            self.flat.fix(&w.runs, w.length(), &mut o, sma_of_flat);
        }
        o
    }
}

/// The scalar `Sma` (the ATC's "HMA" line when it is an SMA).
#[derive(Clone, Debug)]
pub struct Sma {
    w: SumWin<true>,
    len: usize,
    inv_len: f64,
    flat: FlatCache,
}

impl Sma {
    pub fn new(len: usize, bars: usize) -> Self {
        Sma {
            w: SumWin::new(len, bars),
            len,
            inv_len: 1.0 / len as f64,
            flat: FlatCache::default(),
        }
    }
    /// The scalar `Sma`'s saved fields of lane `l`.
    pub(crate) fn save_lane(&self, l: usize, e: &mut Enc) {
        self.w.save_lane(l, e);
    }
    #[inline(always)]
    pub fn step(&mut self, x: V) -> V {
        self.w.push(x);
        if !self.w.full() {
            return NAN;
        }
        let mut o = lanes(|l| self.w.sum[l] * self.inv_len);
        if self.w.runs.any {
            self.flat.fix(&self.w.runs, self.len, &mut o, sma_of_flat);
        }
        o
    }
}

/// The scalar `Wma` (the outer WMA of a Hull line).
#[derive(Clone, Debug)]
pub struct Wma {
    w: WWin,
    head: WmaHead,
}

impl Wma {
    pub fn new(len: usize, bars: usize) -> Self {
        Wma {
            w: WWin::new(len, bars),
            head: WmaHead::new(len),
        }
    }
    /// The scalar `Wma`'s saved fields of lane `l`.
    pub(crate) fn save_lane(&self, l: usize, e: &mut Enc) {
        self.w.save_lane(l, e);
    }
    #[inline(always)]
    pub fn step(&mut self, x: V) -> V {
        self.w.push(x);
        self.head.value(&self.w)
    }
}
