//! The read path against a real embedded DuckDB: runs arrive whole and in order, in both
//! modes, and every kind of failure comes back as an error (never a panic).
use barstream_kernels::duck::Database;
use barstream_kernels::read::parallel::read_partitions;
use barstream_kernels::read::{read_runs, ReadMode, ReadRequest, ReadStats, RunSink, SymbolRun};
use barstream_kernels::{Error, ErrorCode};

#[derive(Default, Debug, PartialEq)]
struct Recorded {
    /// (symbol, continues, ts, close) per run.
    runs: Vec<(String, bool, Vec<i64>, Vec<f64>)>,
    /// (symbol, message) per failed symbol, and how many runs had arrived before it.
    failed: Vec<(String, String, usize)>,
}

impl RunSink for Recorded {
    fn on_run(&mut self, run: &SymbolRun<'_>) -> barstream_kernels::Result<()> {
        assert!(
            !self.failed.iter().any(|f| f.0 == run.symbol),
            "a run of {} after its failure",
            run.symbol
        );
        self.runs.push((
            run.symbol.to_string(),
            run.continues,
            run.ts.to_vec(),
            run.values[0].to_vec(),
        ));
        Ok(())
    }

    fn fail_symbol(&mut self, symbol: &str, message: &str) -> barstream_kernels::Result<()> {
        self.failed
            .push((symbol.to_string(), message.to_string(), self.runs.len()));
        Ok(())
    }
}

/// A sink that keeps the default `fail_symbol` (the whole read fails).
#[derive(Default)]
struct Plain(usize);

impl RunSink for Plain {
    fn on_run(&mut self, run: &SymbolRun<'_>) -> barstream_kernels::Result<()> {
        self.0 += run.ts.len();
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
    read_with_stats(db, sql, mode).map(|(r, _)| r)
}

fn read_with_stats(
    db: &Database,
    sql: &str,
    mode: ReadMode,
) -> Result<(Recorded, ReadStats), Error> {
    let conn = db.connect()?;
    let mut sink = Recorded::default();
    let values = vec!["close".to_string()];
    let stats = read_runs(
        &conn,
        &ReadRequest {
            sql,
            values: &values,
            mode,
        },
        &mut sink,
        &never,
    )?;
    Ok((sink, stats))
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
fn decreasing_timestamps_are_an_order_error() {
    let (db, _) = fixture();
    for mode in [ReadMode::Vectors, ReadMode::Arrow] {
        let err = read(
            &db,
            "SELECT symbol, ts, close FROM t ORDER BY symbol, ts DESC",
            mode,
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::BadInput);
        assert!(
            err.message.contains("'AAA'") && err.message.contains("not ordered"),
            "{mode:?}: {}",
            err.message
        );
    }
}

/// `t` with an extra copy of `symbol`'s bar at `day` (days after 2020-01-01), ordered
/// by (symbol, ts): a duplicate bar.
fn with_duplicate(symbol: &str, day: u32) -> String {
    format!(
        "SELECT * FROM (SELECT symbol, ts, close FROM t UNION ALL \
         SELECT symbol, ts, close + 1 FROM t WHERE symbol = '{symbol}' AND ts = TIMESTAMP '2020-01-01' + INTERVAL ({day}) DAY) \
         ORDER BY symbol, ts"
    )
}

#[test]
fn a_duplicate_timestamp_fails_only_its_symbol() {
    let (db, symbols) = fixture();
    // AAA's duplicate lies past its first 2048-row chunk, CCC's at its 10th bar.
    let sql = format!(
        "SELECT * FROM ({}) WHERE symbol <> 'CCC' UNION ALL SELECT * FROM ({}) WHERE symbol = 'CCC' ORDER BY symbol, ts",
        with_duplicate("AAA", 3000),
        with_duplicate("CCC", 9)
    );
    for mode in [ReadMode::Vectors, ReadMode::Arrow] {
        let (rec, stats) = read_with_stats(&db, &sql, mode).unwrap();
        assert_eq!((stats.symbols, stats.failed), (3, 2), "{mode:?}");
        assert_eq!(
            stats.rows,
            5000 + 3 + 4100 + 2,
            "{mode:?}: every row is read"
        );
        let names: Vec<&str> = rec.failed.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(names, ["AAA", "CCC"], "{mode:?}");
        assert!(
            rec.failed[0].1.contains("'AAA'") && rec.failed[0].1.contains("2028-03-19 00:00:00"),
            "{mode:?}: {}",
            rec.failed[0].1
        );
        assert!(
            rec.failed[1].1.contains("'CCC'")
                && rec.failed[1].1.contains("2020-01-10 00:00:00")
                && rec.failed[1].1.contains("duplicate"),
            "{mode:?}: {}",
            rec.failed[1].1
        );
        // The rows before the duplicate arrived (the sink discards them), none after.
        let got = whole(&rec);
        let by = |s: &str| got.iter().find(|g| g.0 == s).map(|g| g.1.len());
        assert_eq!(by("AAA"), Some(3001), "{mode:?}");
        assert_eq!(by("CCC"), Some(10), "{mode:?}");
        assert_eq!(
            by(&symbols[1].0),
            Some(3),
            "{mode:?}: the other symbol is whole"
        );
    }
}

#[test]
fn a_bad_first_bar_fails_the_symbol_before_any_run_of_it() {
    let (db, _) = fixture();
    let sql = "SELECT symbol, ts, CASE WHEN symbol = 'CCC' AND ts = TIMESTAMP '2020-01-01' THEN NULL ELSE close END AS close \
               FROM t ORDER BY symbol, ts";
    let rec = read(&db, sql, ReadMode::Vectors).unwrap();
    assert_eq!(rec.failed.len(), 1);
    assert_eq!(rec.failed[0].0, "CCC");
    assert!(
        rec.failed[0].1.contains("2020-01-01 00:00:00"),
        "{}",
        rec.failed[0].1
    );
    assert!(rec.runs.iter().all(|r| r.0 != "CCC"));
    assert_eq!(
        rec.failed[0].2,
        rec.runs.len(),
        "reported after the runs before it"
    );
}

#[test]
fn a_timestamp_that_goes_back_after_a_duplicate_is_still_an_order_error() {
    let (db, _) = fixture();
    // CCC: a duplicate at its 10th bar, and a bar dated 2020-01-04 read last.
    let sql = "SELECT symbol, ts, close FROM (\
               SELECT symbol, ts, close, ts AS k FROM t \
               UNION ALL SELECT symbol, ts, close, ts FROM t WHERE symbol = 'CCC' AND ts = TIMESTAMP '2020-01-10' \
               UNION ALL SELECT 'CCC', TIMESTAMP '2020-01-04', 1.0, TIMESTAMP '2099-01-01') ORDER BY symbol, k";
    for mode in [ReadMode::Vectors, ReadMode::Arrow] {
        let err = read(&db, sql, mode).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadInput);
        assert!(
            err.message.contains("'CCC'")
                && err.message.contains("not ordered")
                && err.message.contains("2020-01-04 00:00:00"),
            "{mode:?}: {}",
            err.message
        );
    }
}

#[test]
fn a_null_value_or_ts_fails_only_its_symbol_naming_the_bar() {
    let (db, _) = fixture();
    // AAA: a NULL close at 2020-03-01 (its 61st bar); CCC: a NULL ts at its 5th row.
    let sql = "SELECT symbol, CASE WHEN symbol = 'CCC' AND rn = 5 THEN NULL ELSE ts END AS ts, \
               CASE WHEN symbol = 'AAA' AND ts = TIMESTAMP '2020-03-01' THEN NULL ELSE close END AS close \
               FROM (SELECT *, row_number() OVER (PARTITION BY symbol ORDER BY ts) AS rn FROM t) ORDER BY symbol, rn";
    for mode in [ReadMode::Vectors, ReadMode::Arrow] {
        let (rec, stats) = read_with_stats(&db, sql, mode).unwrap();
        assert_eq!(stats.failed, 2, "{mode:?}");
        assert_eq!(rec.failed.len(), 2, "{mode:?}");
        assert_eq!(
            rec.failed[0].1, "symbol 'AAA' has a NULL close at 2020-03-01 00:00:00",
            "{mode:?}"
        );
        assert_eq!(
            rec.failed[1].1, "symbol 'CCC' has a NULL ts at its row 5 (counting from 1)",
            "{mode:?}"
        );
        let got = whole(&rec);
        let by = |s: &str| got.iter().find(|g| g.0 == s).map(|g| g.1.len());
        assert_eq!(
            (by("AAA"), by("CCC"), by("A_VERY_LONG_SYMBOL_NAME")),
            (Some(60), Some(4), Some(3))
        );
    }
}

#[test]
fn a_null_symbol_fails_the_read_saying_where() {
    let (db, _) = fixture();
    let sql = "SELECT * FROM (SELECT symbol, ts, close FROM t UNION ALL \
               SELECT NULL, ts, close FROM t WHERE symbol = 'A_VERY_LONG_SYMBOL_NAME') \
               ORDER BY coalesce(symbol, 'AB'), ts";
    for mode in [ReadMode::Vectors, ReadMode::Arrow] {
        let err = read(&db, sql, mode).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadInput);
        assert!(
            err.message.contains("column 'symbol' is NULL in 3 of")
                && err.message.contains("after the rows of symbol 'AAA'"),
            "{mode:?}: {}",
            err.message
        );
        assert!(
            !err.message.contains("not ordered"),
            "no sorted re-read for this"
        );
    }
}

#[test]
fn a_sink_without_fail_symbol_fails_the_whole_read() {
    let (db, _) = fixture();
    let conn = db.connect().unwrap();
    let values = vec!["close".to_string()];
    let sql = with_duplicate("CCC", 9);
    let req = ReadRequest {
        sql: &sql,
        values: &values,
        mode: ReadMode::Vectors,
    };
    let err = read_runs(&conn, &req, &mut Plain::default(), &never).unwrap_err();
    assert_eq!(err.code, ErrorCode::BadInput);
    assert!(
        err.message.contains("'CCC'") && err.message.contains("2020-01-10 00:00:00"),
        "{}",
        err.message
    );
}

#[test]
fn missing_and_mistyped_columns_are_named() {
    let (db, _) = fixture();
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
