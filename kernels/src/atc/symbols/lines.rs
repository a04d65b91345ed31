//! The 54 lines of the ATC for [`W`] symbols side by side: each line kernel of
//! [`crate::ma`] rewritten over `[f64; W]` with the same operations in the same order
//! per lane (no fused multiply-add, no reassociation), so each lane's line equals the
//! scalar kernel's over that symbol bit for bit.
//!
//! Control flow is shared by the lanes: it depends on the bar count (warm-ups, ring
//! wraps), which all lanes share, except where a line value could be NaN after its
//! warm-up (a window sum overflowing near the float limit): the group takes only
//! prices at most [`super::LANE_MAX`], where no sum can overflow, so that never happens.
//! Flat windows differ per lane and are handled per lane ([`super::window`]).
use super::state::{run_of, window_sum};
use super::window::{lanes, LsmaHead, Ring, Sma, SumWin, WWin, Wma, WmaHead, NAN, V, W};
use crate::atc::lanes::LENS;
use crate::atc::params::{AtcParams, HmaKind, MaType};
use crate::codec::Enc;
use crate::ma::ema::ema_alpha;
use crate::ma::hma::sqrt_len;
use crate::ma::kama::{FAST, SLOW};

/// Lines per bar (6 types x 9 lengths), type-major: line `k` of type `t` at `t*9 + k`.
pub const LINES: usize = 54;

/// The scalar `EmaCore`.
#[derive(Clone, Debug)]
struct Ema {
    len: u64,
    a: f64,
    b: f64,
    seen: u64,
    seed: V,
    y: V,
}

impl Ema {
    fn new(len: usize) -> Self {
        let a = ema_alpha(len);
        Ema {
            len: len as u64,
            a,
            b: 1.0 - a,
            seen: 0,
            seed: [0.0; W],
            y: NAN,
        }
    }
    #[inline(always)]
    fn step(&mut self, x: V) -> V {
        if self.seen >= self.len {
            self.y = lanes(|l| self.a * x[l] + self.b * self.y[l]);
        } else {
            self.seed = lanes(|l| self.seed[l] + x[l]);
            if self.seen + 1 == self.len {
                self.y = lanes(|l| self.seed[l] / self.len as f64);
            }
        }
        self.seen += 1;
        self.y
    }
    /// The scalar `EmaCore::save_fields` of lane `l`.
    fn save_lane(&self, l: usize, e: &mut Enc) {
        e.u64(self.seen);
        e.f64(self.seed[l]);
        e.f64(self.y[l]);
    }
}

/// The scalar `Dema`.
#[derive(Clone, Debug)]
struct Dema {
    e1: Ema,
    e2: Ema,
}

impl Dema {
    #[inline(always)]
    fn step(&mut self, x: V) -> V {
        let e1 = self.e1.step(x);
        // NaN in every lane or none (see the module note).
        if e1[0].is_nan() {
            return NAN;
        }
        let e2 = self.e2.step(e1);
        lanes(|l| 2.0 * e1[l] - e2[l])
    }
}

/// The scalar `Kama` (the ATC variant). Of its price window only the oldest value is
/// read, so it keeps the ring alone.
#[derive(Clone, Debug)]
struct Kama {
    len: u64,
    seen: u64,
    xs: Ring,
    diffs: SumWin<false>,
    prev: V,
    y: V,
}

impl Kama {
    fn new(len: usize, bars: usize) -> Self {
        Kama {
            len: len as u64,
            seen: 0,
            xs: Ring::new(len + 1, bars),
            diffs: SumWin::new(len, bars),
            prev: NAN,
            y: NAN,
        }
    }
    #[inline(always)]
    fn step(&mut self, x: V) -> V {
        let i = self.seen;
        self.xs.put(x);
        self.seen += 1;
        if i == 0 {
            self.y = x;
        } else {
            self.diffs.push(lanes(|l| (x[l] - self.prev[l]).abs()));
            if i >= self.len {
                let old = self.xs.oldest();
                let noise = self.diffs.sum();
                self.y = lanes(|l| {
                    let signal = (x[l] - old[l]).abs();
                    // Divided in every lane (no trap on 0), kept where the scalar divides.
                    let q = signal / noise[l];
                    let ratio = if noise[l] != 0.0 { q } else { 0.0 };
                    let sc = ratio * (FAST - SLOW) + SLOW;
                    let sc = sc * sc;
                    self.y[l] + sc * (x[l] - self.y[l])
                });
            }
        }
        self.prev = x;
        self.y
    }
    /// The scalar `Kama::save_fields` of lane `l`, whose prices so far are `x`. The
    /// price window's sum and both windows' runs of identical values are not kept here
    /// (nothing reads them), so they are derived from `x` as the scalar windows made them.
    fn save_lane(&self, l: usize, x: &[f64], e: &mut Enc) {
        debug_assert_eq!(x.len() as u64, self.seen);
        self.xs.save_lane(l, self.seen, e);
        e.u64(self.seen);
        e.f64(window_sum(x, self.len as usize + 1));
        let (run, last) = run_of(x.iter().copied());
        e.u64(run);
        e.f64(last);
        let diffs = (1..x.len()).map(|i| (x[i] - x[i - 1]).abs());
        self.diffs.save_lane_with(l, run_of(diffs), e);
        e.f64(self.prev[l]);
        e.f64(self.y[l]);
    }
}

/// A Hull line over the shared windows: its half and full WMAs read windows `half.0`
/// and `full.0`.
#[derive(Clone, Debug)]
struct Hull {
    half: (usize, WmaHead),
    full: (usize, WmaHead),
    outer: Wma,
}

#[derive(Clone, Debug)]
enum HmaLines {
    Hull(Vec<Hull>),
    Sma(Vec<Sma>),
}

/// Every line of the ATC for `W` symbols.
#[derive(Clone, Debug)]
pub struct Lines {
    ema: Vec<Ema>,
    dema: Vec<Dema>,
    kama: Vec<Kama>,
    hma: HmaLines,
    /// One weighted window per distinct length read by WMA, LSMA and Hull lines.
    wins: Vec<WWin>,
    lens: Vec<usize>,
    wma: Vec<(usize, WmaHead)>,
    lsma: Vec<(usize, LsmaHead)>,
}

impl Lines {
    /// The lines of `p` for a group that runs at most `bars` bars.
    pub fn new(p: &AtcParams, bars: usize) -> Self {
        let lens = |t| p.lengths_of(t).map(|l| l as usize);
        let mut s = Lines {
            ema: lens(MaType::Ema).iter().map(|&l| Ema::new(l)).collect(),
            dema: lens(MaType::Dema)
                .iter()
                .map(|&l| Dema {
                    e1: Ema::new(l),
                    e2: Ema::new(l),
                })
                .collect(),
            kama: lens(MaType::Kama)
                .iter()
                .map(|&l| Kama::new(l, bars))
                .collect(),
            hma: HmaLines::Sma(Vec::new()),
            wins: Vec::new(),
            lens: Vec::new(),
            wma: Vec::new(),
            lsma: Vec::new(),
        };
        for l in lens(MaType::Wma) {
            let w = s.window(l, bars);
            s.wma.push((w, WmaHead::new(l)));
        }
        for l in lens(MaType::Lsma) {
            let w = s.window(l, bars);
            s.lsma.push((w, LsmaHead::new(l)));
        }
        s.hma = match p.hma {
            HmaKind::Sma => HmaLines::Sma(
                lens(MaType::Hma)
                    .iter()
                    .map(|&l| Sma::new(l, bars))
                    .collect(),
            ),
            HmaKind::Hull => {
                let mut hull = Vec::new();
                for l in lens(MaType::Hma) {
                    let h = (l / 2).max(1);
                    hull.push(Hull {
                        half: (s.window(h, bars), WmaHead::new(h)),
                        full: (s.window(l, bars), WmaHead::new(l)),
                        outer: Wma::new(sqrt_len(l), bars),
                    });
                }
                HmaLines::Hull(hull)
            }
        };
        s
    }

    /// The index of the window of length `len`, made on first use.
    fn window(&mut self, len: usize, bars: usize) -> usize {
        if let Some(i) = self.lens.iter().position(|&l| l == len) {
            return i;
        }
        self.lens.push(len);
        self.wins.push(WWin::new(len, bars));
        self.lens.len() - 1
    }

    /// Lane `l`'s lines as the scalar ATC saves them: type by type in [`MaType::ALL`]
    /// order, each line as its scalar kernel's `save_fields` (a line over shared windows
    /// writes each of its windows); `x` is that lane's series so far.
    pub(crate) fn save_lane(&self, l: usize, x: &[f64], e: &mut Enc) {
        let wins = |w: &usize, e: &mut Enc| self.wins[*w].save_lane(l, e);
        for t in MaType::ALL {
            match t {
                MaType::Ema => self.ema.iter().for_each(|m| m.save_lane(l, e)),
                MaType::Hma => match &self.hma {
                    HmaLines::Sma(lines) => lines.iter().for_each(|m| m.save_lane(l, e)),
                    HmaLines::Hull(hull) => hull.iter().for_each(|h| {
                        wins(&h.half.0, e);
                        wins(&h.full.0, e);
                        h.outer.save_lane(l, e);
                    }),
                },
                MaType::Wma => self.wma.iter().for_each(|(w, _)| wins(w, e)),
                MaType::Dema => self.dema.iter().for_each(|d| {
                    d.e1.save_lane(l, e);
                    d.e2.save_lane(l, e);
                }),
                MaType::Lsma => self.lsma.iter().for_each(|(w, _)| wins(w, e)),
                MaType::Kama => self.kama.iter().for_each(|k| k.save_lane(l, x, e)),
            }
        }
    }

    /// Continues every line over `x`: line `k` of type `t` at bar `j` goes to
    /// `m[j*LINES + t*9 + k]`.
    pub fn run(&mut self, x: &[V], m: &mut [V]) {
        let at = |t: MaType, k: usize| t as usize * LENS + k;
        // Lines with their own state go bar by bar with a type's 9 lines side by side, as
        // the scalar path's banks do: their recurrences are independent, so their
        // latencies overlap.
        macro_rules! sweep {
            ($lines:expr, $t:expr) => {
                let c = at($t, 0);
                for (j, &v) in x.iter().enumerate() {
                    let row = &mut m[j * LINES + c..j * LINES + c + LENS];
                    for (o, line) in row.iter_mut().zip($lines.iter_mut()) {
                        *o = line.step(v);
                    }
                }
            };
        }
        sweep!(self.ema, MaType::Ema);
        sweep!(self.dema, MaType::Dema);
        sweep!(self.kama, MaType::Kama);
        if let HmaLines::Sma(lines) = &mut self.hma {
            sweep!(lines, MaType::Hma);
        }
        // Lines over shared windows go bar by bar: every window takes the bar, then the
        // heads read them.
        for (j, &v) in x.iter().enumerate() {
            for w in self.wins.iter_mut() {
                w.push(v);
            }
            let (wins, row) = (&self.wins, &mut m[j * LINES..(j + 1) * LINES]);
            for (k, (w, head)) in self.wma.iter_mut().enumerate() {
                row[at(MaType::Wma, k)] = head.value(&wins[*w]);
            }
            for (k, (w, head)) in self.lsma.iter_mut().enumerate() {
                row[at(MaType::Lsma, k)] = head.value(&wins[*w], v);
            }
            if let HmaLines::Hull(hull) = &mut self.hma {
                for (k, h) in hull.iter_mut().enumerate() {
                    // As the scalar `Hma::step`; `f` is NaN in every lane or none.
                    let hv = h.half.1.value(&wins[h.half.0]);
                    let f = h.full.1.value(&wins[h.full.0]);
                    row[at(MaType::Hma, k)] = if f[0].is_nan() {
                        NAN
                    } else {
                        h.outer.step(lanes(|l| 2.0 * hv[l] - f[l]))
                    };
                }
            }
        }
    }
}
