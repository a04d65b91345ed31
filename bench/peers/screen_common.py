"""The screen task shared by the Polars, DuckDB and pandas peers (bench/screen-vs-peers.ts):

    s50 = sma(close, 50); f = sma(close, 10); s = sma(close, 30); v = sma(volume, 20)
    close > s50 and crosses_above(f, s) and volume > 1.5 * v

every matching bar of every symbol (barstream's `screen --all`), from the partitioned Parquet.
Semantics (formula-spec.md): sma(x, L) is first defined at bar L-1 (NaN before);
crosses_above(a, b) at bar i is NaN (no match) when i = 0 or any of a[i], b[i], a[i-1], b[i-1]
is NaN, else a[i] > b[i] and a[i-1] <= b[i-1]. A peer returns, per match, the symbol, ts
(microseconds), close, volume and the four named values; `write_matches` writes them (sorted
by symbol, ts) as raw float64 files plus the list of matched symbols for the report.
"""
import numpy as np

from common import write_f64

LONG, FAST, SLOW, VOL = 50, 10, 30, 20
VOLUME_FACTOR = 1.5
COLUMNS = ["symbol", "ts", "close", "volume"]
VALUES = ["s50", "f", "s", "v"]


def write_matches(cfg, symbols, ts_us, close, volume, s50, f, s, v):
    """symbols: one string per match; the rest: one number per match. Returns (outputs, matched symbols)."""
    symbols = np.asarray(symbols, dtype=object)
    ts_us = np.asarray(ts_us, dtype=np.int64)
    order = np.lexsort((ts_us, symbols.astype(str))) if symbols.size else np.arange(0)
    names, index = np.unique(symbols[order].astype(str), return_inverse=True) if symbols.size else (np.array([], dtype=str), np.array([], dtype=np.int64))
    cols = {"sym": index.astype(np.float64), "ts": ts_us[order].astype(np.float64),
            "close": close, "volume": volume, "s50": s50, "f": f, "s": s, "v": v}
    outputs = {}
    for k, x in cols.items():
        x = np.asarray(x, dtype=np.float64)
        outputs[k] = write_f64(cfg, k, x if k in ("sym", "ts") else x[order])
    return outputs, [str(n) for n in names]
