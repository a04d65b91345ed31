//! ATC parameters and their checks.
use super::equity::{check_cutout, check_finite, check_in, DECAY_RANGE, LAMBDA_RANGE};
use crate::kernel::{range_message, MAX_LENGTH};
use crate::{Error, Result};

pub(crate) const KERNEL: &str = "atc";

/// The six moving-average types, in output order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaType {
    Ema,
    Hma,
    Wma,
    Dema,
    Lsma,
    Kama,
}

impl MaType {
    pub const ALL: [MaType; 6] = [
        MaType::Ema,
        MaType::Hma,
        MaType::Wma,
        MaType::Dema,
        MaType::Lsma,
        MaType::Kama,
    ];
    pub fn name(self) -> &'static str {
        ["EMA", "HMA", "WMA", "DEMA", "LSMA", "KAMA"][self as usize]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Robustness {
    Narrow,
    Medium,
    Wide,
}

impl Robustness {
    /// # Errors
    /// `InvalidParam` naming `robustness` for anything but Narrow, Medium or Wide.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "Narrow" => Ok(Robustness::Narrow),
            "Medium" => Ok(Robustness::Medium),
            "Wide" => Ok(Robustness::Wide),
            _ => Err(Error::param(format!(
                "{KERNEL}: robustness must be 'Narrow', 'Medium' or 'Wide', got '{s}'"
            ))),
        }
    }
    pub fn name(self) -> &'static str {
        ["Narrow", "Medium", "Wide"][self as usize]
    }
    /// `(o1, o2, o3, o4)`.
    pub fn offsets(self) -> [i64; 4] {
        match self {
            Robustness::Narrow => [1, 2, 3, 4],
            Robustness::Medium => [1, 2, 4, 6],
            Robustness::Wide => [1, 3, 5, 7],
        }
    }
}

/// What the ATC's "HMA" line is: Hull's (default) or an SMA (the original Pine script).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HmaKind {
    Hull,
    Sma,
}

impl HmaKind {
    /// # Errors
    /// `InvalidParam` naming `hma` for anything but `hull` or `sma`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "hull" => Ok(HmaKind::Hull),
            "sma" => Ok(HmaKind::Sma),
            _ => Err(Error::param(format!(
                "{KERNEL}: hma must be 'hull' or 'sma', got '{s}'"
            ))),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct AtcParams {
    /// Base length per type, in [`MaType::ALL`] order.
    pub lengths: [i64; 6],
    pub robustness: Robustness,
    pub lambda: f64,
    /// Percent.
    pub decay: f64,
    pub cutout: i64,
    /// Layer-2 starting equity per type.
    pub weights: [f64; 6],
    pub cut: f64,
    pub hma: HmaKind,
    pub long_threshold: f64,
    pub short_threshold: f64,
}

impl Default for AtcParams {
    fn default() -> Self {
        AtcParams {
            lengths: [28; 6],
            robustness: Robustness::Medium,
            lambda: 0.02,
            decay: 0.03,
            cutout: 0,
            weights: [1.0; 6],
            cut: 0.49,
            hma: HmaKind::Hull,
            long_threshold: 0.1,
            short_threshold: -0.1,
        }
    }
}

impl AtcParams {
    /// The 9 lengths of type `t`: `L, L+o1..L+o4, L-o1..L-o4`.
    pub fn lengths_of(&self, t: MaType) -> [i64; 9] {
        let l = self.lengths[t as usize];
        let o = self.robustness.offsets();
        [
            l,
            l + o[0],
            l + o[1],
            l + o[2],
            l + o[3],
            l - o[0],
            l - o[1],
            l - o[2],
            l - o[3],
        ]
    }

    /// Checks every parameter.
    ///
    /// # Errors
    /// `InvalidParam` naming the parameter: a length outside `1..=MAX_LENGTH`, before
    /// or after the robustness offsets, a cutout outside `0..=MAX_LENGTH`, a non-finite
    /// number.
    pub fn validate(&self) -> Result<()> {
        for t in MaType::ALL {
            let l = self.lengths[t as usize];
            if !(1..=MAX_LENGTH as i64).contains(&l) {
                return Err(range_message(
                    KERNEL,
                    &format!("lengths.{}", t.name()),
                    1,
                    l,
                ));
            }
            let all = self.lengths_of(t);
            let (min, max) = (*all.iter().min().expect("9"), *all.iter().max().expect("9"));
            let bad = if min < 1 { min } else { max };
            if min < 1 || max > MAX_LENGTH as i64 {
                return Err(Error::param(format!(
                    "{KERNEL}: lengths.{} = {l} with robustness {} gives length {bad}; \
                     every length must be an integer from 1 to {MAX_LENGTH}",
                    t.name(),
                    self.robustness.name()
                )));
            }
            check_finite(
                KERNEL,
                &format!("weights.{}", t.name()),
                self.weights[t as usize],
            )?;
        }
        check_cutout(KERNEL, self.cutout)?;
        check_in(KERNEL, "lambda", self.lambda, LAMBDA_RANGE)?;
        check_in(KERNEL, "decay", self.decay, DECAY_RANGE)?;
        check_finite(KERNEL, "cut", self.cut)?;
        check_finite(KERNEL, "longThreshold", self.long_threshold)?;
        check_finite(KERNEL, "shortThreshold", self.short_threshold)?;
        Ok(())
    }
}
