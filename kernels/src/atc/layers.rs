//! The ATC pipeline over one symbol, resumable.
//!
//! Per bar: for each type T and each of its 9 lengths, line `m`, trend state `s`
//! and equity `E`; Layer 1 `T_Signal = round2(sum(s*E)/sum(E))`; Layer 2
//! `T_S = eq(weight_T, T_Signal, R)`; `Average_Signal` over the types; events.
//!
//! Work runs over blocks of [`BLOCK`] bars: the 9 lines of each type sweep the
//! block side by side (one dispatch per block, data in L1), then one pass per
//! bar steps the 54 trends and equities ([`Fused`]), Layer 1, Layer 2 and the
//! average. The return scaling `R*exp(la*(i-cutout))` is computed once per bar
//! for all 60 equity curves.
use super::equity::{Equity, EquityParams};
use super::fused::{Bar, Fused, Phase, LINES};
use super::lanes::{self, Layer2, Layout, TYPES};
use super::line::Bank;
use super::params::{AtcParams, MaType, KERNEL};
use super::shared::Shared;
use crate::codec::{Dec, Enc};
use crate::kernel::{check_out, check_prices, Kernel};
use crate::osc::Roc;
use crate::Result;

/// Output columns, in the order of [`Atc::update`]'s `out`.
pub const COLUMNS: [&str; 14] = [
    "Average_Signal",
    "EMA_Signal",
    "HMA_Signal",
    "WMA_Signal",
    "DEMA_Signal",
    "LSMA_Signal",
    "KAMA_Signal",
    "EMA_S",
    "HMA_S",
    "WMA_S",
    "DEMA_S",
    "LSMA_S",
    "KAMA_S",
    "Event",
];
pub const NCOL: usize = COLUMNS.len();
const AVG: usize = 0;
const SIG: usize = 1;
const S: usize = 7;
const EVENT: usize = 13;

/// Bars per sweep.
pub const BLOCK: usize = 256;

/// `sign(v)*floor(abs(v*100)+0.5)/100`: two decimals, ties away from zero.
#[inline]
pub fn round2(v: f64) -> f64 {
    let t = (v * 100.0).abs() + 0.5;
    // For 0 <= t < 2^52 truncation is floor (and needs no libm call); NaN takes floor.
    let f = if t < 4.0e15 {
        t as i64 as f64
    } else {
        t.floor()
    };
    let r = f / 100.0;
    if v < 0.0 {
        -r
    } else {
        r
    }
}

#[derive(Clone, Debug)]
struct Scratch {
    rr: Vec<f64>,
    /// The 54 lines, `BLOCK` bars each: line `l` at bar `j` is `m[j*54 + l]`.
    m: Vec<f64>,
}

impl Scratch {
    fn new() -> Self {
        let v = || vec![0.0; BLOCK];
        Scratch {
            rr: v(),
            m: vec![0.0; 54 * BLOCK],
        }
    }
}

/// Which per-bar tail runs (both give the same values bit for bit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// Type by type: the reference.
    Scalar,
    /// The six types in vector lanes ([`lanes`]); the default.
    Lanes,
}

/// Layer 2's six equities, as the path steps them.
#[derive(Clone, Debug)]
enum Tail {
    Scalar(Vec<Equity>),
    Lanes(Layer2),
}

#[derive(Clone, Debug)]
pub struct Atc {
    p: AtcParams,
    la: f64,
    cutout: u64,
    n: u64,
    roc: Roc,
    /// One bank of 9 lines per type that does not share windows, with the type's index.
    banks: Vec<(usize, Bank)>,
    /// WMA, LSMA and Hull lines over shared windows.
    shared: Shared,
    /// The 54 trends and equities, laid out for the path.
    fused: Fused,
    tail: Tail,
    prev_avg: f64,
    last_event: f64,
    scratch: Scratch,
}

impl Atc {
    /// # Errors
    /// `InvalidParam` naming the parameter (see [`AtcParams::validate`]).
    pub fn new(p: &AtcParams) -> Result<Self> {
        Atc::with_path(p, Path::Lanes)
    }

    /// An ATC that runs `path` (see [`Path`]).
    ///
    /// # Errors
    /// `InvalidParam` naming the parameter (see [`AtcParams::validate`]).
    pub fn with_path(p: &AtcParams, path: Path) -> Result<Self> {
        p.validate()?;
        let banks = MaType::ALL
            .iter()
            .filter(|&&t| !Shared::handles(t, p.hma))
            .map(|&t| (t as usize, Bank::new(t, p.hma, &lens(p, t))))
            .collect();
        let eq = |start| EquityParams {
            start,
            lambda: p.lambda,
            decay: p.decay,
            cutout: p.cutout,
        };
        let layer2 = p
            .weights
            .iter()
            .map(|&w| Equity::new(&eq(w)))
            .collect::<Result<Vec<_>>>()?;
        let (tail, layout) = match path {
            Path::Scalar => (Tail::Scalar(layer2), Layout::TypeMajor),
            Path::Lanes => (
                Tail::Lanes(Layer2::new(&p.weights, p.decay)),
                Layout::LengthMajor,
            ),
        };
        Ok(Atc {
            p: p.clone(),
            la: p.lambda / 1000.0,
            cutout: p.cutout as u64,
            n: 0,
            roc: Roc::default(),
            banks,
            shared: Shared::new(p),
            fused: Fused::new(layout),
            tail,
            prev_avg: f64::NAN,
            last_event: 0.0,
            scratch: Scratch::new(),
        })
    }

    pub fn params(&self) -> &AtcParams {
        &self.p
    }

    pub fn bars(&self) -> u64 {
        self.n
    }

    pub fn path(&self) -> Path {
        match self.tail {
            Tail::Scalar(_) => Path::Scalar,
            Tail::Lanes(_) => Path::Lanes,
        }
    }

    /// Continues the series with `x`; `out[c]` receives column [`COLUMNS`]`[c]`, one
    /// value per input.
    ///
    /// # Errors
    /// `BadInput` naming the index of a price that is not finite and > 0 (the state
    /// is then unchanged); `InvalidParam` when an output column is not as long as `x`.
    pub fn update(&mut self, x: &[f64], out: &mut [&mut [f64]; NCOL]) -> Result<()> {
        for o in out.iter() {
            check_out(x.len(), o.len())?;
        }
        check_prices(x, self.n, true)?;
        let mut lo = 0;
        while lo < x.len() {
            let hi = (lo + BLOCK).min(x.len());
            match self.tail {
                Tail::Scalar(_) => self.block::<false>(&x[lo..hi], lo, out),
                Tail::Lanes(_) => self.block::<true>(&x[lo..hi], lo, out),
            }
            lo = hi;
        }
        Ok(())
    }

    /// One block on the path `LANES` names (a constant, so the layout folds into
    /// the line loops' indexing).
    fn block<const LANES: bool>(&mut self, x: &[f64], at: usize, out: &mut [&mut [f64]; NCOL]) {
        let layout = if LANES {
            Layout::LengthMajor
        } else {
            Layout::TypeMajor
        };
        let nb = x.len();
        let (rr, m) = (&mut self.scratch.rr[..nb], &mut self.scratch.m[..]);
        for (j, (r, &v)) in rr.iter_mut().zip(x).enumerate() {
            *r = Equity::scaled_return(self.la, self.cutout, self.n + j as u64, self.roc.step(v));
        }
        for (t, bank) in self.banks.iter_mut() {
            bank.run(x, &mut m[layout.base(*t)..], LINES, layout.step());
        }
        self.shared.run(x, m, LINES, layout);
        let keep = 1.0 - self.p.decay / 100.0;
        let cut = self.p.cut;
        let (lt, st) = (self.p.long_threshold, self.p.short_threshold);
        for (j, &xj) in x.iter().enumerate() {
            let i = self.n + j as u64;
            let phase = match i.cmp(&self.cutout) {
                std::cmp::Ordering::Less => Phase::Before,
                std::cmp::Ordering::Equal => Phase::At,
                std::cmp::Ordering::Greater => Phase::After,
            };
            let bar = Bar {
                x: xj,
                rr: rr[j],
                keep,
                phase,
            };
            if j == 0 {
                let pm = *self.fused.prev_lines();
                self.fused.bar(bar, &m[..LINES], &pm);
            } else {
                let (prev, now) = m[(j - 1) * LINES..(j + 1) * LINES].split_at(LINES);
                self.fused.bar(bar, now, prev);
            }
            let (s, e) = (self.fused.sig(), self.fused.eq());
            let (mut nu, mut de) = (0.0, 0.0);
            let mut avg_term = |t: usize, g: f64, w: f64| {
                out[SIG + t][at + j] = g;
                out[S + t][at + j] = w;
                if !g.is_nan() && !w.is_nan() {
                    let c = if g > cut {
                        1.0
                    } else if g < -cut {
                        -1.0
                    } else {
                        0.0
                    };
                    nu += c * w;
                    de += w;
                }
            };
            match &mut self.tail {
                Tail::Lanes(l2) => {
                    let g = lanes::layer1(s, e);
                    let w = l2.step(&g, rr[j], phase);
                    // `Average_Signal` sums over the types in order, as the scalar path.
                    for t in 0..TYPES {
                        avg_term(t, g[t], w[t]);
                    }
                }
                Tail::Scalar(l2) => {
                    for (t, q) in l2.iter_mut().enumerate() {
                        // Layer 1: sums in length order.
                        let (mut num, mut den) = (0.0, 0.0);
                        for l in t * 9..t * 9 + 9 {
                            num += s[l] * e[l];
                            den += e[l];
                        }
                        let g = round2(num / den);
                        let w = q.step_scaled(g, rr[j]);
                        avg_term(t, g, w);
                    }
                }
            }
            let avg = if de == 0.0 { 0.0 } else { nu / de };
            out[AVG][at + j] = avg;
            let p = self.prev_avg;
            let ev = if avg > lt && p <= lt && self.last_event != 1.0 {
                1.0
            } else if avg < st && p >= st && self.last_event == 1.0 {
                -1.0
            } else {
                0.0
            };
            if ev != 0.0 {
                self.last_event = ev;
            }
            out[EVENT][at + j] = ev;
            self.prev_avg = avg;
        }
        if nb > 0 {
            self.fused.set_prev_lines(&m[(nb - 1) * LINES..nb * LINES]);
        }
        self.n += nb as u64;
    }

    /// The carried state as bytes (parameters first, checked on restore).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Enc::new(KERNEL);
        save_params(&self.p, &mut e);
        e.u64(self.n);
        self.roc.save(&mut e);
        let mut banks = self.banks.iter();
        for t in MaType::ALL {
            if Shared::handles(t, self.p.hma) {
                self.shared.save(t, &mut e);
            } else {
                banks.next().expect("a bank per type").1.save(&mut e);
            }
        }
        self.fused.save(&mut e);
        match &self.tail {
            Tail::Scalar(l2) => l2.iter().for_each(|q| q.save_fields(&mut e)),
            Tail::Lanes(l2) => l2.save(self.n, &mut e),
        }
        e.f64(self.prev_avg);
        e.f64(self.last_event);
        e.bytes
    }

    /// Restores a state saved by [`Atc::to_bytes`] with the same parameters.
    ///
    /// # Errors
    /// `InvalidParam` when the parameters are invalid or differ from the saved ones,
    /// or the bytes are not an ATC state.
    pub fn from_bytes(p: &AtcParams, bytes: &[u8]) -> Result<Self> {
        Atc::from_bytes_with_path(p, bytes, Path::Lanes)
    }

    /// [`Atc::from_bytes`] onto `path`: a state saved by either path continues on either.
    ///
    /// # Errors
    /// As [`Atc::from_bytes`].
    pub fn from_bytes_with_path(p: &AtcParams, bytes: &[u8], path: Path) -> Result<Self> {
        let mut a = Atc::with_path(p, path)?;
        let mut d = Dec::new(bytes, KERNEL)?;
        check_params(p, &mut d)?;
        a.n = d.u64()?;
        a.roc = Roc::load(&(), &mut d)?;
        let (mut banks, mut seen) = (a.banks.iter_mut(), Vec::new());
        for t in MaType::ALL {
            if Shared::handles(t, p.hma) {
                a.shared.load(t, &mut d, &mut seen)?;
            } else {
                banks.next().expect("a bank per type").1 =
                    Bank::load(t, p.hma, &lens(p, t), &mut d)?;
            }
        }
        a.fused = Fused::load(a.fused.layout(), &mut d)?;
        let eq = |start| EquityParams {
            start,
            lambda: p.lambda,
            decay: p.decay,
            cutout: p.cutout,
        };
        match &mut a.tail {
            Tail::Scalar(l2) => {
                for (q, &w) in l2.iter_mut().zip(&p.weights) {
                    *q = Equity::load_fields(&eq(w), &mut d)?;
                }
            }
            Tail::Lanes(l2) => l2.load(a.n, &mut d)?,
        }
        a.prev_avg = d.f64()?;
        a.last_event = d.f64()?;
        d.finish()?;
        Ok(a)
    }
}

fn lens(p: &AtcParams, t: MaType) -> [usize; 9] {
    p.lengths_of(t).map(|l| l as usize)
}

/// The parameters as every ATC state starts with them (after the tag).
pub(crate) fn save_params(p: &AtcParams, e: &mut Enc) {
    p.lengths.iter().for_each(|&l| e.i64(l));
    e.u64(p.robustness as u64);
    e.f64(p.lambda);
    e.f64(p.decay);
    e.i64(p.cutout);
    p.weights.iter().for_each(|&w| e.f64(w));
    e.f64(p.cut);
    e.u64(p.hma as u64);
    e.f64(p.long_threshold);
    e.f64(p.short_threshold);
}

fn check_params(p: &AtcParams, d: &mut Dec) -> Result<()> {
    let mut want = Enc::default();
    save_params(p, &mut want);
    let mut got = Enc::default();
    for _ in 0..want.bytes.len() / 8 {
        got.u64(d.u64()?);
    }
    if got.bytes != want.bytes {
        return Err(crate::Error::param(format!(
            "state: saved with other {KERNEL} parameters than the ones given now"
        )));
    }
    Ok(())
}
