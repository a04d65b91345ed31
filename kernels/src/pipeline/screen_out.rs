//! A screen's files for one bucket: `matches/bucket=<k>/part-<p>.parquet` (`symbol, ts,
//! open, high, low, close, volume`, then one DOUBLE column per named value) and
//! `_errors/part-<k>.parquet` (`symbol, stage, message`, skipped symbols with stage
//! `skipped`), each written under a temporary name and renamed into place.
use super::backtest::ERROR_COLUMNS;
use super::screen::{Mode, ScreenOptions, ScreenOutcome};
use super::writer::{Col, ResultTable, Val};
use crate::error::{Error, ErrorCode, Result};
use crate::formula::Formula;
use std::path::Path;

/// A file written: its path relative to the output folder, rows, bytes and sha256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutFile {
    pub path: String,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// Columns of the matches table that a formula's names may not take (the bar fields
/// cannot be assigned anyway).
pub const RESERVED: [&str; 2] = ["symbol", "ts"];

/// Checks that the formula's names can be columns of the matches table.
///
/// # Errors
/// `InvalidFormula` naming the name.
pub fn check_names(formula: &Formula) -> Result<()> {
    match formula.names.iter().find(|n| RESERVED.contains(&n.as_str())) {
        Some(n) => Err(Error::new(
            ErrorCode::InvalidFormula,
            format!("the formula assigns '{n}', a column the screen's matches table has already (symbol, ts): choose another name"),
        )),
        None => Ok(()),
    }
}

/// The columns of the matches table for `formula`.
pub fn match_columns(formula: &Formula) -> Vec<Col> {
    let mut cols = vec![
        Col::text("symbol"),
        Col::timestamp("ts"),
        Col::double("open"),
        Col::double("high"),
        Col::double("low"),
        Col::double("close"),
        Col::double("volume"),
    ];
    cols.extend(formula.names.iter().map(|n| Col::Double(n.clone().into())));
    cols
}

/// Bucket `k`'s matches file of generation `g`, relative to the output folder.
pub fn matches_file(k: u32, g: u32, mode: Mode) -> String {
    let part = if mode == Mode::All { g } else { 0 };
    format!("matches/bucket={k}/part-{part}.parquet")
}

/// Writes bucket `k`'s matches and errors under `out`.
///
/// # Errors
/// The file system's message, naming the file.
pub fn write_bucket(
    out: &Path,
    k: u32,
    formula: &Formula,
    opts: &ScreenOptions,
    outcome: &ScreenOutcome,
) -> Result<Vec<OutFile>> {
    let paths = [
        matches_file(k, opts.part, opts.mode),
        format!("_errors/part-{k}.parquet"),
    ];
    let mut matches = ResultTable::create(&out.join(&paths[0]), &match_columns(formula));
    let mut row: Vec<Val<'_>> = Vec::with_capacity(7 + formula.names.len());
    for m in &outcome.matches {
        row.clear();
        row.push(Val::Text(&m.symbol));
        row.push(Val::Timestamp(m.ts));
        row.extend(m.ohlcv.iter().chain(&m.values).map(|v| Val::Double(*v)));
        matches.push_row(&row)?;
    }
    let mut errors = ResultTable::create(&out.join(&paths[1]), &ERROR_COLUMNS);
    for (symbol, stage, message) in &outcome.errors {
        errors.push_row(&[Val::Text(symbol), Val::Text(stage), Val::Text(message)])?;
    }
    let mut files = Vec::new();
    for (path, table) in paths.into_iter().zip([matches, errors]) {
        let w = table.write_parquet()?;
        files.push(OutFile {
            path,
            rows: w.rows,
            bytes: w.bytes,
            sha256: w.sha256,
        });
    }
    Ok(files)
}
