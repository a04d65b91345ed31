//! Formulas: `compileFormula(text)`, `formulaInto(text, bars, value, named)` over the
//! caller's arrays (no copy in or out), `formulaAsync` (copies the bars in, computes off
//! the JS thread) and `FormulaStream`. The core is `crate::formula`.
use super::guarded;
use crate::formula::{Evaluator, Formula};
use napi::bindgen_prelude::{AsyncTask, Float64Array, Uint8Array};
use napi::{Env, Task};
use napi_derive::napi;
use std::sync::Arc;

#[napi(object)]
pub struct FormulaInfo {
    /// `condition`, `number` or `strategy`.
    pub kind: String,
    /// Bar fields read, in open, high, low, close, volume order.
    pub fields: Vec<String>,
    /// Assigned names, in the order assigned.
    pub names: Vec<String>,
    /// The warm-up `W`: a symbol needs at least `W + 1` bars.
    pub warmup: f64,
}

fn info(f: &Formula) -> FormulaInfo {
    FormulaInfo {
        kind: f.kind.as_str().to_string(),
        fields: f.fields.iter().map(|x| x.as_str().to_string()).collect(),
        names: f.names.clone(),
        warmup: f.warmup as f64,
    }
}

/// Compiles `text`: its kind, fields, names and warm-up, or the three-line error.
#[napi]
pub fn compile_formula(text: String) -> napi::Result<FormulaInfo> {
    guarded(|| Ok(info(&Formula::compile(&text)?)))
}

/// Evaluates `text` over `bars` (the series of its fields, in their order) into `value`
/// (empty for a strategy) and `named` (one per name), all allocated by the caller.
#[napi]
pub fn formula_into(
    text: String,
    bars: Vec<Float64Array>,
    mut value: Float64Array,
    mut named: Vec<Float64Array>,
) -> napi::Result<()> {
    guarded(|| {
        let f = Arc::new(Formula::compile(&text)?);
        let cols: Vec<&[f64]> = bars.iter().map(|b| &b[..]).collect();
        // SAFETY: JS runs nothing else while this synchronous call holds the buffers, and
        // the caller passes distinct arrays.
        let value = unsafe { value.as_mut() };
        let mut outs: Vec<&mut [f64]> = named.iter_mut().map(|b| unsafe { b.as_mut() }).collect();
        Evaluator::new(&f).push_into(&cols, value, &mut outs)
    })
}

#[napi(object)]
pub struct FormulaOutput {
    pub value: Float64Array,
    /// In the order of `names`.
    pub named: Vec<Float64Array>,
}

/// Value and named values as owned vectors (Rust's buffers, handed to JS).
pub struct Owned {
    value: Vec<f64>,
    named: Vec<Vec<f64>>,
}

fn owned(ev: &Evaluator) -> Owned {
    Owned {
        value: ev.value().to_vec(),
        named: (0..ev.formula().names.len())
            .map(|i| ev.named(i).to_vec())
            .collect(),
    }
}

fn output(o: Owned) -> FormulaOutput {
    FormulaOutput {
        value: Float64Array::new(o.value),
        named: o.named.into_iter().map(Float64Array::new).collect(),
    }
}

pub struct FormulaTask {
    text: String,
    bars: Vec<Vec<f64>>,
}

impl Task for FormulaTask {
    type Output = Owned;
    type JsValue = FormulaOutput;

    fn compute(&mut self) -> napi::Result<Owned> {
        guarded(|| {
            let f = Arc::new(Formula::compile(&self.text)?);
            let cols: Vec<&[f64]> = self.bars.iter().map(|b| &b[..]).collect();
            let mut ev = Evaluator::new(&f);
            ev.push(&cols)?;
            Ok(owned(&ev))
        })
    }

    fn resolve(&mut self, _env: Env, o: Owned) -> napi::Result<FormulaOutput> {
        Ok(output(o))
    }
}

/// As `formulaInto`, off the JS thread: the bars are copied in first, so the arrays may
/// change as soon as this returns.
#[napi(ts_return_type = "Promise<FormulaOutput>")]
pub fn formula_async(text: String, bars: Vec<Float64Array>) -> AsyncTask<FormulaTask> {
    AsyncTask::new(FormulaTask {
        text,
        bars: bars.iter().map(|b| b.to_vec()).collect(),
    })
}

/// A formula over one symbol's bars, continued across calls.
#[napi]
pub struct FormulaStream {
    ev: Evaluator,
}

#[napi]
impl FormulaStream {
    /// A new series of `text`, or one continued from `state` (bytes from `state()`).
    #[napi(constructor)]
    pub fn new(text: String, state: Option<&[u8]>) -> napi::Result<Self> {
        guarded(|| {
            let f = Arc::new(Formula::compile(&text)?);
            let ev = match state {
                Some(b) => Evaluator::from_state(&f, b)?,
                None => Evaluator::new(&f),
            };
            Ok(FormulaStream { ev })
        })
    }

    /// Kind, fields, names and warm-up of the formula.
    #[napi]
    pub fn info(&self) -> FormulaInfo {
        info(self.ev.formula())
    }

    /// The outputs for exactly these bars (the series of the fields, in their order).
    #[napi]
    pub fn push(&mut self, bars: Vec<Float64Array>) -> napi::Result<FormulaOutput> {
        guarded(|| {
            let cols: Vec<&[f64]> = bars.iter().map(|b| &b[..]).collect();
            self.ev.push(&cols)?;
            Ok(output(owned(&self.ev)))
        })
    }

    /// The carried state, to resume from later with the same text.
    #[napi]
    pub fn state(&self) -> Uint8Array {
        Uint8Array::new(self.ev.state())
    }
}
