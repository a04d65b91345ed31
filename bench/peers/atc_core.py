"""The ATC in numpy + numba, one symbol at a time: the approach barstream replaces.

Written from shared/docs/kernels-spec.md only (no barstream code): plain loops, one array per
moving-average line, each kernel a separate pass, as a numba user would write them.
`atc(x, ...)` returns the 13 spec outputs of one symbol as a (13, n) array in ATC_COLUMNS order.
"""
import math

import common  # noqa: F401  (sets NUMBA_CACHE_DIR before numba is imported)
import numpy as np
from numba import njit

TYPES = ("EMA", "HMA", "WMA", "DEMA", "LSMA", "KAMA")
ATC_COLUMNS = ["Average_Signal"] + [f"{t}_Signal" for t in TYPES] + [f"{t}_S" for t in TYPES]
OFFSETS = {"Narrow": (1, 2, 3, 4), "Medium": (1, 2, 4, 6), "Wide": (1, 3, 5, 7)}
NAN = np.nan


@njit(cache=True, nogil=True)
def sma(x, L):
    n = x.size
    y = np.full(n, NAN)
    for i in range(L - 1, n):
        s = 0.0
        for j in range(i - L + 1, i + 1):
            s += x[j]
        y[i] = s / L
    return y


@njit(cache=True, nogil=True)
def ema_alpha(x, L, a):
    """EMA with smoothing `a`, seeded by the SMA of the first L defined values of x."""
    n = x.size
    y = np.full(n, NAN)
    f = 0
    while f < n and math.isnan(x[f]):
        f += 1
    seed = f + L - 1
    if seed >= n:
        return y
    s = 0.0
    for j in range(f, seed + 1):
        s += x[j]
    y[seed] = s / L
    for i in range(seed + 1, n):
        y[i] = a * x[i] + (1.0 - a) * y[i - 1]
    return y


@njit(cache=True, nogil=True)
def ema(x, L):
    return ema_alpha(x, L, 2.0 / (L + 1))


@njit(cache=True, nogil=True)
def dema(x, L):
    e1 = ema(x, L)
    return 2.0 * e1 - ema(e1, L)


@njit(cache=True, nogil=True)
def wma(x, L):
    n = x.size
    y = np.full(n, NAN)
    d = L * (L + 1) / 2.0
    for i in range(L - 1, n):
        s = 0.0
        for j in range(L):  # oldest first
            s += (j + 1) * x[i - L + 1 + j]
        y[i] = s / d
    return y


@njit(cache=True, nogil=True)
def hma(x, L):
    half = max(L // 2, 1)
    root = max(int(math.floor(math.sqrt(L))), 1)
    return wma(2.0 * wma(x, half) - wma(x, L), root)


@njit(cache=True, nogil=True)
def lsma(x, L):
    n = x.size
    y = np.full(n, NAN)
    if L == 1:
        return x.copy()
    st = L * (L - 1) / 2.0
    stt = (L - 1) * L * (2 * L - 1) / 6.0
    den = L * stt - st * st
    for i in range(L - 1, n):
        sy = 0.0
        sty = 0.0
        for t in range(L):
            v = x[i - L + 1 + t]
            sy += v
            sty += t * v
        b = (L * sty - st * sy) / den
        a = (sy - b * st) / L
        y[i] = a + b * (L - 1)
    return y


@njit(cache=True, nogil=True)
def kama(x, L):
    n = x.size
    y = np.empty(n)
    y[0] = x[0]
    for i in range(1, n):
        if i < L:
            y[i] = y[i - 1]
            continue
        noise = 0.0
        for j in range(i - L + 1, i + 1):
            noise += abs(x[j] - x[j - 1])
        signal = abs(x[i] - x[i - L])
        ratio = signal / noise if noise != 0 else 0.0
        sc = ratio * (0.666 - 0.064) + 0.064
        sc = sc * sc
        y[i] = y[i - 1] + sc * (x[i] - y[i - 1])
    return y


@njit(cache=True, nogil=True)
def ma(kind, x, L):
    # kind: 0 EMA, 1 HMA (hull), 2 WMA, 3 DEMA, 4 LSMA, 5 KAMA, 6 SMA (the Pine "HMA")
    if kind == 0:
        return ema(x, L)
    if kind == 1:
        return hma(x, L)
    if kind == 2:
        return wma(x, L)
    if kind == 3:
        return dema(x, L)
    if kind == 4:
        return lsma(x, L)
    if kind == 5:
        return kama(x, L)
    return sma(x, L)


@njit(cache=True, nogil=True)
def roc(x):
    n = x.size
    r = np.full(n, NAN)
    for i in range(1, n):
        r[i] = (x[i] - x[i - 1]) / x[i - 1]
    return r


@njit(cache=True, nogil=True)
def trend(x, m):
    n = x.size
    s = np.zeros(n)
    state = 0.0
    for i in range(1, n):
        if not (math.isnan(m[i]) or math.isnan(m[i - 1])):
            if x[i] > m[i] and x[i - 1] <= m[i - 1]:
                state = 1.0
            elif x[i] < m[i] and x[i - 1] >= m[i - 1]:
                state = -1.0
        s[i] = state
    return s


@njit(cache=True, nogil=True)
def equity(start, s, R, la, de, cutout):
    n = s.size
    e = np.full(n, NAN)
    for i in range(cutout, n):
        r = R[i] * math.exp(la * (i - cutout))
        a = 0.0
        if i > 0 and not math.isnan(R[i]) and not math.isnan(s[i - 1]):
            if s[i - 1] > 0:
                a = r
            elif s[i - 1] < 0:
                a = -r
        v = start if i == cutout else e[i - 1] * (1.0 - de) * (1.0 + a)
        e[i] = max(v, 0.25)
    return e


@njit(cache=True, nogil=True)
def round2(v):
    sgn = 1.0 if v > 0 else (-1.0 if v < 0 else 0.0)
    return sgn * math.floor(abs(v * 100.0) + 0.5) / 100.0


@njit(cache=True, nogil=True)
def atc_kernel(x, lengths, kinds, weights, la, de, cutout, cut):
    """lengths: (6, 9) int64; kinds: (6,) int64; returns (13, n) in ATC_COLUMNS order."""
    n = x.size
    out = np.full((13, n), NAN)
    R = roc(x)
    for t in range(6):
        num = np.zeros(n)
        den = np.zeros(n)
        for k in range(9):
            m = ma(kinds[t], x, lengths[t, k])
            s = trend(x, m)
            E = equity(1.0, s, R, la, de, cutout)
            for i in range(n):
                num[i] += s[i] * E[i]
                den[i] += E[i]
        sig = np.full(n, NAN)
        for i in range(n):
            if not math.isnan(den[i]):
                sig[i] = round2(num[i] / den[i])
        out[1 + t] = sig
        out[7 + t] = equity(weights[t], sig, R, la, de, cutout)
    for i in range(n):
        num = 0.0
        den = 0.0
        for t in range(6):
            sg = out[1 + t, i]
            ts = out[7 + t, i]
            if math.isnan(sg) or math.isnan(ts):
                continue
            c = 1.0 if sg > cut else (-1.0 if sg < -cut else 0.0)
            num += c * ts
            den += ts
        out[0, i] = num / den if den != 0 else 0.0
    return out


def atc_params(length=28, robustness="Medium", lam=0.02, decay=0.03, cutout=0, cut=0.49, hma="hull",
               weights=None):
    o = OFFSETS[robustness]
    ls = [length] + [length + d for d in o] + [length - d for d in o]
    if min(ls) < 1:
        raise ValueError(f"length {length} with robustness {robustness} gives a length < 1")
    lengths = np.array([ls] * 6, dtype=np.int64)
    kinds = np.array([0, 1 if hma == "hull" else 6, 2, 3, 4, 5], dtype=np.int64)
    w = np.array([(weights or {}).get(t, 1.0) for t in TYPES], dtype=np.float64)
    return lengths, kinds, w, lam / 1000.0, decay / 100.0, int(cutout), float(cut)


def atc(x, params=None):
    return atc_kernel(np.ascontiguousarray(x, dtype=np.float64), *(params or atc_params()))
