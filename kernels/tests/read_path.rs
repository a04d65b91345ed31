//! The read path against a real embedded DuckDB: runs arrive whole and in order, in both
//! modes, and every kind of failure comes back as an error (never a panic).
use barstream_kernels::duck::Database;
use barstream_kernels::read::parallel::read_partitions;
use barstream_kernels::read::{read_runs, ReadMode, ReadRequest, RunSink, SymbolRun};
use barstream_kernels::{Error, ErrorCode};

#[derive(Default, Debug, PartialEq)]
struct Recorded {
    /// (symbol, continues, ts, close) per run.
    runs: Vec<(String, bool, Vec<i64>, Vec<f64>)>,
}

impl RunSink for Recorded {
    fn on_run(&mut self, run: &SymbolRun<'_>) -> barstream_kernels::Result<()> {
        self.runs.push((
            run.symbol.to_string(),
            run.continues,
            run.ts.to_vec(),
            run.values[0].to_vec(),
        ));
        Ok(())
    }
}

fn never() -> bool {
    false
}

/// Symbols with 5000, 3 and 4100 bars (the first and last span several 2048-row chunks);
/// one name is longer than DuckDB's 12-byte inline strings.
fn fixture() -> (Database, Vec<(String, usize)>) {
    let db = Database::open(None, &[("threads", "2".to_string())]).unwrap();
    let conn = db.connect().unwrap();
    let symbols = vec![
        ("AAA".to_string(), 5000),
        ("A_VERY_LONG_SYMBOL_NAME".to_string(), 3),
        ("CCC".to_string(), 4100),
    ];
    conn.execute("CREATE TABLE t (symbol VARCHAR, ts TIMESTAMP, close DOUBLE)")
        .unwrap();
    for (s, n) in &symbols {
        conn.execute(&format!(
            "INSERT INTO t SELECT '{s}', TIMESTAMP '2020-01-01' + INTERVAL (i) DAY, 100 + i * 0.5 FROM range({n}) r(i) ORDER BY i"
        ))
        .unwrap();
    }
    (db, symbols)
}

fn read(db: &Database, sql: &str, mode: ReadMode) -> Result<Recorded, Error> {
    let conn = db.connect()?;
    let mut sink = Recorded::default();
    let values = vec!["close".to_string()];
    read_runs(
        &conn,
        &ReadRequest {
            sql,
            values: &values,
            mode,
        },
        &mut sink,
        &never,
    )?;
    Ok(sink)
}

fn whole(rec: &Recorded) -> Vec<(String, Vec<i64>, Vec<f64>)> {
    let mut out: Vec<(String, Vec<i64>, Vec<f64>)> = Vec::new();
    for (s, cont, ts, close) in &rec.runs {
        if *cont {
            let last = out.last_mut().expect("a continued run follows its symbol");
            assert_eq!(&last.0, s);
            last.1.extend(ts);
            last.2.extend(close);
        } else {
            out.push((s.clone(), ts.clone(), close.clone()));
        }
    }
    out
}

#[test]
fn symbols_spanning_batches_arrive_whole_and_in_order() {
    let (db, symbols) = fixture();
    for mode in [ReadMode::Vectors, ReadMode::Arrow] {
        let rec = read(
            &db,
            "SELECT symbol, ts, close FROM t ORDER BY symbol, ts",
            mode,
        )
        .unwrap();
        let aaa_runs = rec.runs.iter().filter(|r| r.0 == "AAA").count();
        assert!(
            aaa_runs >= 3,
            "{mode:?}: AAA (5000 bars) should span several chunks, got {aaa_runs} runs"
        );
        let got = whole(&rec);
        let mut expected = symbols.clone();
        expected.sort();
        assert_eq!(got.len(), expected.len());
        for ((s, ts, close), (es, n)) in got.iter().zip(&expected) {
            assert_eq!(s, es);
            assert_eq!(ts.len(), *n, "{mode:?} {s}");
            assert!(
                ts.windows(2).all(|w| w[1] - w[0] == 86_400_000_000),
                "{mode:?} {s}: consecutive days"
            );
            for (i, c) in close.iter().enumerate() {
                assert_eq!(*c, 100.0 + i as f64 * 0.5, "{mode:?} {s} bar {i}");
            }
        }
    }
}

#[test]
fn arrow_and_vector_modes_deliver_identical_runs() {
    let (db, _) = fixture();
    let sql = "SELECT symbol, ts, close FROM t ORDER BY symbol, ts";
    assert_eq!(
        whole(&read(&db, sql, ReadMode::Vectors).unwrap()),
        whole(&read(&db, sql, ReadMode::Arrow).unwrap())
    );
}

#[test]
fn a_symbol_that_comes_back_later_is_an_order_error() {
    let (db, _) = fixture();
    let sql = "(SELECT symbol, ts, close FROM t WHERE symbol = 'AAA' AND ts < '2021-01-01' ORDER BY ts) \
               UNION ALL (SELECT symbol, ts, close FROM t WHERE symbol = 'CCC' ORDER BY ts) \
               UNION ALL (SELECT symbol, ts, close FROM t WHERE symbol = 'AAA' AND ts >= '2021-01-01' ORDER BY ts)";
    let err = read(&db, &format!("SELECT * FROM ({sql})"), ReadMode::Vectors).unwrap_err();
    assert_eq!(err.code, ErrorCode::BadInput);
    assert!(
        err.message.contains("'AAA'") && err.message.contains("not contiguous"),
        "{}",
        err.message
    );
}

#[test]
fn decreasing_or_duplicate_timestamps_are_an_order_error() {
    let (db, _) = fixture();
    let err = read(
        &db,
        "SELECT symbol, ts, close FROM t ORDER BY symbol, ts DESC",
        ReadMode::Vectors,
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::BadInput);
    assert!(
        err.message.contains("not strictly increasing"),
        "{}",
        err.message
    );
    let dup = "SELECT * FROM (SELECT symbol, ts, close FROM t UNION ALL SELECT symbol, ts, close FROM t WHERE symbol = 'CCC') \
               ORDER BY symbol, ts";
    let err = read(&db, dup, ReadMode::Arrow).unwrap_err();
    assert!(err.message.contains("'CCC'"), "{}", err.message);
}

#[test]
fn nulls_missing_and_mistyped_columns_are_named() {
    let (db, _) = fixture();
    let null = read(&db, "SELECT symbol, ts, CASE WHEN ts > '2020-03-01' THEN NULL ELSE close END AS close FROM t ORDER BY symbol, ts", ReadMode::Vectors)
        .unwrap_err();
    assert!(
        null.message.contains("'close'") && null.message.contains("NULL"),
        "{}",
        null.message
    );
    let missing = read(&db, "SELECT symbol, ts FROM t", ReadMode::Vectors).unwrap_err();
    assert!(
        missing.message.contains("no column 'close'"),
        "{}",
        missing.message
    );
    let typed = read(
        &db,
        "SELECT symbol, ts::DATE AS ts, close FROM t",
        ReadMode::Vectors,
    )
    .unwrap_err();
    assert!(
        typed.message.contains("'ts' must be TIMESTAMP"),
        "{}",
        typed.message
    );
}

#[test]
fn sql_errors_before_and_during_execution_are_errors_not_panics() {
    let (db, _) = fixture();
    let parse = read(&db, "SELEC nonsense", ReadMode::Vectors).unwrap_err();
    assert_eq!(parse.code, ErrorCode::Duckdb);
    let missing_file = read(
        &db,
        "SELECT * FROM read_parquet('/nonexistent/barstream/x.parquet')",
        ReadMode::Vectors,
    )
    .unwrap_err();
    assert!(
        missing_file
            .message
            .contains("/nonexistent/barstream/x.parquet"),
        "{}",
        missing_file.message
    );
    // Fails on a row deep inside the stream, after chunks were already delivered.
    let late = "SELECT symbol, ts, CASE WHEN symbol = 'CCC' AND ts > '2030-01-01' THEN 'x' ELSE '1' END::DOUBLE AS close \
                FROM t ORDER BY symbol, ts";
    for mode in [ReadMode::Vectors, ReadMode::Arrow] {
        let err = read(&db, late, mode).unwrap_err();
        assert_eq!(err.code, ErrorCode::Duckdb, "{mode:?}: {}", err.message);
    }
}

#[test]
fn partitions_read_in_parallel_come_back_in_order() {
    let (db, symbols) = fixture();
    let parts: Vec<String> = symbols
        .iter()
        .map(|(s, _)| format!("SELECT symbol, ts, close FROM t WHERE symbol = '{s}' ORDER BY ts"))
        .collect();
    let values = vec!["close".to_string()];
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let out = read_partitions(
        &db,
        &parts,
        &values,
        ReadMode::Vectors,
        2,
        |_| Recorded::default(),
        &cancel,
    )
    .unwrap();
    assert_eq!(out.len(), 3);
    for (p, (s, n)) in out.iter().zip(&symbols) {
        let w = whole(&p.sink);
        assert_eq!(w.len(), 1);
        assert_eq!((&w[0].0, w[0].1.len()), (s, *n));
        assert_eq!(p.stats.rows, *n as u64);
    }
    let mut bad = parts.clone();
    bad[1] = "SELECT nonsense".into();
    let err = read_partitions(
        &db,
        &bad,
        &values,
        ReadMode::Vectors,
        2,
        |_| Recorded::default(),
        &cancel,
    )
    .err()
    .unwrap();
    assert_eq!(err.code, ErrorCode::Duckdb);
}

#[test]
fn cancellation_stops_between_batches() {
    let (db, _) = fixture();
    let conn = db.connect().unwrap();
    let mut sink = Recorded::default();
    let values = vec!["close".to_string()];
    let req = ReadRequest {
        sql: "SELECT symbol, ts, close FROM t ORDER BY symbol, ts",
        values: &values,
        mode: ReadMode::Vectors,
    };
    let err = read_runs(&conn, &req, &mut sink, &|| true).unwrap_err();
    assert_eq!(err.code, ErrorCode::Cancelled);
    assert!(sink.runs.is_empty());
}
