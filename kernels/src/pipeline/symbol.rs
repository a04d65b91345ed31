//! The ATC of one symbol at a time, fed run by run with its carried state, into
//! output buffers reused from symbol to symbol.
use crate::atc::{Atc, AtcParams, MaType, NCOL};
use crate::error::Result;

pub struct SymbolAtc {
    params: AtcParams,
    /// The longest MA length of any type: a symbol with fewer bars is skipped.
    pub longest: u64,
    atc: Option<Atc>,
    out: Vec<Vec<f64>>,
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
        })
    }

    pub fn params(&self) -> &AtcParams {
        &self.params
    }

    /// Starts a new symbol.
    pub fn begin(&mut self) -> Result<()> {
        self.atc = Some(Atc::new(&self.params)?);
        Ok(())
    }

    /// Continues the current symbol with `close`; the outputs for exactly those bars are in
    /// [`SymbolAtc::outputs`] afterwards.
    ///
    /// # Errors
    /// `BadInput` naming the bar of a price that is not finite and > 0.
    pub fn step(&mut self, close: &[f64]) -> Result<()> {
        let n = close.len();
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
        self.atc.as_ref().expect("begin() before save()").to_bytes()
    }

    /// Continues a symbol from [`SymbolAtc::save`]'s bytes instead of [`SymbolAtc::begin`].
    ///
    /// # Errors
    /// `InvalidParam` when the bytes are not an ATC state of these parameters.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<()> {
        self.atc = Some(Atc::from_bytes(&self.params, bytes)?);
        Ok(())
    }

    /// Output column `c` (see [`crate::atc::COLUMNS`]) of the last step.
    pub fn outputs(&self) -> &[Vec<f64>] {
        &self.out
    }
}
