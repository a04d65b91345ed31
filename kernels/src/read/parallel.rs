//! Reads several partitions (disjoint sets of symbols, e.g. the buckets of a dataset) at
//! once, one DuckDB connection per worker, each worker pulling the next partition when it
//! finishes one. DuckDB's streaming results are consumed on the calling thread, so one
//! stream is bounded by one core; partitions in parallel use them all.
use super::{read_runs, ReadMode, ReadRequest, ReadStats, RunSink};
use crate::duck::Database;
use crate::error::{Error, ErrorCode, Result};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// One partition's result: its counts and its sink.
pub struct PartitionOutput<S> {
    pub stats: ReadStats,
    pub sink: S,
}

/// Streams every SQL in `partitions` with up to `workers` threads, handing each partition's
/// runs to a fresh sink from `make_sink`. Results come back in partition order. The first
/// error (in partition order) is returned and stops the other workers.
///
/// # Errors
/// As [`read_runs`], for any partition.
pub fn read_partitions<S, F>(
    db: &Database,
    partitions: &[String],
    values: &[String],
    mode: ReadMode,
    workers: usize,
    make_sink: F,
    cancel: &AtomicBool,
) -> Result<Vec<PartitionOutput<S>>>
where
    S: RunSink + Send,
    F: Fn(usize) -> S + Sync,
{
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let slots: Mutex<Vec<Option<Result<PartitionOutput<S>>>>> =
        Mutex::new((0..partitions.len()).map(|_| None).collect());
    let connect_err: Mutex<Option<Error>> = Mutex::new(None);
    let workers = workers.clamp(1, partitions.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let conn = match db.connect() {
                    Ok(c) => c,
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        connect_err.lock().expect("connect error").get_or_insert(e);
                        return;
                    }
                };
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= partitions.len() || stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let mut sink = make_sink(i);
                    let req = ReadRequest {
                        sql: &partitions[i],
                        values,
                        mode,
                    };
                    let cancelled =
                        || cancel.load(Ordering::Relaxed) || stop.load(Ordering::Relaxed);
                    let out = read_runs(&conn, &req, &mut sink, &cancelled)
                        .map(|stats| PartitionOutput { stats, sink });
                    if out.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    slots.lock().expect("slots")[i] = Some(out);
                }
            });
        }
    });
    let mut results = Vec::with_capacity(partitions.len());
    let mut first_err: Option<Error> = connect_err.into_inner().expect("connect error");
    for slot in slots.into_inner().expect("slots") {
        match slot {
            Some(Ok(o)) => results.push(o),
            // A partition stopped only because another failed is not the cause.
            Some(Err(e))
                if first_err.is_none()
                    && (e.code != ErrorCode::Cancelled || cancel.load(Ordering::Relaxed)) =>
            {
                first_err = Some(e);
            }
            Some(Err(_)) | None => {}
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    if cancel.load(Ordering::Relaxed) {
        return Err(Error::cancelled());
    }
    Ok(results)
}

/// Checks that no symbol appears in two partitions (each must hold whole symbols).
///
/// # Errors
/// [`crate::ErrorCode::BadInput`] naming the symbol.
pub fn check_disjoint<'a>(
    symbols_per_partition: impl Iterator<Item = impl Iterator<Item = &'a str>>,
) -> Result<()> {
    let mut seen = HashSet::new();
    for part in symbols_per_partition {
        for s in part {
            if !seen.insert(s) {
                return Err(Error::bad_input(format!(
                    "symbol '{s}' appears in more than one bucket or input: each symbol's bars must come from one bucket of one input"
                )));
            }
        }
    }
    Ok(())
}
