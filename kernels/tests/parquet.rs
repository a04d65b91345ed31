//! The Parquet writer read back by DuckDB: every value exact (NaN, infinities and -0
//! included), across pages and row groups, text runs and plain text, and an empty file.
use barstream_kernels::duck::Database;
use barstream_kernels::parquet::{ColumnData, Field, FileWriter, Kind};

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("barstream-parquet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

const FIELDS: [Field; 5] = [
    Field {
        name: "symbol",
        kind: Kind::Text,
    },
    Field {
        name: "ts",
        kind: Kind::TimestampMicros,
    },
    Field {
        name: "x",
        kind: Kind::Double,
    },
    Field {
        name: "n",
        kind: Kind::Int64,
    },
    Field {
        name: "note",
        kind: Kind::Text,
    },
];

fn values(i: usize) -> f64 {
    match i % 1000 {
        0 => f64::NAN,
        1 => f64::INFINITY,
        2 => -0.0,
        _ => (i as f64).sqrt() * 1.000_000_1 - 7.0,
    }
}

#[test]
fn duckdb_reads_back_every_value() {
    let path = tmp("t.parquet");
    let mut w = FileWriter::create(&path, &FIELDS).unwrap();
    let mut base = 0usize;
    // Two row groups; the first spans several pages (65,536 rows each).
    for (rows, names) in [
        (150_000usize, ["AAA", "A_VERY_LONG_SYMBOL_NAME", "ZZ"]),
        (7usize, ["ZZ", "ZZ", "ZZ"]),
    ] {
        let third = rows / 3;
        let runs: Vec<(&str, usize)> = vec![
            (names[0], third),
            (names[1], third),
            (names[2], rows - 2 * third),
        ];
        let ts: Vec<i64> = (0..rows)
            .map(|i| 1_600_000_000_000_000 + (base + i) as i64 * 60_000_000)
            .collect();
        let x: Vec<f64> = (0..rows).map(|i| values(base + i)).collect();
        let n: Vec<i64> = (0..rows).map(|i| (base + i) as i64 - 5).collect();
        let note: Vec<String> = (0..rows).map(|i| format!("row {}", base + i)).collect();
        w.write_row_group(&[
            ColumnData::TextRuns(&runs),
            ColumnData::I64(&ts),
            ColumnData::F64(&x),
            ColumnData::I64(&n),
            ColumnData::Text(&note),
        ])
        .unwrap();
        base += rows;
    }
    let written = w.finish().unwrap();
    assert_eq!(written.rows, 150_007);
    assert_eq!(written.bytes, std::fs::metadata(&path).unwrap().len());
    // The checksum is of the bytes on disk: compare with an independent sha256 of the file.
    let out = std::process::Command::new("sha256sum")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap(),
        written.sha256
    );

    let db = Database::open(None, &[]).unwrap();
    let conn = db.connect().unwrap();
    let p = path.display();
    conn.execute(&format!(
        "CREATE TABLE back AS SELECT * FROM read_parquet('{p}')"
    ))
    .unwrap();
    let check = |sql: &str| {
        let mut r = conn.stream(sql).unwrap();
        let c = r.next_chunk().unwrap().unwrap();
        unsafe { c.vector(0).slice::<i64>(1)[0] }
    };
    assert_eq!(check("SELECT count(*) FROM back"), 150_007);
    // Row i holds exactly what was written: compare against the same formulas in SQL.
    let mismatches = check(
        "SELECT count(*) FROM (SELECT *, row_number() OVER () - 1 AS i FROM back) WHERE \
           n <> i - 5 OR note <> 'row ' || i OR epoch_us(ts) <> 1600000000000000 + i * 60000000 \
           OR NOT (CASE i % 1000 WHEN 0 THEN isnan(x) WHEN 1 THEN x = 'inf'::DOUBLE WHEN 2 THEN x = 0 AND sign(1/x) = -1 \
                   ELSE x = sqrt(i::DOUBLE) * 1.0000001 - 7.0 END)",
    );
    assert_eq!(mismatches, 0);
    assert_eq!(
        check("SELECT count(*) FROM back WHERE symbol = 'A_VERY_LONG_SYMBOL_NAME'"),
        50_000
    );
    assert_eq!(
        check("SELECT count(*) FROM back WHERE symbol = 'ZZ'"),
        50_007
    );
    let types = {
        let mut r = conn
            .stream(
                "SELECT typeof(symbol) || typeof(ts) || typeof(x) || typeof(n) FROM back LIMIT 1",
            )
            .unwrap();
        let c = r.next_chunk().unwrap().unwrap();
        let s = unsafe {
            c.vector(0)
                .slice::<barstream_kernels::duck::ffi::duckdb_string_t>(1)[0]
        };
        s.length
    };
    assert_eq!(types as usize, "VARCHARTIMESTAMPDOUBLEBIGINT".len());
    // Row-group statistics let DuckDB skip by symbol: min/max per row group (AAA..ZZ, then ZZ..ZZ).
    assert_eq!(check(&format!("SELECT count(*) FROM parquet_metadata('{p}') WHERE path_in_schema = 'symbol' AND stats_max_value = 'ZZ' AND stats_min_value IN ('AAA', 'ZZ')")), 2);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn an_empty_file_has_the_schema() {
    let path = tmp("empty.parquet");
    FileWriter::create(&path, &FIELDS)
        .unwrap()
        .finish()
        .unwrap();
    let db = Database::open(None, &[]).unwrap();
    let conn = db.connect().unwrap();
    let r = conn
        .stream(&format!("SELECT * FROM read_parquet('{}')", path.display()))
        .unwrap();
    assert_eq!(r.column_names(), ["symbol", "ts", "x", "n", "note"]);
    std::fs::remove_file(&path).unwrap();
}
