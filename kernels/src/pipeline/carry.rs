//! What a scan or screen sink continues from (`--update`) and where it saves each symbol's
//! state: the previous run's [`SymbolState`] rows of the partition's bucket, and its
//! failed symbols (a failed symbol saved no state and stays failed with its error, as a
//! full run over the same files fails it again). Symbols are taken out in symbol order as
//! the partition's runs arrive; those without new bars are ended in their place, so the
//! outputs keep symbol order.
use super::carried::CarriedFiles;
use super::symbol_state::{SymbolState, STATE_COLUMNS};
use super::writer::{ResultTable, Val};
use super::Stage;
use crate::duck::Database;
use crate::error::Result;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A symbol as the previous run left it.
#[derive(Clone, Debug, PartialEq)]
pub enum Prior {
    State(SymbolState),
    Failed(Stage, String),
}

/// The previous run's symbols of one partition, by symbol.
#[derive(Default, Debug)]
pub struct Carried(BTreeMap<String, Prior>);

impl Carried {
    /// Takes every prior into `into`.
    pub fn append(&mut self, into: &mut Carried) {
        into.0.append(&mut self.0);
    }

    /// Adds saved states and failures (`symbol, stage, message`).
    pub fn extend(
        &mut self,
        states: impl IntoIterator<Item = SymbolState>,
        failed: impl IntoIterator<Item = (String, Stage, String)>,
    ) {
        self.0.extend(
            states
                .into_iter()
                .map(|s| (s.symbol.clone(), Prior::State(s))),
        );
        self.0.extend(
            failed
                .into_iter()
                .map(|(sym, stage, msg)| (sym, Prior::Failed(stage, msg))),
        );
    }

    /// Takes `symbol`'s prior, if any.
    pub fn take(&mut self, symbol: &str) -> Option<Prior> {
        self.0.remove(symbol)
    }

    /// Takes the priors of the symbols sorting before `upto` (all with `None`), in order.
    pub fn before(&mut self, upto: Option<&str>) -> Vec<(String, Prior)> {
        let rest = match upto {
            Some(u) => self.0.split_off(u),
            None => BTreeMap::new(),
        };
        std::mem::replace(&mut self.0, rest).into_iter().collect()
    }
}

/// Where a sink saves its symbols' states: `dir/_state/symbols/bucket=<k>/part-<g>.parquet`.
#[derive(Clone, Debug)]
pub struct StateOut {
    pub dir: std::path::PathBuf,
    pub generation: u32,
}

/// Bucket `k`'s state file of generation `g`, relative to the output folder.
pub fn state_file(k: u32, g: u32) -> String {
    format!("_state/symbols/bucket={k}/part-{g}.parquet")
}

/// A state table bound for bucket `k`'s file under `to`.
pub fn states_table(to: &StateOut, k: u32) -> ResultTable {
    ResultTable::create(&to.dir.join(state_file(k, to.generation)), &STATE_COLUMNS)
}

/// Appends one state row.
///
/// # Errors
/// A file-system error while flushing.
pub fn push_state(table: &mut ResultTable, st: &SymbolState) -> Result<()> {
    table.push_row(&[
        Val::Text(&st.symbol),
        Val::Timestamp(st.last_ts),
        Val::BigInt(st.bars as i64),
        Val::Blob(&st.state),
    ])
}

/// How a scan or screen saves and continues its symbols' states.
#[derive(Default, Debug)]
pub struct Continuation {
    /// Where states are saved (`None`: not saved).
    pub out: Option<StateOut>,
    /// The previous run's symbols of each partition, by partition index (missing: none).
    pub priors: Vec<Carried>,
    /// Symbols that failed in the previous run, of any partition: each stays failed if
    /// read again (the scan's, whose failures are not kept per bucket).
    pub failed: Arc<BTreeMap<String, (Stage, String)>>,
}

/// Reads each partition's previous files (states and `_errors`) into its priors.
///
/// # Errors
/// A file that cannot be read, named.
pub fn read_priors(db: &Database, files: &[CarriedFiles]) -> Result<Vec<Carried>> {
    files
        .iter()
        .map(|f| {
            let c = f.read(db)?;
            let mut p = Carried::default();
            p.extend(
                c.states,
                c.failed.into_iter().map(|(s, (stage, m))| (s, stage, m)),
            );
            Ok(p)
        })
        .collect()
}

impl Continuation {
    /// Hands out each partition's priors once, from any worker.
    #[allow(clippy::type_complexity)]
    pub(super) fn shared(
        self,
    ) -> (
        Option<StateOut>,
        std::sync::Mutex<Vec<Carried>>,
        Arc<BTreeMap<String, (Stage, String)>>,
    ) {
        (self.out, std::sync::Mutex::new(self.priors), self.failed)
    }
}

/// Takes partition `i`'s priors.
pub(super) fn take_prior(priors: &std::sync::Mutex<Vec<Carried>>, i: usize) -> Carried {
    priors
        .lock()
        .ok()
        .and_then(|mut p| p.get_mut(i).map(std::mem::take))
        .unwrap_or_default()
}
