//! Scan and screen symbols saved after a random number of bars and continued in a new sink
//! (as `--update` does) give the same results as one pass over all bars, bit for bit: the
//! scan's rows, the screen's matches (latest and all, with from/to) and symbol rows, the
//! skipped and failed lists, and the state files themselves (byte for byte). Each sink is
//! fed its bars in random runs, as batches would split them; symbols are new in the
//! continuation (no state), carried over without new bars, short of the warm-up before the
//! cut and not after, or failed before the cut (they stay failed with their error).
mod support;

use barstream_kernels::atc::AtcParams;
use barstream_kernels::formula::{Field, Formula};
use barstream_kernels::pipeline::budget::Budget;
use barstream_kernels::pipeline::carry::{Continuation, StateOut};
use barstream_kernels::pipeline::scan::ScanSink;
use barstream_kernels::pipeline::screen::{
    Mode, PartitionContext, ScreenOptions, ScreenOutcome, ScreenSink,
};
use barstream_kernels::pipeline::symbol_state::SymbolState;
use barstream_kernels::pipeline::{Progress, Stage};
use barstream_kernels::read::{RunSink, SymbolRun};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;

const N: usize = 300;
const DAY: i64 = 86_400_000_000;
const T0: i64 = 1_600_000_000_000_000;
/// The symbol whose input fails (a repeated timestamp, say) at bar `FAIL_AT`.
const INPUT: &str = "INP";
const FAIL_AT: usize = 40;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One symbol's bars: OHLCV in [`Field::ALL`] order.
struct Bars {
    symbol: String,
    ts: Vec<i64>,
    ohlcv: [Vec<f64>; 5],
}

fn bars(symbol: &str, seed: u64, n: usize) -> Bars {
    let mut r = Rng(seed);
    let mut c = 100.0;
    let mut cols: [Vec<f64>; 5] = Default::default();
    for i in 0..n {
        let noise = (r.next() as f64 / (1u64 << 31) as f64 - 0.5) * 0.04;
        let drift = if (i / 40) % 2 == 0 { 0.003 } else { -0.003 };
        let open = c;
        c *= 1.0 + drift + noise;
        cols[0].push(open);
        cols[1].push(open.max(c) * 1.004);
        cols[2].push(open.min(c) * 0.996);
        cols[3].push(c);
        cols[4].push(1000.0 + (r.next() % 5000) as f64);
    }
    Bars {
        symbol: symbol.to_string(),
        ts: (0..n as i64).map(|i| T0 + i * DAY).collect(),
        ohlcv: cols,
    }
}

/// The universe: symbols of several lengths (one shorter than any warm-up, one with a
/// non-positive close the ATC refuses), sorted by symbol.
fn universe() -> Vec<Bars> {
    let mut u: Vec<Bars> = ["AAA", "BBB", "CCC", "DDD", "EEE", INPUT]
        .iter()
        .enumerate()
        .map(|(i, s)| bars(s, 0x5EED + i as u64 * 7919, N))
        .collect();
    u.push(bars("FEW", 99, 6));
    let mut bad = bars("KRN", 77, N);
    bad.ohlcv[3][200] = -1.0;
    u.push(bad);
    u.sort_by(|a, b| a.symbol.cmp(&b.symbol));
    u
}

/// Feeds bars `lo..hi` of `b` to `sink` in random runs, reading `fields`; the input
/// symbol fails at `FAIL_AT` as the reader would say.
fn feed(sink: &mut dyn RunSink, b: &Bars, fields: &[Field], lo: usize, hi: usize, r: &mut Rng) {
    let cols: Vec<&[f64]> = fields
        .iter()
        .map(|f| b.ohlcv[Field::ALL.iter().position(|a| a == f).unwrap()].as_slice())
        .collect();
    let mut at = lo;
    while at < hi {
        let end = (at + 1 + r.below(90)).min(hi);
        let fail = b.symbol == INPUT && at <= FAIL_AT && FAIL_AT < end;
        let stop = if fail { FAIL_AT } else { end };
        if stop > at {
            let values: Vec<&[f64]> = cols.iter().map(|c| &c[at..stop]).collect();
            sink.on_run(&SymbolRun {
                symbol: &b.symbol,
                ts: &b.ts[at..stop],
                values: &values,
                continues: at > lo,
            })
            .unwrap();
        }
        if fail {
            sink.fail_symbol(&b.symbol, "a repeated timestamp at row 40")
                .unwrap();
        }
        at = end;
    }
}

fn dir(name: &str) -> PathBuf {
    support::temp_dir(&format!("sss-{name}"))
}

fn state_bytes(d: &Path) -> Vec<u8> {
    std::fs::read(d.join("_state/symbols/bucket=3/part-0.parquet")).expect("state file")
}

fn scan_sink(out: &Path) -> ScanSink {
    ScanSink::new(&AtcParams::default(), Arc::new(Progress::default()))
        .unwrap()
        .saving(
            StateOut {
                dir: out.to_path_buf(),
                generation: 0,
            },
            3,
        )
}

#[test]
fn a_continued_scan_equals_one_pass() {
    let u = universe();
    let close = [Field::Close];
    for seed in 1..=6u64 {
        let mut r = Rng(seed);
        let full = dir(&format!("scan-full-{seed}"));
        let mut a = scan_sink(&full);
        for b in &u {
            feed(&mut a, b, &close, 0, b.ts.len(), &mut r);
        }
        a.finish().unwrap();

        let (d1, d2) = (
            dir(&format!("scan-a-{seed}")),
            dir(&format!("scan-b-{seed}")),
        );
        // Cut points: 0 (a new symbol), the whole series (no new bars) or anywhere.
        let cuts: Vec<usize> = u
            .iter()
            .map(|b| match r.below(5) {
                0 => 0,
                1 => b.ts.len(),
                _ => r.below(b.ts.len() + 1),
            })
            .collect();
        let mut s1 = scan_sink(&d1);
        let mut states: Vec<SymbolState> = Vec::new();
        for (b, &k) in u.iter().zip(&cuts) {
            if k > 0 {
                feed(&mut s1, b, &close, 0, k, &mut r);
                states.extend(s1.save_symbol());
            }
        }
        s1.finish().unwrap();
        let failed = support::failures(&s1.outcomes);
        let mut s2 = scan_sink(&d2);
        s2.carry(states, failed);
        for (b, &k) in u.iter().zip(&cuts) {
            feed(&mut s2, b, &close, k, b.ts.len(), &mut r);
        }
        s2.finish().unwrap();
        assert_eq!(
            format!("{:?}", s2.outcomes),
            format!("{:?}", a.outcomes),
            "seed {seed}, cuts {cuts:?}"
        );
        assert!(
            state_bytes(&d2) == state_bytes(&full),
            "seed {seed}: state file differs from one pass"
        );
    }
}

const FORMULA: &str = "fast = ema(close, 5)
slow = sma(close, 12)
vol = volume / sma(volume, 8)
crosses_above(fast, slow) or (close > fast and vol > 1.1)";

fn screen_opts(mode: Mode, from: Option<i64>, to: Option<i64>, formula: &Formula) -> ScreenOptions {
    ScreenOptions {
        mode,
        from,
        to,
        every_symbol: true,
        budget: Budget::unlimited(),
        source_columns: Field::ALL.to_vec(),
        // Every field the formula does not read comes with the bars: no fill query.
        carried: Field::ALL
            .into_iter()
            .filter(|f| !formula.fields.contains(f))
            .collect(),
        max_matches: None,
        part: 0,
    }
}

fn screen_sink(
    db: &barstream_kernels::duck::Database,
    f: &Arc<Formula>,
    o: &ScreenOptions,
    out: &Path,
) -> ScreenSink {
    let ctx = PartitionContext {
        db: db.clone(),
        sql: String::new(),
        bucket: 3,
        out: None,
        held: Arc::new(AtomicU64::new(0)),
    };
    ScreenSink::new(
        ctx,
        f.clone(),
        Arc::new(o.clone()),
        Arc::new(Progress::default()),
    )
    .saving(StateOut {
        dir: out.to_path_buf(),
        generation: 0,
    })
}

/// Everything a screen reports but its matches.
fn rest(o: &ScreenOutcome) -> String {
    format!(
        "{:?} {} {} {:?} {:?} {:?}",
        o.symbols, o.processed, o.matched, o.skipped, o.failed, o.errors
    )
}

#[test]
fn a_continued_screen_equals_one_pass_in_every_mode() {
    let u = universe();
    let db = support::db();
    let f = Arc::new(Formula::compile(FORMULA).unwrap());
    let fields: Vec<Field> = f
        .fields
        .iter()
        .chain(&screen_opts(Mode::All, None, None, &f).carried)
        .copied()
        .collect();
    let cases = [
        (Mode::Latest, None, None),
        (Mode::Latest, None, Some(T0 + 250 * DAY)),
        (Mode::All, None, None),
        (Mode::All, Some(T0 + 100 * DAY), Some(T0 + 280 * DAY)),
    ];
    let mut seen_matches = 0;
    for (c, (mode, from, to)) in cases.into_iter().enumerate() {
        let o = screen_opts(mode, from, to, &f);
        for seed in 1..=4u64 {
            let mut r = Rng(seed * 31 + c as u64);
            let name = format!("{c}-{seed}");
            let full = dir(&format!("screen-full-{name}"));
            let mut a = screen_sink(&db, &f, &o, &full);
            for b in &u {
                feed(&mut a, b, &fields, 0, b.ts.len(), &mut r);
            }
            a.finish().unwrap();

            let (d1, d2) = (
                dir(&format!("screen-a-{name}")),
                dir(&format!("screen-b-{name}")),
            );
            let cuts: Vec<usize> = u
                .iter()
                .map(|b| match r.below(5) {
                    0 => 0,
                    1 => b.ts.len(),
                    // Inside the warm-up now and then.
                    2 => r.below(f.warmup as usize + 1).min(b.ts.len()),
                    _ => r.below(b.ts.len() + 1),
                })
                .collect();
            let mut s1 = screen_sink(&db, &f, &o, &d1);
            let mut states = Vec::new();
            for (b, &k) in u.iter().zip(&cuts) {
                if k > 0 {
                    feed(&mut s1, b, &fields, 0, k, &mut r);
                    states.extend(s1.save_symbol());
                }
            }
            s1.finish().unwrap();
            let failed: Vec<(String, Stage, String)> = s1.out.failed.clone();
            let mut s2 = screen_sink(&db, &f, &o, &d2);
            s2.carry(states, failed);
            for (b, &k) in u.iter().zip(&cuts) {
                feed(&mut s2, b, &fields, k, b.ts.len(), &mut r);
            }
            s2.finish().unwrap();

            let what = format!("case {c} seed {seed} cuts {cuts:?}");
            assert_eq!(rest(&s2.out), rest(&a.out), "{what}");
            let want = format!("{:?}", a.out.matches);
            match mode {
                Mode::Latest => assert_eq!(format!("{:?}", s2.out.matches), want, "{what}"),
                Mode::All => {
                    // The first run's matches stay written; the update appends the new ones.
                    let mut both: Vec<_> = s1
                        .out
                        .matches
                        .iter()
                        .filter(|m| s1.out.errors.iter().all(|e| e.0 != m.symbol))
                        .chain(&s2.out.matches)
                        .cloned()
                        .collect();
                    both.sort_by(|x, y| (&x.symbol, x.ts).cmp(&(&y.symbol, y.ts)));
                    assert_eq!(format!("{both:?}"), want, "{what}");
                }
            }
            seen_matches += a.out.matches.len();
            assert!(
                state_bytes(&d2) == state_bytes(&full),
                "{what}: state file differs from one pass"
            );
        }
    }
    assert!(seen_matches > 50, "the formula matches: {seen_matches}");
}

#[test]
fn a_screen_state_of_another_formula_is_refused_naming_the_symbol() {
    let db = support::db();
    let f = Arc::new(Formula::compile(FORMULA).unwrap());
    let o = screen_opts(Mode::Latest, None, None, &f);
    let d = dir("screen-refuse");
    let mut s = screen_sink(&db, &f, &o, &d);
    let fields: Vec<Field> = f.fields.iter().chain(&o.carried).copied().collect();
    feed(&mut s, &bars("AAA", 1, 50), &fields, 0, 50, &mut Rng(1));
    let st = s.save_symbol().unwrap();
    let g = Arc::new(Formula::compile("close > sma(close, 13)").unwrap());
    let mut other = screen_sink(&db, &g, &screen_opts(Mode::Latest, None, None, &g), &d);
    let e = other.resume(&st).unwrap_err();
    assert!(e.message.contains("saved state of AAA"), "{}", e.message);
    let mut scan = scan_sink(&d);
    assert!(scan
        .resume(&st)
        .unwrap_err()
        .message
        .contains("saved state of AAA"));
}

/// A scan and a screen over real Parquet with a state folder write one state row per
/// symbol that did not fail (the skipped too), at its last bar, in every bucket's file.
#[test]
fn scan_and_screen_write_each_symbols_state_at_its_last_bar() {
    let d = dir("state-files");
    let files = support::dataset(&d.join("data"), 7, 120, 3);
    let db = support::db();
    let list: Vec<String> = files.iter().map(|(_, f)| format!("'{f}'")).collect();
    let want = support::query(
        &db,
        &format!("SELECT symbol, max(ts) AS ts, count(*)::DOUBLE AS n FROM read_parquet([{}]) GROUP BY symbol ORDER BY symbol", list.join(",")),
        &["n"],
    );
    assert_eq!(want.len(), 7);
    let got = |out: &Path| {
        support::query(
            &db,
            &format!("SELECT symbol, last_ts AS ts, bars::DOUBLE AS n FROM read_parquet('{}/_state/symbols/bucket=*/part-0.parquet') ORDER BY symbol", out.display()),
            &["n"],
        )
    };
    let cont = |out: &Path| Continuation {
        out: Some(StateOut {
            dir: out.to_path_buf(),
            generation: 0,
        }),
        priors: Vec::new(),
        failed: Default::default(),
    };
    let cancel = AtomicBool::new(false);
    let progress = Arc::new(Progress::default());

    let scan_out = d.join("scan");
    let parts: Vec<(u32, String)> = files
        .iter()
        .map(|(k, f)| (*k, support::source_sql(f, &["close"])))
        .collect();
    let outcomes = barstream_kernels::pipeline::scan(
        &db,
        &parts,
        &AtcParams::default(),
        cont(&scan_out),
        2,
        &progress,
        &cancel,
    )
    .unwrap();
    assert_eq!(outcomes.len(), 7);
    assert_eq!(got(&scan_out), want);

    let f = Arc::new(Formula::compile("close > sma(close, 200)").unwrap());
    let o = ScreenOptions {
        every_symbol: false,
        carried: Vec::new(),
        ..screen_opts(Mode::Latest, None, None, &f)
    };
    let screen_out = d.join("screen");
    let parts: Vec<(u32, String)> = files
        .iter()
        .map(|(k, f)| (*k, support::source_sql(f, &["close"])))
        .collect();
    let r = barstream_kernels::pipeline::screen(
        &db,
        &parts,
        &f,
        &o,
        Some(&screen_out),
        cont(&screen_out),
        2,
        &progress,
        &cancel,
    )
    .unwrap();
    // Every symbol has fewer bars than the warm-up: skipped, and saved all the same.
    assert_eq!(r.outcome.skipped.len(), 7);
    assert_eq!(r.states.len(), files.len());
    assert_eq!(got(&screen_out), want);
}
