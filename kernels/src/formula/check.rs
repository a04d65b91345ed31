//! Names, types, literal arguments and warm-up, checked in one bottom-up walk over the
//! arena (a loop, not recursion), building the plan as it goes.
use super::ast::{Ast, BinOp, ExprKind, Stmt};
use super::error::{at, closest, Checked, Pos};
use super::functions::{lookup, Arg, Func, Ty, Warm, FIELDS, FUNCTIONS};
use super::lower;
use super::plan::{Builder, NodeId, Op, Plan};
use std::collections::HashMap;

/// The rule names of a strategy, in [`super::Formula::rules`] order.
pub const RULES: [&str; 4] = ["entry", "exit", "short_entry", "short_exit"];

pub const TYPE_ERROR: &str = "expected a condition, got a number: compare it, e.g. `x > 0`";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Condition,
    Number,
    Strategy,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Condition => "condition",
            Kind::Number => "number",
            Kind::Strategy => "strategy",
        }
    }
}

/// What checking gives the compiler.
pub struct Checked2 {
    pub plan: Plan,
    pub kind: Kind,
    pub names: Vec<String>,
    pub warmup: u64,
    pub rules: [Option<usize>; 4],
    /// Where the final expression starts (none for a strategy).
    pub value_pos: Option<Pos>,
}

#[derive(Clone, Copy, Debug)]
struct Info {
    ty: Ty,
    w: u64,
    node: NodeId,
    /// The value when the expression is a number literal (or `-` one).
    lit: Option<f64>,
}

struct Named {
    info: Info,
    line: u32,
}

/// Checks `ast` (parsed from `text`) and builds its plan.
///
/// # Errors
/// The first error in the text, at its place.
pub fn check(text: &str, ast: &Ast) -> Checked<Checked2> {
    let mut b = Builder::default();
    let mut info: Vec<Info> = Vec::with_capacity(ast.exprs.len());
    let mut scope: HashMap<&str, Named> = HashMap::new();
    let mut names: Vec<(String, Info, Pos)> = Vec::new();
    let later: HashMap<&str, u32> = ast
        .stmts
        .iter()
        .rev()
        .filter_map(|s| s.name.as_ref().map(|(n, p)| (&**n, p.line)))
        .collect();
    let mut value: Option<(Info, Pos)> = None;
    let last = ast.stmts.len().saturating_sub(1);
    for (si, st) in ast.stmts.iter().enumerate() {
        let end = ast
            .stmts
            .get(si + 1)
            .map_or(ast.exprs.len(), |n| n.first as usize);
        for id in st.first as usize..end {
            let i = expr(&mut b, ast, &info, &scope, &later, id)?;
            info.push(i);
        }
        let e = info[st.expr as usize];
        let pos = ast.exprs[st.expr as usize].pos;
        match &st.name {
            None if si != last => {
                return at(
                    pos,
                    "only the last statement may be a bare expression: assign it a name, e.g. `x = ...`",
                )
            }
            None => value = Some((e, pos)),
            Some((name, npos)) => assign(&scope, st, name, *npos, e, pos)?,
        }
        if let Some((name, npos)) = &st.name {
            scope.insert(
                name,
                Named {
                    info: e,
                    line: npos.line,
                },
            );
            names.push((name.to_string(), e, *npos));
        }
    }
    finish(text, b, value, names)
}

fn assign(
    scope: &HashMap<&str, Named>,
    _st: &Stmt,
    name: &str,
    npos: Pos,
    e: Info,
    pos: Pos,
) -> Checked<()> {
    if lookup(name).is_some() {
        return at(npos, format!("cannot assign '{name}': it is a function"));
    }
    if FIELDS.contains(&name) {
        return at(npos, format!("cannot assign '{name}': it is a bar field"));
    }
    if let Some(prev) = scope.get(name) {
        return at(
            npos,
            format!(
                "cannot assign '{name}' again: it was assigned on line {}",
                prev.line
            ),
        );
    }
    if RULES.contains(&name) && e.ty != Ty::Cond {
        return at(pos, TYPE_ERROR);
    }
    Ok(())
}

fn finish(
    text: &str,
    b: Builder,
    value: Option<(Info, Pos)>,
    names: Vec<(String, Info, Pos)>,
) -> Checked<Checked2> {
    let rules: [Option<usize>; 4] =
        std::array::from_fn(|r| names.iter().position(|(n, _, _)| n == RULES[r]));
    let first_rule = names.iter().find(|(n, _, _)| RULES.contains(&n.as_str()));
    let named: Vec<NodeId> = names.iter().map(|(_, i, _)| i.node).collect();
    let (kind, warmup, value_node, value_pos) = if let Some((_, _, rpos)) = first_rule {
        if let Some((_, vpos)) = value {
            return at(
                vpos,
                "a strategy has no final expression: assign it a name (entry, exit, \
                 short_entry, short_exit or another)",
            );
        }
        let Some(entry) = rules[0] else {
            return at(
                *rpos,
                "a strategy needs 'entry': assign it, e.g. `entry = crosses_above(close, sma(close, 20))`",
            );
        };
        let w = rules
            .iter()
            .flatten()
            .map(|&r| names[r].1.w)
            .max()
            .unwrap_or(names[entry].1.w);
        (Kind::Strategy, w, None, None)
    } else {
        let Some((v, vpos)) = value else {
            return at(
                end_of(text),
                "the formula has no value: end it with an expression, or assign `entry` for a strategy",
            );
        };
        let kind = if v.ty == Ty::Cond {
            Kind::Condition
        } else {
            Kind::Number
        };
        (kind, v.w, Some(v.node), Some(vpos))
    };
    Ok(Checked2 {
        plan: Plan::finish(b, value_node, &named),
        kind,
        names: names.into_iter().map(|(n, _, _)| n).collect(),
        warmup,
        rules,
        value_pos,
    })
}

/// Just after the last character of the text.
fn end_of(text: &str) -> Pos {
    let line = text.split('\n').count() as u32;
    let last = text.rsplit('\n').next().unwrap_or("");
    let last = last.strip_suffix('\r').unwrap_or(last);
    Pos {
        line,
        col: last.chars().count() as u32 + 1,
    }
}

fn num(b: &mut Builder, v: f64) -> Info {
    Info {
        ty: Ty::Num,
        w: 0,
        node: b.constant(v),
        lit: Some(v),
    }
}

fn expr(
    b: &mut Builder,
    ast: &Ast,
    info: &[Info],
    scope: &HashMap<&str, Named>,
    later: &HashMap<&str, u32>,
    id: usize,
) -> Checked<Info> {
    let e = &ast.exprs[id];
    let get = |x: u32| info[x as usize];
    let need_cond = |x: u32| -> Checked<Info> {
        let i = get(x);
        if i.ty != Ty::Cond {
            return at(ast.exprs[x as usize].pos, TYPE_ERROR);
        }
        Ok(i)
    };
    Ok(match &e.kind {
        ExprKind::Num(v) => num(b, *v),
        ExprKind::Bool(t) => Info {
            ty: Ty::Cond,
            w: 0,
            node: b.constant(if *t { 1.0 } else { 0.0 }),
            lit: None,
        },
        ExprKind::Neg(x) => {
            let i = get(*x);
            if let Some(v) = i.lit {
                return Ok(num(b, -v));
            }
            Info {
                ty: Ty::Num,
                w: i.w,
                node: b.node(Op::Neg(i.node)),
                lit: None,
            }
        }
        ExprKind::Not(x) => {
            let i = need_cond(*x)?;
            Info {
                ty: Ty::Cond,
                w: i.w,
                node: b.node(Op::Not(i.node)),
                lit: None,
            }
        }
        ExprKind::Bin(op, x, y) => {
            let (i, j) = if matches!(op, BinOp::And | BinOp::Or) {
                (need_cond(*x)?, need_cond(*y)?)
            } else {
                (get(*x), get(*y))
            };
            let (a, c) = (i.node, j.node);
            let (o, ty) = match op {
                BinOp::Add => (Op::Add(a, c), Ty::Num),
                BinOp::Sub => (Op::Sub(a, c), Ty::Num),
                BinOp::Mul => (Op::Mul(a, c), Ty::Num),
                BinOp::Div => (Op::Div(a, c), Ty::Num),
                BinOp::Cmp(cmp) => (Op::Cmp(*cmp, a, c), Ty::Cond),
                BinOp::And => (Op::And(a, c), Ty::Cond),
                BinOp::Or => (Op::Or(a, c), Ty::Cond),
            };
            Info {
                ty,
                w: i.w.max(j.w),
                node: b.node(o),
                lit: None,
            }
        }
        ExprKind::Index(x, n, npos) => {
            let i = get(*x);
            let n = offset(*n, *npos)?;
            Info {
                ty: i.ty,
                w: i.w + n as u64,
                node: b.lag(i.node, n),
                lit: None,
            }
        }
        ExprKind::Name(name) => name_value(b, name, e.pos, scope, later)?,
        ExprKind::Call { name, args } => {
            let Some(f) = lookup(name) else {
                return not_a_function(name, e.pos, scope);
            };
            call(b, ast, info, f, args, e.pos)?
        }
    })
}

fn offset(n: f64, pos: Pos) -> Checked<u32> {
    let hi = crate::kernel::MAX_LENGTH as f64;
    if n.fract() != 0.0 || !(0.0..=hi).contains(&n) {
        return at(
            pos,
            format!(
                "the offset in x[n] must be an integer from 0 to {}, got {n}",
                crate::kernel::MAX_LENGTH
            ),
        );
    }
    Ok(n as u32)
}

fn name_value(
    b: &mut Builder,
    name: &str,
    pos: Pos,
    scope: &HashMap<&str, Named>,
    later: &HashMap<&str, u32>,
) -> Checked<Info> {
    if let Some(n) = scope.get(name) {
        return Ok(n.info);
    }
    if let Some(node) = lower::field(b, name) {
        return Ok(Info {
            ty: Ty::Num,
            w: u64::from(name == "tr"),
            node,
            lit: None,
        });
    }
    if let Some(f) = lookup(name) {
        return at(
            pos,
            format!("'{name}' is a function: call it, e.g. {}", f.signature()),
        );
    }
    if let Some(line) = later.get(name) {
        return at(
            pos,
            format!("'{name}' is used before it is assigned (on line {line})"),
        );
    }
    let known = FIELDS
        .iter()
        .copied()
        .chain(scope.keys().copied())
        .chain(FUNCTIONS.iter().map(|f| f.name));
    let hint = closest(name, known)
        .map(|k| format!(" (did you mean '{k}'?)"))
        .unwrap_or_default();
    at(pos, format!("unknown name '{name}'{hint}"))
}

fn not_a_function<T>(name: &str, pos: Pos, scope: &HashMap<&str, Named>) -> Checked<T> {
    if FIELDS.contains(&name) {
        return at(pos, format!("'{name}' is a bar field, not a function"));
    }
    if scope.contains_key(name) {
        return at(pos, format!("'{name}' is a named value, not a function"));
    }
    let hint = closest(name, FUNCTIONS.iter().map(|f| f.name))
        .map(|k| format!(" (did you mean '{k}'?)"))
        .unwrap_or_default();
    at(pos, format!("unknown function '{name}'{hint}"))
}

fn count_message(f: &Func, got: usize) -> String {
    let (r, t) = (f.required(), f.params.len());
    let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
    let takes = if r == t {
        format!("{r} {}", plural(r))
    } else if r == 0 {
        format!("at most {t} {}", plural(t))
    } else if t == r + 1 {
        format!("{r} or {t} arguments")
    } else {
        format!("{r} to {t} arguments")
    };
    format!("{} takes {takes}, {}, got {got}", f.name, f.signature())
}

fn call(
    b: &mut Builder,
    ast: &Ast,
    info: &[Info],
    f: &Func,
    args: &[u32],
    pos: Pos,
) -> Checked<Info> {
    if args.len() < f.required() || args.len() > f.params.len() {
        return at(pos, count_message(f, args.len()));
    }
    let mut series = [0 as NodeId; 4];
    let mut lits = [0f64; 4];
    let (mut w, mut tys) = (0u64, Vec::new());
    for (k, p) in f.params.iter().enumerate() {
        let Some(&a) = args.get(k) else {
            let v = p.default.expect("a default for an omitted argument");
            match p.arg {
                Arg::Int(..) | Arg::Real => lits[k] = v,
                _ => series[k] = b.constant(v),
            }
            continue;
        };
        let i = info[a as usize];
        let apos = ast.exprs[a as usize].pos;
        match p.arg {
            Arg::Int(lo, hi) => {
                let Some(v) = i.lit else {
                    return at(
                        apos,
                        format!(
                            "argument {} of {} must be a number written in the formula \
                             (an integer from {lo} to {hi})",
                            p.name,
                            f.signature()
                        ),
                    );
                };
                if v.fract() != 0.0 || v < f64::from(lo) || v > f64::from(hi) {
                    return at(
                        apos,
                        format!(
                            "argument {} of {} must be an integer from {lo} to {hi}, got {v}",
                            p.name,
                            f.signature()
                        ),
                    );
                }
                lits[k] = v;
            }
            Arg::Real => {
                let Some(v) = i.lit else {
                    return at(
                        apos,
                        format!(
                            "argument {} of {} must be a number written in the formula",
                            p.name,
                            f.signature()
                        ),
                    );
                };
                lits[k] = v;
            }
            Arg::Cond | Arg::Num | Arg::Any => {
                if p.arg == Arg::Cond && i.ty != Ty::Cond {
                    return at(apos, TYPE_ERROR);
                }
                if p.arg == Arg::Any {
                    tys.push(i.ty);
                }
                series[k] = i.node;
                w = w.max(i.w);
            }
        }
    }
    let kind = match f.warm {
        Warm::Kernel(k) => Some(k),
        _ => None,
    };
    let node = lower::call(b, f.name, kind, &series, &lits);
    let w = match f.warm {
        Warm::Kernel(_) | Warm::Literals => w + f.w(&lits),
        Warm::PlusN => w + lits[1] as u64,
        Warm::Cross => w + 1,
        Warm::Max => w,
    };
    let ty = f.ret.unwrap_or(if tys.iter().all(|&t| t == Ty::Cond) {
        Ty::Cond
    } else {
        Ty::Num
    });
    Ok(Info {
        ty,
        w,
        node,
        lit: None,
    })
}
