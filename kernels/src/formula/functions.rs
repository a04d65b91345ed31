//! The functions of the language: parameters, result type and warm-up `w`.
use super::stateful::KernelKind;
use crate::kernel::MAX_LENGTH;

/// The type of a series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Num,
    Cond,
}

/// What an argument must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A series used as a number (a condition counts as 1, 0 or NaN).
    Num,
    /// A series that must be a condition.
    Cond,
    /// `iff`'s branches: any series.
    Any,
    /// A literal integer `lo..=hi`.
    Int(u32, u32),
    /// A literal finite number.
    Real,
}

pub const LEN: Arg = Arg::Int(1, MAX_LENGTH as u32);
pub const OFFSET: Arg = Arg::Int(0, MAX_LENGTH as u32);
/// The ATC's base length: with the Medium offsets its nine lengths `L-6..L+6` are in range.
pub const ATC_LEN: Arg = Arg::Int(7, MAX_LENGTH as u32 - 6);

#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub arg: Arg,
    pub default: Option<f64>,
}

const fn p(name: &'static str, arg: Arg) -> Param {
    Param {
        name,
        arg,
        default: None,
    }
}
const fn d(name: &'static str, arg: Arg, v: f64) -> Param {
    Param {
        name,
        arg,
        default: Some(v),
    }
}

/// How the warm-up of a call follows from its arguments.
#[derive(Clone, Copy, Debug)]
pub enum Warm {
    /// A stateful function: the largest `W` of its series arguments plus `w`.
    Kernel(KernelKind),
    /// Stateful with `w` from its literals (`bb_*`, `atr`, `macd*`, `stoch_*`).
    Literals,
    /// `W(x) + n` (`change`, `roc`).
    PlusN,
    /// `1 + max` (the crossings).
    Cross,
    /// The largest over the arguments.
    Max,
}

#[derive(Clone, Copy, Debug)]
pub struct Func {
    pub name: &'static str,
    pub params: &'static [Param],
    /// `None`: the type of the branches (`iff`).
    pub ret: Option<Ty>,
    pub warm: Warm,
}

const X_L: &[Param] = &[p("x", Arg::Num), p("L", LEN)];
const BB: &[Param] = &[p("x", Arg::Num), p("L", LEN), d("k", Arg::Real, 2.0)];
const MACD: &[Param] = &[p("x", Arg::Num), d("f", LEN, 12.0), d("s", LEN, 26.0)];
const MACD_G: &[Param] = &[
    p("x", Arg::Num),
    d("f", LEN, 12.0),
    d("s", LEN, 26.0),
    d("g", LEN, 9.0),
];
const AB: &[Param] = &[p("a", Arg::Num), p("b", Arg::Num)];
const X: &[Param] = &[p("x", Arg::Num)];
const X_N: &[Param] = &[p("x", Arg::Num), d("n", OFFSET, 1.0)];

const fn kernel(name: &'static str, k: KernelKind) -> Func {
    Func {
        name,
        params: X_L,
        ret: Some(Ty::Num),
        warm: Warm::Kernel(k),
    }
}
const fn f(name: &'static str, params: &'static [Param], ret: Ty, warm: Warm) -> Func {
    Func {
        name,
        params,
        ret: Some(ret),
        warm,
    }
}

pub const FUNCTIONS: &[Func] = &[
    kernel("sma", KernelKind::Sma),
    kernel("ema", KernelKind::Ema),
    kernel("rma", KernelKind::Rma),
    kernel("wma", KernelKind::Wma),
    kernel("dema", KernelKind::Dema),
    kernel("hma", KernelKind::Hma),
    kernel("lsma", KernelKind::Lsma),
    kernel("kama", KernelKind::Kama),
    kernel("rsi", KernelKind::Rsi),
    kernel("stdev", KernelKind::Stdev),
    kernel("highest", KernelKind::Highest),
    kernel("lowest", KernelKind::Lowest),
    kernel("sum", KernelKind::Sum),
    f("bb_mid", BB, Ty::Num, Warm::Literals),
    f("bb_upper", BB, Ty::Num, Warm::Literals),
    f("bb_lower", BB, Ty::Num, Warm::Literals),
    f("atr", &[p("L", LEN)], Ty::Num, Warm::Literals),
    f("macd", MACD, Ty::Num, Warm::Literals),
    f("macd_signal", MACD_G, Ty::Num, Warm::Literals),
    f("macd_hist", MACD_G, Ty::Num, Warm::Literals),
    f("stoch_k", &[d("L", LEN, 14.0)], Ty::Num, Warm::Literals),
    f(
        "stoch_d",
        &[d("L", LEN, 14.0), d("d", LEN, 3.0)],
        Ty::Num,
        Warm::Literals,
    ),
    f(
        "atc",
        &[p("x", Arg::Num), d("L", ATC_LEN, 28.0)],
        Ty::Num,
        Warm::Kernel(KernelKind::Atc),
    ),
    f("change", X_N, Ty::Num, Warm::PlusN),
    f("roc", X_N, Ty::Num, Warm::PlusN),
    f("crosses_above", AB, Ty::Cond, Warm::Cross),
    f("crosses_below", AB, Ty::Cond, Warm::Cross),
    f("crosses", AB, Ty::Cond, Warm::Cross),
    f("barssince", &[p("c", Arg::Cond)], Ty::Num, Warm::Max),
    f(
        "valuewhen",
        &[p("c", Arg::Cond), p("x", Arg::Num), d("k", OFFSET, 0.0)],
        Ty::Num,
        Warm::Max,
    ),
    f(
        "count",
        &[p("c", Arg::Cond), p("n", LEN)],
        Ty::Num,
        Warm::Max,
    ),
    f(
        "state",
        &[p("up", Arg::Cond), p("down", Arg::Cond)],
        Ty::Num,
        Warm::Max,
    ),
    f(
        "trend_state",
        &[p("x", Arg::Num), p("m", Arg::Num)],
        Ty::Num,
        Warm::Max,
    ),
    Func {
        name: "iff",
        params: &[p("c", Arg::Cond), p("a", Arg::Any), p("b", Arg::Any)],
        ret: None,
        warm: Warm::Max,
    },
    f("na", X, Ty::Cond, Warm::Max),
    f(
        "nz",
        &[p("x", Arg::Num), d("y", Arg::Num, 0.0)],
        Ty::Num,
        Warm::Max,
    ),
    f("abs", X, Ty::Num, Warm::Max),
    f("sqrt", X, Ty::Num, Warm::Max),
    f("log", X, Ty::Num, Warm::Max),
    f("min", AB, Ty::Num, Warm::Max),
    f("max", AB, Ty::Num, Warm::Max),
];

pub fn lookup(name: &str) -> Option<&'static Func> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// The bar fields a formula may name: the five columns and the derived ones.
pub const FIELDS: [&str; 9] = [
    "open", "high", "low", "close", "volume", "hl2", "hlc3", "ohlc4", "tr",
];

impl Func {
    /// As written in messages: `bb_upper(x, L, k = 2)`.
    pub fn signature(&self) -> String {
        let ps: Vec<String> = self
            .params
            .iter()
            .map(|p| match p.default {
                Some(v) => format!("{} = {v}", p.name),
                None => p.name.to_string(),
            })
            .collect();
        format!("{}({})", self.name, ps.join(", "))
    }
    pub fn required(&self) -> usize {
        self.params.iter().filter(|p| p.default.is_none()).count()
    }

    /// The warm-up `w` from the literal arguments (`lits[i]` for parameter `i`; series
    /// parameters hold 0), for [`Warm::Kernel`] and [`Warm::Literals`].
    pub fn w(&self, lits: &[f64]) -> u64 {
        let l = |i: usize| lits[i] as u64;
        match (self.warm, self.name) {
            (Warm::Kernel(k), _) => k.first_defined(l(1) as usize),
            (_, "bb_mid" | "bb_upper" | "bb_lower") => l(1) - 1,
            (_, "atr") => l(0),
            (_, "macd") => l(1).max(l(2)) - 1,
            (_, "macd_signal" | "macd_hist") => l(1).max(l(2)) - 1 + l(3) - 1,
            (_, "stoch_k") => l(0) - 1,
            (_, "stoch_d") => l(0) - 1 + l(1) - 1,
            _ => 0,
        }
    }
}
