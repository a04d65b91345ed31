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

/// The previous run's symbols of one partition, by symbol; given as files, they are read
/// when the sink first needs them (in the worker that runs the bucket: one bucket's states
/// in memory at a time, not every bucket's).
#[derive(Default)]
pub struct Carried {
    map: BTreeMap<String, Prior>,
    pending: Option<(Database, CarriedFiles)>,
}

impl Carried {
    /// The priors in `files`, read on first use.
    pub fn files(db: Database, files: CarriedFiles) -> Carried {
        Carried {
            map: BTreeMap::new(),
            pending: Some((db, files)),
        }
    }

    /// Reads the files given to [`Carried::files`], once.
    fn load(&mut self) -> Result<()> {
        if let Some((db, files)) = self.pending.take() {
            let c = files.read(&db)?;
            self.extend(
                c.states,
                c.failed.into_iter().map(|(s, (stage, m))| (s, stage, m)),
            );
        }
        Ok(())
    }

    /// Takes every prior into `into`.
    pub fn append(&mut self, into: &mut Carried) {
        into.map.append(&mut self.map);
        if into.pending.is_none() {
            into.pending = self.pending.take();
        }
    }

    /// Adds saved states and failures (`symbol, stage, message`).
    pub fn extend(
        &mut self,
        states: impl IntoIterator<Item = SymbolState>,
        failed: impl IntoIterator<Item = (String, Stage, String)>,
    ) {
        self.map.extend(
            states
                .into_iter()
                .map(|s| (s.symbol.clone(), Prior::State(s))),
        );
        self.map.extend(
            failed
                .into_iter()
                .map(|(sym, stage, msg)| (sym, Prior::Failed(stage, msg))),
        );
    }

    /// Takes `symbol`'s prior, if any.
    ///
    /// # Errors
    /// A carried file that cannot be read, named.
    pub fn take(&mut self, symbol: &str) -> Result<Option<Prior>> {
        self.load()?;
        Ok(self.map.remove(symbol))
    }

    /// Whether `symbol` has a prior (left in place).
    ///
    /// # Errors
    /// A carried file that cannot be read, named.
    pub fn contains(&mut self, symbol: &str) -> Result<bool> {
        self.load()?;
        Ok(self.map.contains_key(symbol))
    }

    /// Takes the priors of the symbols sorting before `upto` (all with `None`), in order.
    ///
    /// # Errors
    /// A carried file that cannot be read, named.
    pub fn before(&mut self, upto: Option<&str>) -> Result<Vec<(String, Prior)>> {
        self.load()?;
        let rest = match upto {
            Some(u) => self.map.split_off(u),
            None => BTreeMap::new(),
        };
        Ok(std::mem::replace(&mut self.map, rest).into_iter().collect())
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
#[derive(Default)]
pub struct Continuation {
    /// Where states are saved (`None`: not saved).
    pub out: Option<StateOut>,
    /// The previous run's symbols of each partition, by partition index (missing: none).
    pub priors: Vec<Carried>,
    /// Symbols that failed in the previous run, of any partition: each stays failed if
    /// read again (the scan's, whose failures are not kept per bucket).
    pub failed: Arc<BTreeMap<String, (Stage, String)>>,
}

/// Each partition's previous files (states and `_errors`) as its priors, read on first use.
pub fn file_priors(db: &Database, files: Vec<CarriedFiles>) -> Vec<Carried> {
    files
        .into_iter()
        .map(|f| Carried::files(db.clone(), f))
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
