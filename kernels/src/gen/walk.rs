//! One symbol's synthetic bars: a geometric random walk whose volatility switches
//! between a calm and a turbulent regime (a two-state Markov chain), with gaps at the
//! open, wicks around the body, and volume that rises with the size of the move.
//!
//! Every bar satisfies `low <= min(open, close) <= max(open, close) <= high`, all prices
//! are finite and > 0 (also over millions of bars: the log price reverts very slowly toward
//! its start), and volume > 0.
use super::rng::Rng;

/// Per-symbol model parameters, drawn once from the symbol's random stream.
struct Model {
    price0: f64,
    drift: f64,
    calm_vol: f64,
    turbulent_vol: f64,
    base_volume: f64,
}

/// Bars of one symbol, column by column.
#[derive(Default)]
pub struct Bars {
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub volume: Vec<f64>,
}

impl Bars {
    pub fn clear(&mut self) {
        self.open.clear();
        self.high.clear();
        self.low.clear();
        self.close.clear();
        self.volume.clear();
    }
}

/// Log price reverts toward its start at this rate per year (half-life about 70 years): too
/// slow to show over decades, enough to keep a series of any length finite.
const REVERSION: f64 = 0.01;

/// Chance per bar of entering / leaving the turbulent regime.
const TO_TURBULENT: f64 = 1.0 / 250.0;
const TO_CALM: f64 = 1.0 / 60.0;

/// Fills `out` with `n` bars for symbol number `k`; `years_per_bar` scales drift and volatility.
pub fn walk(seed: u64, k: u64, n: usize, years_per_bar: f64, out: &mut Bars) {
    out.clear();
    let mut rng = Rng::for_item(seed, k);
    let m = Model {
        price0: rng.uniform_in(5f64.ln(), 500f64.ln()).exp(),
        drift: 0.06 + 0.12 * rng.normal(),
        calm_vol: rng.uniform_in(0.12, 0.35),
        turbulent_vol: 0.0,
        base_volume: rng.uniform_in(1e4f64.ln(), 1e7f64.ln()).exp(),
    };
    let m = Model {
        turbulent_vol: m.calm_vol * rng.uniform_in(2.0, 3.5),
        ..m
    };
    let sqrt_dt = years_per_bar.sqrt();
    let mut turbulent = rng.uniform() < TO_TURBULENT / (TO_TURBULENT + TO_CALM);
    let mut prev_close = m.price0;
    for i in 0..n {
        let flip = rng.uniform();
        if turbulent && flip < TO_CALM || !turbulent && flip < TO_TURBULENT {
            turbulent = !turbulent;
        }
        let vol = if turbulent {
            m.turbulent_vol
        } else {
            m.calm_vol
        };
        let step = vol * sqrt_dt;
        let gap = if i == 0 {
            0.0
        } else {
            0.15 * step * rng.normal()
        };
        let pull = REVERSION * (prev_close / m.price0).ln();
        let ret = (m.drift - 0.5 * vol * vol - pull) * years_per_bar + step * rng.normal();
        let open = prev_close * gap.exp();
        let close = prev_close * ret.exp();
        let high = open.max(close) * (0.4 * step * rng.normal().abs()).exp();
        let low = open.min(close) * (-0.4 * step * rng.normal().abs()).exp();
        let surprise = (ret.abs() / step).min(10.0);
        let volume = (m.base_volume * (0.35 * rng.normal()).exp() * (1.0 + 0.8 * surprise))
            .round()
            .max(1.0);
        out.open.push(open);
        out.high.push(high);
        out.low.push(low);
        out.close.push(close);
        out.volume.push(volume);
        prev_close = close;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_valid_ohlcv_and_deterministic() {
        let (mut a, mut b) = (Bars::default(), Bars::default());
        walk(7, 3, 5000, 1.0 / 252.0, &mut a);
        walk(7, 3, 5000, 1.0 / 252.0, &mut b);
        assert_eq!(a.close, b.close);
        for i in 0..5000 {
            let (o, h, l, c, v) = (a.open[i], a.high[i], a.low[i], a.close[i], a.volume[i]);
            assert!(o.is_finite() && h.is_finite() && l.is_finite() && c.is_finite());
            assert!(l > 0.0 && v > 0.0, "bar {i}");
            assert!(
                h >= o.max(c) && l <= o.min(c),
                "bar {i}: o={o} h={h} l={l} c={c}"
            );
        }
        walk(8, 3, 5000, 1.0 / 252.0, &mut b);
        assert_ne!(a.close, b.close, "another seed gives another series");
    }

    #[test]
    fn a_million_daily_bars_stay_finite_and_plausible() {
        let mut a = Bars::default();
        for k in 0..20 {
            walk(1, k, 1_000_000, 1.0 / 252.0, &mut a);
            let (lo, hi) = a
                .low
                .iter()
                .zip(&a.high)
                .fold((f64::MAX, 0f64), |(l, h), (&x, &y)| (l.min(x), h.max(y)));
            assert!(
                lo > 1e-12 && hi < 1e15 && hi.is_finite(),
                "symbol {k}: prices from {lo} to {hi}"
            );
        }
    }
}
