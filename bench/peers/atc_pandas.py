"""Peer: the ATC in pandas, one symbol at a time, written from kernels-spec.md as a pandas user
would: rolling/ewm where pandas has them, rolling().apply for the weighted windows, Python loops
for the recursive parts (KAMA, the floored equity), forward-fill for the trend state.

Config: {"closes", "offsets", "runs", "outDir", "symbols": how many symbols to time (pandas is
slow: the harness times a subset and scales per bar, and says so)}.
"""
import math

import numpy as np
import pandas as pd

import atc_core
from common import config, load_closes, report, time_runs, write_f64

cfg = config()
closes, offsets = load_closes(cfg)
nsym = min(int(cfg.get("symbols", offsets.size - 1)), offsets.size - 1)
lengths, kinds, weights, la, de, cutout, cut = atc_core.atc_params()


def ema(x: pd.Series, L: int) -> pd.Series:
    first = x.first_valid_index()
    if first is None or first + L - 1 >= len(x):
        return pd.Series(np.nan, index=x.index)
    seeded = x.copy()
    seeded.iloc[: first + L - 1] = np.nan
    seeded.iloc[first + L - 1] = x.iloc[first : first + L].mean()
    return seeded.ewm(alpha=2.0 / (L + 1), adjust=False, ignore_na=True).mean()


def wma(x: pd.Series, L: int) -> pd.Series:
    w = np.arange(1, L + 1, dtype=float)
    return x.rolling(L).apply(lambda v: np.dot(v, w) / w.sum(), raw=True)


def lsma(x: pd.Series, L: int) -> pd.Series:
    t = np.arange(L, dtype=float)
    return x.rolling(L).apply(lambda v: np.polyval(np.polyfit(t, v, 1), L - 1), raw=True)


def kama(x: pd.Series, L: int) -> pd.Series:
    v = x.to_numpy()
    noise = x.diff().abs().rolling(L).sum().to_numpy()
    signal = x.diff(L).abs().to_numpy()
    y = np.empty(len(v))
    y[0] = v[0]
    for i in range(1, len(v)):
        if i < L:
            y[i] = y[i - 1]
            continue
        ratio = signal[i] / noise[i] if noise[i] != 0 else 0.0
        sc = (ratio * (0.666 - 0.064) + 0.064) ** 2
        y[i] = y[i - 1] + sc * (v[i] - y[i - 1])
    return pd.Series(y, index=x.index)


def ma(kind, x, L):
    if kind == 0:
        return ema(x, L)
    if kind == 1:
        return wma(2 * wma(x, max(L // 2, 1)) - wma(x, L), max(int(math.isqrt(L)), 1))
    if kind == 2:
        return wma(x, L)
    if kind == 3:
        e1 = ema(x, L)
        return 2 * e1 - ema(e1, L)
    if kind == 4:
        return lsma(x, L)
    if kind == 5:
        return kama(x, L)
    return x.rolling(L).mean()


def trend(x, m):
    both = m.notna() & m.shift(1).notna()
    up = both & (x > m) & (x.shift(1) <= m.shift(1))
    dn = both & (x < m) & (x.shift(1) >= m.shift(1))
    ev = pd.Series(np.where(up, 1.0, np.where(dn, -1.0, np.nan)), index=x.index)
    return ev.ffill().fillna(0.0)


def equity(start, s, R):
    r = (R * np.exp(la * (np.arange(len(R)) - cutout))).to_numpy()
    prev = s.shift(1).to_numpy()
    a = np.where(np.isnan(prev) | (prev == 0) | np.isnan(r), 0.0, np.where(prev > 0, r, -r))
    e = np.full(len(R), np.nan)
    for i in range(cutout, len(R)):
        v = start if i == cutout else e[i - 1] * (1 - de) * (1 + a[i])
        e[i] = max(v, 0.25)
    return pd.Series(e, index=R.index)


def atc(x: pd.Series) -> pd.DataFrame:
    R = x.pct_change()
    out = {}
    for t, name in enumerate(atc_core.TYPES):
        num = 0.0
        den = 0.0
        for L in lengths[t]:
            s = trend(x, ma(kinds[t], x, int(L)))
            E = equity(1.0, s, R)
            num = num + s * E
            den = den + E
        v = num / den * 100
        sig = np.sign(v) * np.floor(v.abs() + 0.5) / 100
        out[f"{name}_Signal"] = sig
        out[f"{name}_S"] = equity(weights[t], sig, R)
    df = pd.DataFrame(out)
    sigs = df[[f"{t}_Signal" for t in atc_core.TYPES]].to_numpy()
    ss = df[[f"{t}_S" for t in atc_core.TYPES]].to_numpy()
    ok = ~(np.isnan(sigs) | np.isnan(ss))
    c = np.where(sigs > cut, 1.0, np.where(sigs < -cut, -1.0, 0.0))
    num = np.where(ok, c * ss, 0).sum(axis=1)
    den = np.where(ok, ss, 0).sum(axis=1)
    df["Average_Signal"] = np.where(den != 0, num / np.where(den != 0, den, 1), 0.0)
    return df


def run():
    frames = [atc(pd.Series(closes[offsets[s]:offsets[s + 1]])) for s in range(nsym)]
    return pd.concat(frames, ignore_index=True)


times, df = time_runs(int(cfg["runs"]), run)
outputs = {f"detail/{c}": write_f64(cfg, f"detail-{c}", df[c].to_numpy()) for c in atc_core.ATC_COLUMNS}
report("pandas", times, outputs, [f"pandas per symbol; timed on the first {nsym} symbols"],
       bars=int(offsets[nsym]))
