//! Each function and derived field as plan nodes. Where the spec defines a function by
//! others, it is built from them, so equal parts are shared: `bb_mid` is `sma`,
//! `bb_upper`/`bb_lower` are `sma +/- k * stdev` (Bollinger's own arithmetic), `atr` is
//! `rma(tr, L)`, `macd*` are EMAs and their difference, `stoch_k` is built on
//! `highest`/`lowest`, `stoch_d` is its `sma`, `crosses` is either crossing, `change`
//! and `roc` use `x[n]`, and `trend_state` is `state` of the two crossings.
use super::plan::{Builder, Field, NodeId, Op};
use super::stateful::KernelKind;

/// A derived or plain bar field; `None` when `name` is not a field.
pub fn field(b: &mut Builder, name: &str) -> Option<NodeId> {
    let mut f = |x| b.field(x);
    let (o, h, l, c) = match name {
        "open" => return Some(f(Field::Open)),
        "high" => return Some(f(Field::High)),
        "low" => return Some(f(Field::Low)),
        "close" => return Some(f(Field::Close)),
        "volume" => return Some(f(Field::Volume)),
        "hl2" | "hlc3" | "ohlc4" | "tr" => (
            (name == "ohlc4").then(|| f(Field::Open)),
            f(Field::High),
            f(Field::Low),
            (name != "hl2").then(|| f(Field::Close)),
        ),
        _ => return None,
    };
    Some(match (name, o, c) {
        ("hl2", _, _) => {
            let s = b.node(Op::Add(h, l));
            let two = b.constant(2.0);
            b.node(Op::Div(s, two))
        }
        ("hlc3", _, Some(c)) => {
            let s = b.node(Op::Add(h, l));
            let s = b.node(Op::Add(s, c));
            let three = b.constant(3.0);
            b.node(Op::Div(s, three))
        }
        ("ohlc4", Some(o), Some(c)) => {
            let s = b.node(Op::Add(o, h));
            let s = b.node(Op::Add(s, l));
            let s = b.node(Op::Add(s, c));
            let four = b.constant(4.0);
            b.node(Op::Div(s, four))
        }
        (_, _, Some(c)) => true_range(b, h, l, c),
        _ => unreachable!("every derived field is listed"),
    })
}

fn true_range(b: &mut Builder, h: NodeId, l: NodeId, c: NodeId) -> NodeId {
    let pc = b.lag(c, 1);
    b.node(Op::TrueRange(h, l, pc))
}

fn kernel(b: &mut Builder, k: KernelKind, len: f64, x: NodeId) -> NodeId {
    b.node(Op::Kernel(k, len as u32, x))
}

/// The node of `name(args)`: `s[i]` is the node of series argument `i`, `lits[i]` the
/// value of literal argument `i` (defaults filled in).
pub fn call(
    b: &mut Builder,
    name: &str,
    kind: Option<KernelKind>,
    s: &[NodeId],
    lits: &[f64],
) -> NodeId {
    if let Some(k) = kind {
        return kernel(b, k, lits[1], s[0]);
    }
    let n = |i: usize| lits[i] as u32;
    match name {
        "bb_mid" => kernel(b, KernelKind::Sma, lits[1], s[0]),
        "bb_upper" | "bb_lower" => {
            let mid = kernel(b, KernelKind::Sma, lits[1], s[0]);
            let sd = kernel(b, KernelKind::Stdev, lits[1], s[0]);
            let k = b.constant(lits[2]);
            let ksd = b.node(Op::Mul(k, sd));
            b.node(if name == "bb_upper" {
                Op::Add(mid, ksd)
            } else {
                Op::Sub(mid, ksd)
            })
        }
        "atr" => {
            let tr = field(b, "tr").expect("tr");
            kernel(b, KernelKind::Rma, lits[0], tr)
        }
        "macd" | "macd_signal" | "macd_hist" => {
            let fast = kernel(b, KernelKind::Ema, lits[1], s[0]);
            let slow = kernel(b, KernelKind::Ema, lits[2], s[0]);
            let m = b.node(Op::Sub(fast, slow));
            if name == "macd" {
                return m;
            }
            let sig = kernel(b, KernelKind::Ema, lits[3], m);
            if name == "macd_signal" {
                return sig;
            }
            b.node(Op::Sub(m, sig))
        }
        "stoch_k" => stoch_k(b, lits[0]),
        "stoch_d" => {
            let k = stoch_k(b, lits[0]);
            kernel(b, KernelKind::Sma, lits[1], k)
        }
        "change" | "roc" => {
            let past = b.lag(s[0], n(1));
            let diff = b.node(Op::Sub(s[0], past));
            if name == "change" {
                diff
            } else {
                b.node(Op::Div(diff, past))
            }
        }
        "crosses_above" => b.node(Op::CrossAbove(s[0], s[1])),
        "crosses_below" => b.node(Op::CrossBelow(s[0], s[1])),
        "crosses" => {
            let up = b.node(Op::CrossAbove(s[0], s[1]));
            let down = b.node(Op::CrossBelow(s[0], s[1]));
            b.node(Op::Or(up, down))
        }
        "trend_state" => {
            let up = b.node(Op::CrossAbove(s[0], s[1]));
            let down = b.node(Op::CrossBelow(s[0], s[1]));
            b.node(Op::State(up, down))
        }
        "barssince" => b.node(Op::BarsSince(s[0])),
        "valuewhen" => b.node(Op::ValueWhen(s[0], s[1], n(2))),
        "count" => b.node(Op::Count(s[0], n(1))),
        "state" => b.node(Op::State(s[0], s[1])),
        "iff" => b.node(Op::Iff(s[0], s[1], s[2])),
        "na" => b.node(Op::Na(s[0])),
        "nz" => b.node(Op::Nz(s[0], s[1])),
        "abs" => b.node(Op::Abs(s[0])),
        "sqrt" => b.node(Op::Sqrt(s[0])),
        "log" => b.node(Op::Log(s[0])),
        "min" => b.node(Op::Min(s[0], s[1])),
        "max" => b.node(Op::Max(s[0], s[1])),
        _ => unreachable!("every function of the table is lowered: {name}"),
    }
}

/// `100 * (close - lowest(low, L)) / (highest(high, L) - lowest(low, L))`.
fn stoch_k(b: &mut Builder, len: f64) -> NodeId {
    let (h, l, c) = (
        b.field(Field::High),
        b.field(Field::Low),
        b.field(Field::Close),
    );
    let lo = kernel(b, KernelKind::Lowest, len, l);
    let hi = kernel(b, KernelKind::Highest, len, h);
    let hundred = b.constant(100.0);
    let num = b.node(Op::Sub(c, lo));
    let num = b.node(Op::Mul(hundred, num));
    let range = b.node(Op::Sub(hi, lo));
    b.node(Op::Div(num, range))
}
