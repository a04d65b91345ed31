//! The evaluator: one symbol's bars in blocks of [`BLOCK`], every node of the plan in
//! order over the block, each into a buffer reused from block to block and push to
//! push. Stateful nodes carry their state across blocks and pushes, so any split of
//! the bars gives the same numbers, bit for bit, as one push.
use super::bars::{BarsSince, Count, Cross, Lookback, State, ValueWhen};
use super::elementwise as ew;
use super::plan::{NodeId, Op, Src};
use super::skip::{self, KernelNode, Scratch};
use super::stateful::{AnyKernel, KernelKind};
use super::{Formula, Kind};
use crate::kernel::check_not_infinite;
use crate::{Error, Result};
use std::sync::Arc;

/// Bars per block: every buffer of the plan holds one block (in L1/L2 together).
pub const BLOCK: usize = 2048;

/// The carried state of one node.
#[derive(Clone, Debug)]
pub(crate) enum NodeState {
    Plain,
    Lag(Lookback),
    Cross(Cross),
    BarsSince(BarsSince),
    ValueWhen(ValueWhen),
    Count(Count),
    State(State),
    Kernel(Box<KernelNode>),
}

impl NodeState {
    pub(crate) fn new(op: &Op) -> Result<NodeState> {
        Ok(match *op {
            Op::Lag(_, n) => NodeState::Lag(Lookback::new(n)),
            Op::CrossAbove(..) | Op::CrossBelow(..) => NodeState::Cross(Cross::default()),
            Op::BarsSince(_) => NodeState::BarsSince(BarsSince::default()),
            Op::ValueWhen(_, _, k) => NodeState::ValueWhen(ValueWhen::new(k)),
            Op::Count(_, n) => NodeState::Count(Count::new(n)),
            Op::State(..) => NodeState::State(State::default()),
            Op::Kernel(k, len, _) => {
                NodeState::Kernel(Box::new(KernelNode::new(AnyKernel::new(k, len as usize)?)))
            }
            _ => NodeState::Plain,
        })
    }
}

/// One symbol's evaluation, resumable. `Send`.
pub struct Evaluator {
    pub(crate) f: Arc<Formula>,
    pub(crate) seen: u64,
    pub(crate) nodes: Vec<NodeState>,
    slots: Vec<Vec<f64>>,
    scratch: Scratch,
    value: Vec<f64>,
    named: Vec<Vec<f64>>,
    /// `(node, output)` sorted by node: output 0 is the value, `1 + i` named value `i`.
    copies: Vec<(NodeId, usize)>,
}

impl Evaluator {
    /// A new series of `f`.
    pub fn new(f: &Arc<Formula>) -> Evaluator {
        let nodes = f
            .plan
            .ops
            .iter()
            .map(|op| NodeState::new(op).expect("lengths checked when compiled"))
            .collect();
        let mut copies: Vec<(NodeId, usize)> = f.plan.value.iter().map(|&v| (v, 0)).collect();
        copies.extend(f.plan.named.iter().enumerate().map(|(i, &v)| (v, i + 1)));
        copies.sort_unstable();
        Evaluator {
            f: f.clone(),
            seen: 0,
            nodes,
            slots: vec![vec![0.0; BLOCK]; f.plan.slots],
            scratch: Scratch::with_capacity(BLOCK),
            value: Vec::new(),
            named: vec![Vec::new(); f.names.len()],
            copies,
        }
    }

    pub fn formula(&self) -> &Arc<Formula> {
        &self.f
    }

    /// Bars pushed so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// The formula's value for the last push (empty for a strategy).
    pub fn value(&self) -> &[f64] {
        &self.value
    }

    /// Named value `i` (of `Formula::names`) for the last push.
    pub fn named(&self, i: usize) -> &[f64] {
        &self.named[i]
    }

    /// Continues with the next bars: `bars[j]` is the series of `fields[j]`, all of one
    /// length (NaN = na). Fills [`Evaluator::value`] and [`Evaluator::named`] for exactly
    /// these bars.
    ///
    /// # Errors
    /// `InvalidParam` when the series do not match the fields; `BadInput` naming the
    /// field and bar of an infinite value (nothing is then consumed), or the bar of an
    /// `atc` input <= 0 (the evaluator must then be dropped).
    pub fn push(&mut self, bars: &[&[f64]]) -> Result<()> {
        let n = self.check(bars)?;
        let mut value = std::mem::take(&mut self.value);
        let mut named = std::mem::take(&mut self.named);
        value.resize(if self.f.kind == Kind::Strategy { 0 } else { n }, f64::NAN);
        named.iter_mut().for_each(|v| v.resize(n, f64::NAN));
        let r = {
            let mut outs: Vec<&mut [f64]> = std::iter::once(&mut value[..])
                .chain(named.iter_mut().map(|v| &mut v[..]))
                .collect();
            self.run(bars, n, &mut outs)
        };
        self.value = value;
        self.named = named;
        r
    }

    /// As [`Evaluator::push`], writing into the caller's buffers: `value` (empty for a
    /// strategy) and one per name, each as long as the bars.
    ///
    /// # Errors
    /// As [`Evaluator::push`]; `InvalidParam` when a buffer has the wrong length.
    pub fn push_into(
        &mut self,
        bars: &[&[f64]],
        value: &mut [f64],
        named: &mut [&mut [f64]],
    ) -> Result<()> {
        let n = self.check(bars)?;
        let want = if self.f.kind == Kind::Strategy { 0 } else { n };
        if value.len() != want || named.len() != self.f.names.len() {
            return Err(Error::param(
                "formula: output buffers do not match the formula",
            ));
        }
        if named.iter().any(|v| v.len() != n) {
            return Err(Error::param(
                "formula: every output buffer must be as long as the bars",
            ));
        }
        let mut outs: Vec<&mut [f64]> = std::iter::once(value)
            .chain(named.iter_mut().map(|v| &mut v[..]))
            .collect();
        self.run(bars, n, &mut outs)
    }

    /// The number of bars, once the series match the fields and hold no infinity.
    fn check(&self, bars: &[&[f64]]) -> Result<usize> {
        let fields = &self.f.fields;
        let list = || {
            fields
                .iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if bars.len() != fields.len() {
            return Err(Error::param(format!(
                "formula: expected {} series ({}), got {}",
                fields.len(),
                list(),
                bars.len()
            )));
        }
        let n = bars[0].len();
        if let Some(j) = bars.iter().position(|b| b.len() != n) {
            return Err(Error::param(format!(
                "formula: {} has {} values but {} has {n}: every field must have one value per bar",
                fields[j].as_str(),
                bars[j].len(),
                fields[0].as_str()
            )));
        }
        for (f, b) in fields.iter().zip(bars) {
            check_not_infinite(f.as_str(), b, self.seen)?;
        }
        Ok(n)
    }

    fn run(&mut self, bars: &[&[f64]], n: usize, outs: &mut [&mut [f64]]) -> Result<()> {
        let f = self.f.clone();
        let plan = &f.plan;
        let mut lo = 0;
        while lo < n {
            let hi = (lo + BLOCK).min(n);
            let nb = hi - lo;
            let base = self.seen + lo as u64;
            let mut ci = 0;
            for (i, op) in plan.ops.iter().enumerate() {
                if let Src::Slot(s) = plan.src[i] {
                    let mut out = std::mem::take(&mut self.slots[s]);
                    let r = exec(
                        op,
                        &mut self.nodes[i],
                        Inputs {
                            src: &plan.src,
                            slots: &self.slots,
                            bars,
                            lo,
                            hi,
                        },
                        &mut out[..nb],
                        base,
                        &mut self.scratch,
                    );
                    self.slots[s] = out;
                    if let Err(e) = r {
                        self.seen += lo as u64;
                        return Err(e);
                    }
                }
                while ci < self.copies.len() && self.copies[ci].0 as usize == i {
                    let from = match plan.src[i] {
                        Src::Input(j) => &bars[j][lo..hi],
                        Src::Slot(s) => &self.slots[s][..nb],
                    };
                    outs[self.copies[ci].1][lo..hi].copy_from_slice(from);
                    ci += 1;
                }
            }
            lo = hi;
        }
        self.seen += n as u64;
        Ok(())
    }
}

/// Where a node's operands are for the current block.
struct Inputs<'a> {
    src: &'a [Src],
    slots: &'a [Vec<f64>],
    bars: &'a [&'a [f64]],
    lo: usize,
    hi: usize,
}

impl Inputs<'_> {
    #[inline]
    fn get(&self, id: NodeId) -> &[f64] {
        match self.src[id as usize] {
            Src::Input(j) => &self.bars[j][self.lo..self.hi],
            Src::Slot(s) => &self.slots[s][..self.hi - self.lo],
        }
    }
}

fn exec(
    op: &Op,
    st: &mut NodeState,
    x: Inputs,
    out: &mut [f64],
    base: u64,
    sc: &mut Scratch,
) -> Result<()> {
    let g = |id| x.get(id);
    match (*op, st) {
        (Op::Const(bits), _) => ew::fill(f64::from_bits(bits), out),
        (Op::Neg(a), _) => ew::neg(g(a), out),
        (Op::Add(a, b), _) => ew::add(g(a), g(b), out),
        (Op::Sub(a, b), _) => ew::sub(g(a), g(b), out),
        (Op::Mul(a, b), _) => ew::mul(g(a), g(b), out),
        (Op::Div(a, b), _) => ew::div(g(a), g(b), out),
        (Op::Cmp(c, a, b), _) => ew::cmp(c, g(a), g(b), out),
        (Op::And(a, b), _) => ew::and(g(a), g(b), out),
        (Op::Or(a, b), _) => ew::or(g(a), g(b), out),
        (Op::Not(a), _) => ew::not(g(a), out),
        (Op::Iff(c, a, b), _) => ew::iff(g(c), g(a), g(b), out),
        (Op::Na(a), _) => ew::na(g(a), out),
        (Op::Nz(a, b), _) => ew::nz(g(a), g(b), out),
        (Op::Abs(a), _) => ew::abs(g(a), out),
        (Op::Sqrt(a), _) => ew::sqrt(g(a), out),
        (Op::Log(a), _) => ew::log(g(a), out),
        (Op::Min(a, b), _) => ew::min(g(a), g(b), out),
        (Op::Max(a, b), _) => ew::max(g(a), g(b), out),
        (Op::TrueRange(h, l, c), _) => ew::true_range(g(h), g(l), g(c), out),
        (Op::Lag(a, _), NodeState::Lag(s)) => s.run(g(a), out),
        (Op::CrossAbove(a, b), NodeState::Cross(s)) => s.run(true, g(a), g(b), out),
        (Op::CrossBelow(a, b), NodeState::Cross(s)) => s.run(false, g(a), g(b), out),
        (Op::BarsSince(c), NodeState::BarsSince(s)) => s.run(base, g(c), out),
        (Op::ValueWhen(c, v, _), NodeState::ValueWhen(s)) => s.run(g(c), g(v), out),
        (Op::Count(c, _), NodeState::Count(s)) => s.run(base, g(c), out),
        (Op::State(u, d), NodeState::State(s)) => s.run(g(u), g(d), out),
        (Op::Kernel(kind, len, a), NodeState::Kernel(k)) => {
            // The message is made only when it is needed (not once per block).
            let what = || format!("atc(x, {len})");
            let positive =
                (kind == KernelKind::Atc).then_some((base, &what as &dyn Fn() -> String));
            skip::run(k, g(a), out, sc, positive)?;
        }
        (op, _) => unreachable!("a node without its state: {op:?}"),
    }
    Ok(())
}
