//! The ATC of one symbol at a time, fed run by run with its carried state, into
//! output buffers reused from symbol to symbol.
//!
//! A symbol may come [`Primed`]: its outputs and end state computed ahead in a lane group
//! (see [`super::lanes`]); its steps then hand out the next bars' outputs instead of computing
//! them, and [`SymbolAtc::save`] returns the precomputed state.
use crate::atc::{Atc, AtcParams, MaType, NCOL};
use crate::error::{Error, Result};

/// One symbol's ATC computed ahead: every output column over all its bars, and the state
/// bytes after its last bar ([`Atc::to_bytes`]; empty when no state is saved).
#[derive(Debug, Default)]
pub struct Primed {
    pub cols: Vec<Vec<f64>>,
    pub state: Vec<u8>,
    /// The lane group's compute time per bar, charged to the symbol's time budget.
    pub ns_per_bar: f64,
}

impl Primed {
    fn len(&self) -> usize {
        self.cols.first().map_or(0, Vec::len)
    }
}

pub struct SymbolAtc {
    params: AtcParams,
    /// The longest MA length of any type: a symbol with fewer bars is skipped.
    pub longest: u64,
    atc: Option<Atc>,
    out: Vec<Vec<f64>>,
    /// Computed ahead for the next symbol begun, taken by its first step.
    next: Option<Primed>,
    /// The current symbol's precomputed outputs and the bars of its last step.
    primed: Option<(Primed, std::ops::Range<usize>)>,
    /// Begun and not stepped yet.
    fresh: bool,
}

impl SymbolAtc {
    /// # Errors
    /// `InvalidParam` naming the parameter.
    pub fn new(params: &AtcParams) -> Result<Self> {
        Atc::new(params)?;
        let longest = MaType::ALL
            .iter()
            .flat_map(|&t| params.lengths_of(t))
            .max()
            .unwrap_or(1)
            .max(1) as u64;
        Ok(SymbolAtc {
            params: params.clone(),
            longest,
            atc: None,
            out: vec![Vec::new(); NCOL],
            next: None,
            primed: None,
            fresh: false,
        })
    }

    pub fn params(&self) -> &AtcParams {
        &self.params
    }

    /// Starts a new symbol (its kernel is made by its first step unless it comes primed).
    pub fn begin(&mut self) -> Result<()> {
        self.atc = None;
        self.primed = None;
        self.fresh = true;
        Ok(())
    }

    /// Gives the next symbol begun (its first [`SymbolAtc::step`] after [`SymbolAtc::begin`])
    /// these precomputed outputs: its steps copy them instead of computing.
    pub fn prime(&mut self, p: Primed) {
        self.next = Some(p);
    }

    /// Drops a prime no symbol took.
    pub fn unprime(&mut self) {
        self.next = None;
    }

    /// The compute time per bar of the current symbol's lane group (0 when computed here).
    pub fn primed_ns_per_bar(&self) -> f64 {
        self.primed.as_ref().map_or(0.0, |(p, _)| p.ns_per_bar)
    }

    /// Continues the current symbol with `close`; the outputs for exactly those bars are in
    /// [`SymbolAtc::outputs`] afterwards.
    ///
    /// # Errors
    /// `BadInput` naming the bar of a price that is not finite and > 0.
    pub fn step(&mut self, close: &[f64]) -> Result<()> {
        let n = close.len();
        if std::mem::take(&mut self.fresh) {
            self.primed = self.next.take().map(|p| (p, 0..0));
        }
        if let Some((p, at)) = &mut self.primed {
            let end = at.end + n;
            if end > p.len() {
                return Err(Error::bad_input(format!(
                    "internal: {end} bars stepped over a symbol computed ahead with {}",
                    p.len()
                )));
            }
            *at = at.end..end;
            return Ok(());
        }
        for c in self.out.iter_mut() {
            c.resize(n, 0.0);
        }
        let mut cols: [&mut [f64]; NCOL] = {
            let mut it = self.out.iter_mut().map(|v| v.as_mut_slice());
            std::array::from_fn(|_| it.next().expect("NCOL columns"))
        };
        if self.atc.is_none() {
            self.atc = Some(Atc::new(&self.params)?);
        }
        self.atc
            .as_mut()
            .expect("made above")
            .update(close, &mut cols)
    }

    /// The current symbol's carried ATC state ([`Atc::to_bytes`]).
    pub fn save(&self) -> Vec<u8> {
        match (&self.primed, &self.atc) {
            (Some((p, _)), _) => p.state.clone(),
            (None, Some(atc)) => atc.to_bytes(),
            // Begun, no bar yet: a new kernel's state (the parameters were checked in `new`).
            (None, None) => Atc::new(&self.params)
                .map(|a| a.to_bytes())
                .unwrap_or_default(),
        }
    }

    /// Continues a symbol from [`SymbolAtc::save`]'s bytes instead of [`SymbolAtc::begin`].
    ///
    /// # Errors
    /// `InvalidParam` when the bytes are not an ATC state of these parameters.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<()> {
        self.atc = Some(Atc::from_bytes(&self.params, bytes)?);
        self.primed = None;
        self.fresh = false;
        Ok(())
    }

    /// The output columns (see [`crate::atc::COLUMNS`]) of the last step.
    pub fn outputs(&self) -> [&[f64]; NCOL] {
        match &self.primed {
            Some((p, at)) => std::array::from_fn(|c| &p.cols[c][at.clone()]),
            None => std::array::from_fn(|c| self.out[c].as_slice()),
        }
    }
}
