//! The Parquet writer read back by DuckDB: every value exact (NaN, infinities and -0
//! included), across pages and row groups, text runs and plain text, and an empty file;
//! statistics in the current fields on every column, equal to the rows' min and max, with
//! type-defined column orders; text dictionaries (and the PLAIN fallback), snappy; a full
//! device reported with the file's name and the operating system's reason.
use barstream_kernels::duck::Database;
use barstream_kernels::error::ErrorCode;
use barstream_kernels::parquet::{ColumnData, Field, FileWriter, Kind};

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("barstream-parquet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

const FIELDS: [Field; 6] = [
    Field::new("symbol", Kind::Text),
    Field::new("ts", Kind::TimestampMicros),
    Field::new("x", Kind::Double),
    Field::new("n", Kind::Int64),
    Field::new("note", Kind::Text),
    Field::new("level", Kind::Double),
];

/// A number whose minimum is zero (both signs of it), with NaN among its values.
fn level(i: usize) -> f64 {
    [0.5, 0.0, -0.0, f64::NAN, 1.0, 2.5][i % 6]
}

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
        let lv: Vec<f64> = (0..rows).map(|i| level(base + i)).collect();
        w.write_row_group(&[
            ColumnData::TextRuns(&runs),
            ColumnData::I64(&ts),
            ColumnData::F64(&x),
            ColumnData::I64(&n),
            ColumnData::Text(&note),
            ColumnData::F64(&lv),
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
                   ELSE x = sqrt(i::DOUBLE) * 1.0000001 - 7.0 END) \
           OR NOT (CASE i % 6 WHEN 0 THEN level = 0.5 WHEN 1 THEN level = 0 AND sign(1/level) = 1 \
                   WHEN 2 THEN level = 0 AND sign(1/level) = -1 WHEN 3 THEN isnan(level) \
                   WHEN 4 THEN level = 1 ELSE level = 2.5 END)",
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
    // Every column of both row groups has min_value/max_value (the current fields) and
    // snappy pages; text a dictionary, unless its distinct values are too many bytes (the
    // 150,000 notes of the first row group). (DuckDB shows no non-finite statistic, and the
    // maximum of x is +inf: its minimum is checked below.)
    let meta = |filter: &str| {
        check(&format!(
            "SELECT count(*) FROM parquet_metadata('{p}') WHERE {filter}"
        ))
    };
    assert_eq!(meta("true"), 12);
    assert_eq!(meta("compression <> 'SNAPPY' OR stats_min_value IS NULL OR (path_in_schema <> 'x' AND stats_max_value IS NULL)"), 0);
    assert_eq!(
        meta("path_in_schema = 'symbol' AND encodings LIKE '%PLAIN_DICTIONARY%'"),
        2
    );
    assert_eq!(
        meta("path_in_schema = 'note' AND encodings LIKE '%DICTIONARY%'"),
        1
    );
    assert_eq!(
        meta("path_in_schema NOT IN ('symbol', 'note') AND encodings LIKE '%DICTIONARY%'"),
        0
    );
    // A zero minimum is written as -0, a zero maximum as +0.
    assert_eq!(
        meta("path_in_schema = 'level' AND stats_min_value = '-0.0' AND stats_max_value = '2.5'"),
        2
    );
    // Without type-defined column orders pyarrow and polars ignore min_value/max_value.
    assert_eq!(check(&format!("SELECT count(*) FROM (SELECT unnest(column_orders) AS o FROM parquet_file_metadata('{p}')) WHERE o = 'ColumnOrder(TYPE_ORDER=TypeDefinedOrder())'")), 6);
    // Each row group's min/max are those of its rows (NaN left out), as DuckDB computes them.
    for (col, ty, both) in [
        ("symbol", "VARCHAR", true),
        ("ts", "TIMESTAMP", true),
        ("x", "DOUBLE", false),
        ("n", "BIGINT", true),
        ("note", "VARCHAR", true),
        ("level", "DOUBLE", true),
    ] {
        let keep = if ty == "DOUBLE" {
            format!("WHERE NOT isnan({col})")
        } else {
            String::new()
        };
        let max = if both {
            format!("AND m.stats_max_value::{ty} = d.hi")
        } else {
            String::new()
        };
        let sql = format!(
            "SELECT count(*) FROM parquet_metadata('{p}') m JOIN \
               (SELECT g, min({col}) AS lo, max({col}) AS hi FROM \
                  (SELECT {col}, (row_number() OVER () - 1 >= 150000)::BIGINT AS g FROM back) {keep} GROUP BY g) d \
             ON m.row_group_id = d.g \
             WHERE m.path_in_schema = '{col}' AND m.stats_min_value::{ty} = d.lo {max}"
        );
        assert_eq!(check(&sql), 2, "statistics of {col}");
    }
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
    assert_eq!(
        r.column_names(),
        ["symbol", "ts", "x", "n", "note", "level"]
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_full_device_names_the_file_and_the_reason() {
    // /dev/full takes the file's place: every write fails with ENOSPC.
    let dev = std::path::Path::new("/dev/full");
    if !dev.exists() {
        eprintln!("skipped: no /dev/full");
        return;
    }
    let name = std::path::Path::new("/out/signals/bucket=3/part-0.parquet");
    let rows = 100_000;
    let ts: Vec<i64> = (0..rows).collect();
    let x: Vec<f64> = (0..rows).map(|i| (i as f64).sqrt()).collect();
    let note: Vec<String> = (0..rows).map(|i| format!("row {i}")).collect();
    let runs = [("AAA", rows as usize)];
    let result = FileWriter::create_as(dev, name, &FIELDS).and_then(|mut w| {
        w.write_row_group(&[
            ColumnData::TextRuns(&runs),
            ColumnData::I64(&ts),
            ColumnData::F64(&x),
            ColumnData::I64(&ts),
            ColumnData::Text(&note),
            ColumnData::F64(&x),
        ])?;
        w.finish()
    });
    let e = result.expect_err("a full device fails");
    assert_eq!(e.code, ErrorCode::Io);
    assert_eq!(
        e.message,
        "cannot write /out/signals/bucket=3/part-0.parquet: No space left on device (os error 28)"
    );
}

#[test]
fn nullable_timestamps_read_back_as_null_across_pages_with_their_statistics() {
    let path = tmp("nullable.parquet");
    let fields = [
        Field::new("id", Kind::Int64),
        Field {
            nullable: true,
            ..Field::new("exit_ts", Kind::TimestampMicros)
        },
    ];
    let mut w = FileWriter::create(&path, &fields).unwrap();
    // Over a page boundary (65,536 rows): every 7th row NULL, then a row group all NULL.
    let rows = 70_000usize;
    let id: Vec<i64> = (0..rows as i64).collect();
    let at: Vec<i64> = id
        .iter()
        .map(|i| 1_600_000_000_000_000 + i * 1_000_000)
        .collect();
    let valid: Vec<bool> = (0..rows).map(|i| i % 7 != 3).collect();
    w.write_row_group(&[
        ColumnData::I64(&id),
        ColumnData::NullableI64 {
            values: &at,
            valid: &valid,
        },
    ])
    .unwrap();
    w.write_row_group(&[
        ColumnData::I64(&[rows as i64, rows as i64 + 1]),
        ColumnData::NullableI64 {
            values: &[0, 0],
            valid: &[false, false],
        },
    ])
    .unwrap();
    // A REQUIRED column refuses NULLs.
    assert!(w
        .write_row_group(&[
            ColumnData::NullableI64 {
                values: &[1],
                valid: &[true],
            },
            ColumnData::I64(&[1]),
        ])
        .is_err());
    w.finish().unwrap();
    let db = Database::open(None, &[]).unwrap();
    let conn = db.connect().unwrap();
    let p = path.display();
    let check = |sql: &str| {
        let mut r = conn.stream(sql).unwrap();
        let c = r.next_chunk().unwrap().unwrap();
        unsafe { c.vector(0).slice::<i64>(1)[0] }
    };
    assert_eq!(
        check(&format!("SELECT count(*) FROM '{p}'")),
        rows as i64 + 2
    );
    let wrong = check(&format!(
        "SELECT count(*) FROM '{p}' WHERE CASE WHEN id >= {rows} OR id % 7 = 3 THEN exit_ts IS NOT NULL \
         ELSE exit_ts IS NULL OR epoch_us(exit_ts) <> 1600000000000000 + id * 1000000 END"
    ));
    assert_eq!(wrong, 0, "rows that differ from what was written");
    let nulls = check(&format!(
        "SELECT sum(stats_null_count)::BIGINT FROM parquet_metadata('{p}') WHERE path_in_schema = 'exit_ts'"
    ));
    assert_eq!(nulls, (0..rows).filter(|i| i % 7 == 3).count() as i64 + 2);
    let min = check(&format!(
        "SELECT epoch_us(stats_min_value::TIMESTAMP) FROM parquet_metadata('{p}') WHERE path_in_schema = 'exit_ts' AND row_group_id = 0"
    ));
    assert_eq!(min, 1_600_000_000_000_000, "the first row is a value");
}
