//! The ATC of one symbol at a time, fed run by run with its carried state, into
//! output buffers reused from symbol to symbol.
//!
//! A symbol may come [`Primed`]: its outputs and end state computed ahead in a lane group
//! (see [`super::lanes`]); its steps then copy the next bars' outputs instead of computing
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
    /// The current symbol's precomputed outputs and the bars already stepped over.
    primed: Option<(Primed, usize)>,
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

    /// Starts a new symbol.
    pub fn begin(&mut self) -> Result<()> {
        self.atc = Some(Atc::new(&self.params)?);
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
            self.primed = self.next.take().map(|p| (p, 0));
        }
        if let Some((p, at)) = &mut self.primed {
            let end = *at + n;
            if end > p.len() {
                return Err(Error::bad_input(format!(
                    "internal: {end} bars stepped over a symbol computed ahead with {}",
                    p.len()
                )));
            }
            for (o, c) in self.out.iter_mut().zip(&p.cols) {
                o.clear();
                o.extend_from_slice(&c[*at..end]);
            }
            *at = end;
            return Ok(());
        }
        for c in self.out.iter_mut() {
            c.resize(n, 0.0);
        }
        let mut cols: [&mut [f64]; NCOL] = {
            let mut it = self.out.iter_mut().map(|v| v.as_mut_slice());
            std::array::from_fn(|_| it.next().expect("NCOL columns"))
        };
        self.atc
            .as_mut()
            .expect("begin() before step()")
            .update(close, &mut cols)
    }

    /// The current symbol's carried ATC state ([`Atc::to_bytes`]).
    pub fn save(&self) -> Vec<u8> {
        match &self.primed {
            Some((p, _)) => p.state.clone(),
            None => self.atc.as_ref().expect("begin() before save()").to_bytes(),
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

    /// Output column `c` (see [`crate::atc::COLUMNS`]) of the last step.
    pub fn outputs(&self) -> &[Vec<f64>] {
        &self.out
    }
}
