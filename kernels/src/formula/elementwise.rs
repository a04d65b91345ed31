//! Operators and functions that look at one bar at a time, over a block of values.
//! Every series is finite or NaN: a result that is not finite becomes NaN.
use super::plan::Cmp;
use super::skip::finite;

const NAN: f64 = f64::NAN;

#[inline(always)]
fn zip2(a: &[f64], b: &[f64], out: &mut [f64], f: impl Fn(f64, f64) -> f64) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = f(x, y);
    }
}

#[inline(always)]
fn map1(a: &[f64], out: &mut [f64], f: impl Fn(f64) -> f64) {
    for (o, &x) in out.iter_mut().zip(a) {
        *o = f(x);
    }
}

pub fn add(a: &[f64], b: &[f64], o: &mut [f64]) {
    zip2(a, b, o, |x, y| finite(x + y));
}
pub fn sub(a: &[f64], b: &[f64], o: &mut [f64]) {
    zip2(a, b, o, |x, y| finite(x - y));
}
pub fn mul(a: &[f64], b: &[f64], o: &mut [f64]) {
    zip2(a, b, o, |x, y| finite(x * y));
}
pub fn div(a: &[f64], b: &[f64], o: &mut [f64]) {
    zip2(a, b, o, |x, y| finite(x / y));
}
pub fn neg(a: &[f64], o: &mut [f64]) {
    map1(a, o, |x| -x);
}

/// 1 or 0; NaN when an operand is NaN.
pub fn cmp(c: Cmp, a: &[f64], b: &[f64], o: &mut [f64]) {
    #[inline(always)]
    fn pick(x: f64, y: f64, t: bool) -> f64 {
        if x.is_nan() || y.is_nan() {
            NAN
        } else {
            f64::from(u8::from(t))
        }
    }
    match c {
        Cmp::Gt => zip2(a, b, o, |x, y| pick(x, y, x > y)),
        Cmp::Ge => zip2(a, b, o, |x, y| pick(x, y, x >= y)),
        Cmp::Lt => zip2(a, b, o, |x, y| pick(x, y, x < y)),
        Cmp::Le => zip2(a, b, o, |x, y| pick(x, y, x <= y)),
        Cmp::Eq => zip2(a, b, o, |x, y| pick(x, y, x == y)),
        Cmp::Ne => zip2(a, b, o, |x, y| pick(x, y, x != y)),
    }
}

/// 0 if either is 0; else NaN if either is NaN; else 1.
pub fn and(a: &[f64], b: &[f64], o: &mut [f64]) {
    zip2(a, b, o, |x, y| {
        if x == 0.0 || y == 0.0 {
            0.0
        } else if x.is_nan() || y.is_nan() {
            NAN
        } else {
            1.0
        }
    });
}

/// 1 if either is 1; else NaN if either is NaN; else 0.
pub fn or(a: &[f64], b: &[f64], o: &mut [f64]) {
    zip2(a, b, o, |x, y| {
        if x == 1.0 || y == 1.0 {
            1.0
        } else if x.is_nan() || y.is_nan() {
            NAN
        } else {
            0.0
        }
    });
}

pub fn not(a: &[f64], o: &mut [f64]) {
    map1(a, o, |x| 1.0 - x);
}

/// NaN where `c` is NaN, else `a` where `c` is true and `b` where false.
pub fn iff(c: &[f64], a: &[f64], b: &[f64], o: &mut [f64]) {
    for (((o, &c), &x), &y) in o.iter_mut().zip(c).zip(a).zip(b) {
        *o = if c.is_nan() {
            NAN
        } else if c == 1.0 {
            x
        } else {
            y
        };
    }
}

pub fn na(a: &[f64], o: &mut [f64]) {
    map1(a, o, |x| f64::from(u8::from(x.is_nan())));
}
pub fn nz(a: &[f64], b: &[f64], o: &mut [f64]) {
    zip2(a, b, o, |x, y| if x.is_nan() { y } else { x });
}
pub fn abs(a: &[f64], o: &mut [f64]) {
    map1(a, o, f64::abs);
}
pub fn sqrt(a: &[f64], o: &mut [f64]) {
    map1(a, o, |x| finite(x.sqrt()));
}
pub fn log(a: &[f64], o: &mut [f64]) {
    map1(a, o, |x| finite(x.ln()));
}
pub fn min(a: &[f64], b: &[f64], o: &mut [f64]) {
    zip2(a, b, o, |x, y| {
        if x.is_nan() || y.is_nan() {
            NAN
        } else {
            x.min(y)
        }
    });
}
pub fn max(a: &[f64], b: &[f64], o: &mut [f64]) {
    zip2(a, b, o, |x, y| {
        if x.is_nan() || y.is_nan() {
            NAN
        } else {
            x.max(y)
        }
    });
}

/// `max(h - l, |h - pc|, |l - pc|)`; NaN if any is NaN (`pc` is `close[1]`).
pub fn true_range(h: &[f64], l: &[f64], pc: &[f64], o: &mut [f64]) {
    for (((o, &h), &l), &c) in o.iter_mut().zip(h).zip(l).zip(pc) {
        *o = if h.is_nan() || l.is_nan() || c.is_nan() {
            NAN
        } else {
            finite((h - l).max((h - c).abs()).max((l - c).abs()))
        };
    }
}

/// Fills `o` with `v`.
pub fn fill(v: f64, o: &mut [f64]) {
    o.fill(v);
}
