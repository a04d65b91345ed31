//! The ATC's WMA, LSMA and Hull lines over shared windows of the price.
//!
//! A WMA, an LSMA and the full WMA of a Hull line of the same length all keep the
//! same [`WeightedWindow`] of `x` (same values, same wrap points, same sums), and
//! the Hull halves repeat lengths too; here each distinct length has one window,
//! pushed once per bar, and every line reads its value from it with the head its
//! scalar kernel uses ([`WmaHead`], [`LsmaHead`]). The arithmetic is the scalar
//! kernels' own, so the lines agree with them bit for bit.
//!
//! Saved state keeps the scalar kernels' layout (each line writes its windows), so
//! a state reads the same whether or not lines share windows.
use super::lanes::Layout;
use super::params::{AtcParams, HmaKind, MaType};
use crate::codec::{Dec, Enc};
use crate::ma::hma::sqrt_len;
use crate::ma::window::WeightedWindow;
use crate::ma::{LsmaHead, Wma, WmaHead};
use crate::Result;

#[derive(Clone, Debug)]
struct HullLine {
    half: (usize, WmaHead),
    full: (usize, WmaHead),
    outer: Wma,
}

#[derive(Clone, Debug)]
pub struct Shared {
    /// One window per distinct length, and that length.
    wins: Vec<WeightedWindow>,
    lens: Vec<usize>,
    wma: Vec<(usize, WmaHead)>,
    lsma: Vec<(usize, LsmaHead)>,
    /// Empty when the HMA type is an SMA.
    hull: Vec<HullLine>,
}

impl Shared {
    /// Whether type `t` runs here (otherwise it runs in its own [`super::line::Bank`]).
    pub fn handles(t: MaType, hma: HmaKind) -> bool {
        matches!(t, MaType::Wma | MaType::Lsma) || (t == MaType::Hma && hma == HmaKind::Hull)
    }

    pub fn new(p: &AtcParams) -> Self {
        let mut s = Shared {
            wins: Vec::new(),
            lens: Vec::new(),
            wma: Vec::new(),
            lsma: Vec::new(),
            hull: Vec::new(),
        };
        for l in p.lengths_of(MaType::Wma) {
            let l = l as usize;
            let w = s.window(l);
            s.wma.push((w, WmaHead::with_len(l)));
        }
        for l in p.lengths_of(MaType::Lsma) {
            let l = l as usize;
            let w = s.window(l);
            s.lsma.push((w, LsmaHead::with_len(l)));
        }
        if p.hma == HmaKind::Hull {
            for l in p.lengths_of(MaType::Hma) {
                let l = l as usize;
                let h = (l / 2).max(1);
                let half = (s.window(h), WmaHead::with_len(h));
                let full = (s.window(l), WmaHead::with_len(l));
                s.hull.push(HullLine {
                    half,
                    full,
                    outer: Wma::with_len(sqrt_len(l)),
                });
            }
        }
        s
    }

    /// The index of the window of length `len`, made on first use.
    fn window(&mut self, len: usize) -> usize {
        if let Some(i) = self.lens.iter().position(|&l| l == len) {
            return i;
        }
        self.lens.push(len);
        self.wins.push(WeightedWindow::new(len));
        self.lens.len() - 1
    }

    /// Continues every line over `x`: line `k` of type `t` at bar `j` goes to
    /// `out[j*stride + layout.at(t, k)]`.
    #[inline(always)]
    pub fn run(&mut self, x: &[f64], out: &mut [f64], stride: usize, layout: Layout) {
        for w in self.wins.iter_mut() {
            w.reserve(x.len());
        }
        for l in self.hull.iter_mut() {
            l.outer.reserve(x.len());
        }
        let (wma, lsma, hull) = (
            layout.base(MaType::Wma as usize),
            layout.base(MaType::Lsma as usize),
            layout.base(MaType::Hma as usize),
        );
        let step = layout.step();
        for (j, &v) in x.iter().enumerate() {
            for w in self.wins.iter_mut() {
                w.push(v);
            }
            let wins = &self.wins;
            let row = &mut out[j * stride..(j + 1) * stride];
            for (o, (w, head)) in row[wma..].iter_mut().step_by(step).zip(self.wma.iter_mut()) {
                *o = head.value(&wins[*w]);
            }
            for (o, (w, head)) in row[lsma..]
                .iter_mut()
                .step_by(step)
                .zip(self.lsma.iter_mut())
            {
                *o = head.value(&wins[*w], v);
            }
            for (o, l) in row[hull..]
                .iter_mut()
                .step_by(step)
                .zip(self.hull.iter_mut())
            {
                // As `Hma::step`.
                let h = l.half.1.value(&wins[l.half.0]);
                let f = l.full.1.value(&wins[l.full.0]);
                *o = if f.is_nan() {
                    f64::NAN
                } else {
                    l.outer.step(2.0 * h - f)
                };
            }
        }
    }

    /// Type `t`'s lines as their scalar kernels save them.
    pub fn save(&self, t: MaType, e: &mut Enc) {
        match t {
            MaType::Wma => self.wma.iter().for_each(|(w, _)| self.wins[*w].save(e)),
            MaType::Lsma => self.lsma.iter().for_each(|(w, _)| self.wins[*w].save(e)),
            MaType::Hma => self.hull.iter().for_each(|l| {
                self.wins[l.half.0].save(e);
                self.wins[l.full.0].save(e);
                l.outer.save_fields(e);
            }),
            _ => unreachable!("not a shared type"),
        }
    }

    /// Reads type `t`'s lines (saved by [`Shared::save`]); a window shared by several
    /// lines takes the first copy read (all copies are equal).
    ///
    /// # Errors
    /// `InvalidParam` when the bytes are not such a state.
    pub fn load(&mut self, t: MaType, d: &mut Dec, seen: &mut Vec<bool>) -> Result<()> {
        seen.resize(self.wins.len(), false);
        let mut take = |s: &mut Self, w: usize, d: &mut Dec| -> Result<()> {
            let win = WeightedWindow::load(s.lens[w], d)?;
            if !seen[w] {
                s.wins[w] = win;
                seen[w] = true;
            }
            Ok(())
        };
        match t {
            MaType::Wma => {
                for k in 0..self.wma.len() {
                    let w = self.wma[k].0;
                    take(self, w, d)?;
                }
            }
            MaType::Lsma => {
                for k in 0..self.lsma.len() {
                    let w = self.lsma[k].0;
                    take(self, w, d)?;
                }
            }
            MaType::Hma => {
                for k in 0..self.hull.len() {
                    let (h, f) = (self.hull[k].half.0, self.hull[k].full.0);
                    take(self, h, d)?;
                    take(self, f, d)?;
                    let n = self.hull[k].outer.length();
                    self.hull[k].outer = Wma::load_fields(n, d)?;
                }
            }
            _ => unreachable!("not a shared type"),
        }
        Ok(())
    }
}
