//! Filling in the bar fields a screen did not read: after a partition's pass, one DuckDB
//! query over that partition's source, restricted to the (symbol, ts) of its matches,
//! gives the other OHLCV columns of exactly those bars.
//!
//! The partition's SQL is planned as `engine/partitions.ts` plans it: its first line is
//! the select list (`SELECT symbol::VARCHAR AS symbol, ts::TIMESTAMP AS ts, <fields>`) and
//! the source follows from the second line (`FROM (...) AS src ...`). The fill query puts
//! its own select list on that first line, so it reads the same source, user SQL included.
use crate::duck::ffi::{DUCKDB_TYPE_BIGINT, DUCKDB_TYPE_TIMESTAMP, DUCKDB_TYPE_VARCHAR};
use crate::duck::{vector_size, Connection, DataChunk, Database};
use crate::error::{Error, Result};
use crate::formula::Field;

/// A bar whose fields are wanted: its symbol and time, and where its OHLCV go.
pub struct Wanted<'a> {
    pub symbol: &'a str,
    pub ts: i64,
    /// `open, high, low, close, volume` ([`Field::ALL`] order).
    pub ohlcv: &'a mut [f64; 5],
}

/// The fill query's SQL: for each row `i` of the temporary table `keys`, `i` and `cols`
/// of the partition's source at that (symbol, ts); NaN for a NULL.
///
/// # Errors
/// `InvalidParam` when the partition SQL is not in the planned form.
fn fill_sql(partition_sql: &str, cols: &[Field], keys: &str) -> Result<String> {
    let (first, rest) = partition_sql
        .split_once('\n')
        .unwrap_or((partition_sql, ""));
    let planned = first
        .trim_start()
        .to_ascii_uppercase()
        .starts_with("SELECT ")
        && rest.trim_start().to_ascii_uppercase().starts_with("FROM");
    if !planned {
        return Err(Error::param(
            "cannot read the fields a formula did not name: the partition SQL must be a select list on its first line and its FROM on the next (as engine/partitions.ts plans it)",
        ));
    }
    let select: String = cols
        .iter()
        .map(|c| format!(", {0}::DOUBLE AS {0}", c.as_str()))
        .collect();
    let outer: String = cols
        .iter()
        .map(|c| format!(", coalesce(f.{0}, 'NaN'::DOUBLE) AS {0}", c.as_str()))
        .collect();
    Ok(format!(
        "SELECT k.i{outer}\nFROM (\nSELECT symbol::VARCHAR AS symbol, ts::TIMESTAMP AS ts{select}\n{rest}\n) AS f\n\
         JOIN {keys} AS k ON f.symbol = k.symbol AND f.ts = k.ts"
    ))
}

/// Loads the wanted (symbol, ts) pairs, numbered, into the temporary table `keys`.
fn load_keys(conn: &Connection, keys: &str, wanted: &[Wanted<'_>]) -> Result<()> {
    conn.execute(&format!(
        "CREATE OR REPLACE TEMP TABLE {keys} (symbol VARCHAR, ts TIMESTAMP, i BIGINT)"
    ))?;
    let mut app = conn.appender(keys)?;
    let mut chunk = DataChunk::with_types(&[
        DUCKDB_TYPE_VARCHAR,
        DUCKDB_TYPE_TIMESTAMP,
        DUCKDB_TYPE_BIGINT,
    ]);
    let cap = vector_size();
    for (start, part) in wanted.chunks(cap).enumerate().map(|(c, p)| (c * cap, p)) {
        chunk.reset();
        let ts = unsafe { chunk.vector(1).slice_mut::<i64>(part.len()) };
        let ix = unsafe { chunk.vector(2).slice_mut::<i64>(part.len()) };
        for (r, w) in part.iter().enumerate() {
            chunk.vector(0).set_string(r, w.symbol);
            ts[r] = w.ts;
            ix[r] = (start + r) as i64;
        }
        chunk.set_len(part.len());
        app.append(&chunk)?;
    }
    app.close()
}

/// Fills `cols` of every wanted bar from the partition's source (one query). A bar the
/// source no longer has keeps NaN.
///
/// # Errors
/// A partition SQL not in the planned form; DuckDB's errors.
pub fn fill(
    db: &Database,
    partition_sql: &str,
    cols: &[Field],
    wanted: &mut [Wanted<'_>],
) -> Result<()> {
    if cols.is_empty() || wanted.is_empty() {
        return Ok(());
    }
    let keys = "barstream_screen_keys";
    let sql = fill_sql(partition_sql, cols, keys)?;
    let conn = db.connect()?;
    load_keys(&conn, keys, wanted)?;
    let at: Vec<usize> = cols
        .iter()
        .map(|c| Field::ALL.iter().position(|f| f == c).expect("a field"))
        .collect();
    let mut result = conn.stream(&sql)?;
    while let Some(chunk) = result.next_chunk()? {
        let n = chunk.len();
        let ix = unsafe { chunk.vector(0).slice::<i64>(n) };
        for (c, &k) in at.iter().enumerate() {
            let v = unsafe { chunk.vector(c + 1).slice::<f64>(n) };
            for (&i, &x) in ix.iter().zip(v) {
                wanted[i as usize].ohlcv[k] = x;
            }
        }
    }
    drop(result);
    conn.execute(&format!("DROP TABLE IF EXISTS {keys}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fill_query_keeps_the_source_and_replaces_the_select_list() {
        let planned = "SELECT symbol::VARCHAR AS symbol, ts::TIMESTAMP AS ts, close::DOUBLE AS close\nFROM (\nSELECT * FROM t\n) AS src ORDER BY symbol, ts";
        let sql = fill_sql(planned, &[Field::Open, Field::Volume], "k").unwrap();
        assert!(sql.contains("ts::TIMESTAMP AS ts, open::DOUBLE AS open, volume::DOUBLE AS volume\nFROM (\nSELECT * FROM t\n) AS src ORDER BY symbol, ts\n) AS f\nJOIN k"), "{sql}");
        assert!(fill_sql("SELECT 1", &[Field::Open], "k").is_err());
    }
}
