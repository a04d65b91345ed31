//! The plan: one node per distinct subexpression, in topological order.
//!
//! Nodes are hash-consed as they are built ([`Builder::node`]): an operation with the
//! same operands and parameters is the node already built, so `sma(close, 20)` written
//! twice (or `bb_mid(close, 20)`, which is that SMA) is computed once. Operands always
//! precede their node, so evaluating in index order is a topological order.
//!
//! After checking, unreachable nodes are dropped and each node that needs a buffer gets
//! a slot: a slot is reused once the last node reading it has run, so a 100,000-term
//! sum needs three buffers, not 100,000.
use super::stateful::KernelKind;
use std::collections::HashMap;

pub type NodeId = u32;

/// A bar field read from the input, in [`Field::ALL`] order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Open,
    High,
    Low,
    Close,
    Volume,
}

impl Field {
    pub const ALL: [Field; 5] = [
        Field::Open,
        Field::High,
        Field::Low,
        Field::Close,
        Field::Volume,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Open => "open",
            Field::High => "high",
            Field::Low => "low",
            Field::Close => "close",
            Field::Volume => "volume",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cmp {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

/// One operation of the plan; operands are earlier nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Field(Field),
    /// The bits of an f64.
    Const(u64),
    Neg(NodeId),
    Add(NodeId, NodeId),
    Sub(NodeId, NodeId),
    Mul(NodeId, NodeId),
    Div(NodeId, NodeId),
    Cmp(Cmp, NodeId, NodeId),
    And(NodeId, NodeId),
    Or(NodeId, NodeId),
    Not(NodeId),
    /// `x[n]`, `n >= 1`.
    Lag(NodeId, u32),
    CrossAbove(NodeId, NodeId),
    CrossBelow(NodeId, NodeId),
    BarsSince(NodeId),
    /// `valuewhen(c, x, k)`.
    ValueWhen(NodeId, NodeId, u32),
    Count(NodeId, u32),
    State(NodeId, NodeId),
    Iff(NodeId, NodeId, NodeId),
    Na(NodeId),
    Nz(NodeId, NodeId),
    Abs(NodeId),
    Sqrt(NodeId),
    Log(NodeId),
    Min(NodeId, NodeId),
    Max(NodeId, NodeId),
    /// `(high, low, close[1])`.
    TrueRange(NodeId, NodeId, NodeId),
    /// A resumable kernel behind the skip rule: kind, length, input.
    Kernel(KernelKind, u32, NodeId),
}

impl Op {
    /// The operands, in order.
    pub fn args(&self) -> ([NodeId; 3], usize) {
        use Op::*;
        match *self {
            Field(_) | Const(_) => ([0; 3], 0),
            Neg(a)
            | Not(a)
            | Lag(a, _)
            | BarsSince(a)
            | Count(a, _)
            | Na(a)
            | Abs(a)
            | Sqrt(a)
            | Log(a)
            | Kernel(_, _, a) => ([a, 0, 0], 1),
            Add(a, b)
            | Sub(a, b)
            | Mul(a, b)
            | Div(a, b)
            | Cmp(_, a, b)
            | And(a, b)
            | Or(a, b)
            | CrossAbove(a, b)
            | CrossBelow(a, b)
            | ValueWhen(a, b, _)
            | State(a, b)
            | Nz(a, b)
            | Min(a, b)
            | Max(a, b) => ([a, b, 0], 2),
            Iff(a, b, c) | TrueRange(a, b, c) => ([a, b, c], 3),
        }
    }

    /// The same operation over renumbered operands.
    pub fn map(&self, f: impl Fn(NodeId) -> NodeId) -> Op {
        use Op::*;
        match *self {
            Field(x) => Field(x),
            Const(x) => Const(x),
            Neg(a) => Neg(f(a)),
            Add(a, b) => Add(f(a), f(b)),
            Sub(a, b) => Sub(f(a), f(b)),
            Mul(a, b) => Mul(f(a), f(b)),
            Div(a, b) => Div(f(a), f(b)),
            Cmp(c, a, b) => Cmp(c, f(a), f(b)),
            And(a, b) => And(f(a), f(b)),
            Or(a, b) => Or(f(a), f(b)),
            Not(a) => Not(f(a)),
            Lag(a, n) => Lag(f(a), n),
            CrossAbove(a, b) => CrossAbove(f(a), f(b)),
            CrossBelow(a, b) => CrossBelow(f(a), f(b)),
            BarsSince(a) => BarsSince(f(a)),
            ValueWhen(a, b, k) => ValueWhen(f(a), f(b), k),
            Count(a, n) => Count(f(a), n),
            State(a, b) => State(f(a), f(b)),
            Iff(a, b, c) => Iff(f(a), f(b), f(c)),
            Na(a) => Na(f(a)),
            Nz(a, b) => Nz(f(a), f(b)),
            Abs(a) => Abs(f(a)),
            Sqrt(a) => Sqrt(f(a)),
            Log(a) => Log(f(a)),
            Min(a, b) => Min(f(a), f(b)),
            Max(a, b) => Max(f(a), f(b)),
            TrueRange(a, b, c) => TrueRange(f(a), f(b), f(c)),
            Kernel(k, l, a) => Kernel(k, l, f(a)),
        }
    }
}

/// Builds nodes, sharing equal ones.
#[derive(Default)]
pub struct Builder {
    pub ops: Vec<Op>,
    seen: HashMap<Op, NodeId>,
}

impl Builder {
    /// The node for `op`: the existing one when an equal node was built before.
    pub fn node(&mut self, op: Op) -> NodeId {
        if let Some(&id) = self.seen.get(&op) {
            return id;
        }
        let id = self.ops.len() as NodeId;
        self.ops.push(op);
        self.seen.insert(op, id);
        id
    }
    pub fn constant(&mut self, v: f64) -> NodeId {
        self.node(Op::Const(v.to_bits()))
    }
    pub fn field(&mut self, f: Field) -> NodeId {
        self.node(Op::Field(f))
    }
    /// `x[n]`; `x` itself for `n = 0`.
    pub fn lag(&mut self, x: NodeId, n: u32) -> NodeId {
        if n == 0 {
            x
        } else {
            self.node(Op::Lag(x, n))
        }
    }
}

/// Where a node's values are during a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Src {
    /// Column `j` of the input (`Formula::fields[j]`).
    Input(usize),
    Slot(usize),
}

/// The checked plan: reachable nodes only, with buffers assigned.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub ops: Vec<Op>,
    /// Where each node writes (or, for a field, where it is read).
    pub src: Vec<Src>,
    pub slots: usize,
    /// The node of the formula's value (none for a strategy).
    pub value: Option<NodeId>,
    /// The node of each named value, in `Formula::names` order.
    pub named: Vec<NodeId>,
    /// Bar fields read, in [`Field::ALL`] order.
    pub fields: Vec<Field>,
}

impl Plan {
    /// Keeps the nodes the outputs need (renumbered, order kept) and assigns slots.
    pub fn finish(b: Builder, value: Option<NodeId>, named: &[NodeId]) -> Plan {
        let n = b.ops.len();
        let mut live = vec![false; n];
        value
            .iter()
            .chain(named)
            .for_each(|&o| live[o as usize] = true);
        for i in (0..n).rev() {
            if live[i] {
                let (a, k) = b.ops[i].args();
                a[..k].iter().for_each(|&x| live[x as usize] = true);
            }
        }
        let mut new_id = vec![NodeId::MAX; n];
        let mut ops = Vec::new();
        for i in 0..n {
            if live[i] {
                new_id[i] = ops.len() as NodeId;
                ops.push(b.ops[i].map(|x| new_id[x as usize]));
            }
        }
        let value = value.map(|v| new_id[v as usize]);
        let named: Vec<NodeId> = named.iter().map(|&v| new_id[v as usize]).collect();
        let mut fields: Vec<Field> = ops
            .iter()
            .filter_map(|o| match o {
                Op::Field(f) => Some(*f),
                _ => None,
            })
            .collect();
        if fields.is_empty() {
            // A formula that reads no field still needs one column to know its bars.
            fields.push(Field::Close);
        }
        fields.sort();
        fields.dedup();
        let (src, slots) = assign_slots(&ops, &fields);
        Plan {
            ops,
            src,
            slots,
            value,
            named,
            fields,
        }
    }
}

/// A slot per non-field node, reused after the last node that reads it.
fn assign_slots(ops: &[Op], fields: &[Field]) -> (Vec<Src>, usize) {
    let n = ops.len();
    let mut last = vec![0usize; n];
    for (i, op) in ops.iter().enumerate() {
        last[i] = i;
        let (a, k) = op.args();
        a[..k].iter().for_each(|&x| last[x as usize] = i);
    }
    let mut src = Vec::with_capacity(n);
    let (mut free, mut slots) = (Vec::new(), 0usize);
    for (i, op) in ops.iter().enumerate() {
        if let Op::Field(f) = op {
            let j = fields.iter().position(|g| g == f).expect("a read field");
            src.push(Src::Input(j));
            continue;
        }
        let s = free.pop().unwrap_or_else(|| {
            slots += 1;
            slots - 1
        });
        src.push(Src::Slot(s));
        let (a, k) = op.args();
        let mut done: Vec<NodeId> = a[..k].to_vec();
        done.sort_unstable();
        done.dedup();
        for x in done {
            if last[x as usize] == i {
                if let Src::Slot(t) = src[x as usize] {
                    free.push(t);
                }
            }
        }
        if last[i] == i {
            // Read by no later node (an output only): its slot is free after the copy.
            free.push(s);
        }
    }
    (src, slots)
}
