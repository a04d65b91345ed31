//! The ATC: `atc(x, opts)` (14 columns of `x.length` values, one after the other,
//! in the order of `atcColumns()`), `atcBatch`/`atcBatchAsync` over many symbols on
//! the thread pool, and `AtcStream`.
use super::guarded;
use super::ma::bounded;
use crate::atc::{
    atc_batch_on, Atc, AtcParams, BatchPath, HmaKind, MaType, Path, Robustness, COLUMNS, NCOL,
};
use crate::{Error, Result};
use napi::bindgen_prelude::{AsyncTask, Float64Array, Int32Array, Uint8Array};
use napi::{Env, Task};
use napi_derive::napi;
use std::collections::HashMap;

/// ATC parameters as the TypeScript API takes them; anything missing takes the spec's default.
#[napi(object)]
#[derive(Default)]
pub struct AtcOptions {
    pub length: Option<f64>,
    /// Per-type lengths keyed by type name (`EMA`, `HMA`, `WMA`, `DEMA`, `LSMA`, `KAMA`).
    pub lengths: Option<HashMap<String, f64>>,
    pub robustness: Option<String>,
    pub lambda: Option<f64>,
    /// Percent.
    pub decay: Option<f64>,
    pub cutout: Option<f64>,
    /// Per-type Layer-2 starting equity keyed by type name (missing types: 1.0).
    pub weights: Option<HashMap<String, f64>>,
    pub cut: Option<f64>,
    /// `hull` or `sma`.
    pub hma: Option<String>,
    pub long_threshold: Option<f64>,
    pub short_threshold: Option<f64>,
    /// `lanes` (default: the six types in vector lanes) or `scalar` (the reference,
    /// type by type) for `atc`, `atcBatch` and `AtcStream` (scan and backtest jobs run
    /// lanes). Both give the same values bit for bit; states cross between them.
    /// `atcBatch` also takes `symbols`, its default: several symbols in vector lanes.
    pub path: Option<String>,
}

fn type_index(what: &str, name: &str) -> Result<usize> {
    MaType::ALL
        .iter()
        .position(|t| t.name() == name)
        .ok_or_else(|| {
            Error::param(format!(
                "atc: {what} has unknown type '{name}'; types are EMA, HMA, WMA, DEMA, LSMA, KAMA"
            ))
        })
}

/// [`AtcOptions`] as [`AtcParams`] (checked by the core).
pub(crate) fn atc_params(o: Option<&AtcOptions>) -> Result<AtcParams> {
    let mut p = AtcParams::default();
    let Some(o) = o else { return Ok(p) };
    if let Some(l) = o.length {
        p.lengths = [bounded("atc", "length", l, 1)? as i64; 6];
    }
    for (name, &l) in o.lengths.iter().flatten() {
        p.lengths[type_index("lengths", name)?] =
            bounded("atc", &format!("lengths.{name}"), l, 1)? as i64;
    }
    for (name, &w) in o.weights.iter().flatten() {
        p.weights[type_index("weights", name)?] = w;
    }
    if let Some(r) = &o.robustness {
        p.robustness = Robustness::parse(r)?;
    }
    if let Some(h) = &o.hma {
        p.hma = HmaKind::parse(h)?;
    }
    if let Some(c) = o.cutout {
        p.cutout = bounded("atc", "cutout", c, 0)? as i64;
    }
    p.lambda = o.lambda.unwrap_or(p.lambda);
    p.decay = o.decay.unwrap_or(p.decay);
    p.cut = o.cut.unwrap_or(p.cut);
    p.long_threshold = o.long_threshold.unwrap_or(p.long_threshold);
    p.short_threshold = o.short_threshold.unwrap_or(p.short_threshold);
    p.validate()?;
    Ok(p)
}

/// The per-bar path [`AtcOptions::path`] names.
pub(crate) fn atc_path(o: Option<&AtcOptions>) -> Result<Path> {
    match o.and_then(|o| o.path.as_deref()) {
        None | Some("lanes") => Ok(Path::Lanes),
        Some("scalar") => Ok(Path::Scalar),
        Some(other) => Err(Error::param(format!(
            "atc: path must be 'lanes' or 'scalar', got '{other}'"
        ))),
    }
}

/// The batch path [`AtcOptions::path`] names (`symbols` by default).
pub(crate) fn atc_batch_path(o: Option<&AtcOptions>) -> Result<BatchPath> {
    match o.and_then(|o| o.path.as_deref()) {
        None | Some("symbols") => Ok(BatchPath::Symbols),
        Some("lanes") => Ok(BatchPath::Each(Path::Lanes)),
        Some("scalar") => Ok(BatchPath::Each(Path::Scalar)),
        Some(other) => Err(Error::param(format!(
            "atcBatch: path must be 'symbols', 'lanes' or 'scalar', got '{other}'"
        ))),
    }
}

/// Output column names, in the order of the values `atc` returns.
#[napi]
pub fn atc_columns() -> Vec<String> {
    COLUMNS.iter().map(|c| c.to_string()).collect()
}

fn run(a: &mut Atc, x: &[f64]) -> Result<Vec<f64>> {
    let n = x.len();
    let total = n
        .checked_mul(NCOL)
        .ok_or_else(|| Error::param(format!("atc: {n} bars are too many")))?;
    let mut out = crate::kernel::nan_vec(total)?;
    let mut cols: Vec<&mut [f64]> = if n == 0 {
        (0..NCOL).map(|_| &mut [][..]).collect()
    } else {
        out.chunks_mut(n).collect()
    };
    a.update(x, (&mut cols[..]).try_into().expect("14 columns"))?;
    Ok(out)
}

/// The ATC over the whole of `x`: 14 columns of `x.length` values, one after the other.
#[napi]
pub fn atc(x: &[f64], opts: Option<AtcOptions>) -> napi::Result<Float64Array> {
    guarded(|| {
        let o = opts.as_ref();
        Ok(Float64Array::new(run(
            &mut Atc::with_path(&atc_params(o)?, atc_path(o)?)?,
            x,
        )?))
    })
}

/// The ATC over the whole of `x` into `out` (14 columns of `x.length` values, one
/// after the other), which the caller allocated: memory the JS heap accounts for.
#[napi]
pub fn atc_into(x: &[f64], mut out: Float64Array, opts: Option<AtcOptions>) -> napi::Result<()> {
    // SAFETY: JS runs nothing else while this synchronous call holds the buffer.
    let out = unsafe { out.as_mut() };
    guarded(|| {
        let o = opts.as_ref();
        let mut a = Atc::with_path(&atc_params(o)?, atc_path(o)?)?;
        let n = x.len();
        if n.checked_mul(NCOL) != Some(out.len()) {
            return Err(Error::param(format!(
                "atc: out has {} values, want {}",
                out.len(),
                NCOL * n
            )));
        }
        let mut cols: Vec<&mut [f64]> = if n == 0 {
            (0..NCOL).map(|_| &mut [][..]).collect()
        } else {
            out.chunks_mut(n).collect()
        };
        a.update(x, (&mut cols[..]).try_into().expect("14 columns"))
    })
}

/// Many symbols (`closes[offsets[i]..offsets[i+1]]`) on the thread pool into `out`:
/// 14 columns of `closes.length` values, each aligned with `closes`. The caller
/// allocates `out` (a JS-heap buffer, so the garbage collector sees its size).
#[napi]
pub fn atc_batch_sync(
    closes: &[f64],
    offsets: &[i32],
    mut out: Float64Array,
    opts: Option<AtcOptions>,
) -> napi::Result<()> {
    // SAFETY: JS runs nothing else while this synchronous call holds the buffer.
    let out = unsafe { out.as_mut() };
    guarded(|| {
        let o = opts.as_ref();
        atc_batch_on(closes, offsets, &atc_params(o)?, atc_batch_path(o)?, out)
    })
}

pub struct AtcBatchTask {
    closes: Float64Array,
    offsets: Int32Array,
    out: Float64Array,
    params: Result<(AtcParams, BatchPath)>,
}

impl Task for AtcBatchTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> napi::Result<()> {
        guarded(|| {
            let (p, path) = self.params.clone()?;
            // SAFETY: the caller keeps `out` alive and untouched until the promise settles.
            let out = unsafe { self.out.as_mut() };
            atc_batch_on(&self.closes, &self.offsets, &p, path, out)
        })
    }

    fn resolve(&mut self, _env: Env, _out: ()) -> napi::Result<()> {
        Ok(())
    }
}

/// As `atcBatchSync`, off the JS thread. The arrays are used in place (no copy):
/// do not touch them until the promise settles.
#[napi(ts_return_type = "Promise<void>")]
pub fn atc_batch_async(
    closes: Float64Array,
    offsets: Int32Array,
    out: Float64Array,
    opts: Option<AtcOptions>,
) -> AsyncTask<AtcBatchTask> {
    AsyncTask::new(AtcBatchTask {
        closes,
        offsets,
        out,
        params: atc_params(opts.as_ref()).and_then(|p| Ok((p, atc_batch_path(opts.as_ref())?))),
    })
}

#[napi]
pub struct AtcStream {
    inner: Atc,
}

#[napi]
impl AtcStream {
    #[napi(constructor)]
    pub fn new(opts: Option<AtcOptions>, state: Option<&[u8]>) -> napi::Result<Self> {
        guarded(|| {
            let o = opts.as_ref();
            let (p, path) = (atc_params(o)?, atc_path(o)?);
            let inner = match state {
                Some(b) => Atc::from_bytes_with_path(&p, b, path)?,
                None => Atc::with_path(&p, path)?,
            };
            Ok(AtcStream { inner })
        })
    }
    /// 14 columns of `x.length` values for exactly these bars.
    #[napi]
    pub fn push(&mut self, x: &[f64]) -> napi::Result<Float64Array> {
        guarded(|| Ok(Float64Array::new(run(&mut self.inner, x)?)))
    }
    #[napi]
    pub fn state(&self) -> Uint8Array {
        Uint8Array::new(self.inner.to_bytes())
    }
}
