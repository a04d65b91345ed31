"""Peer: TA-Lib (the C library through its Python wheel) on one series.

Config: {"closes", "runs", "outDir", "length", "rsiLength", "bbLength", "bbK"}.
Times each indicator separately ({"times": {"sma": [...], ...}}) and writes each output.
TA-Lib's KAMA is not the spec's ATC variant (fast/slow constants 2/3 and 2/31 against 0.666/0.064,
seeded at index L from the previous close): it is timed, and its agreement is not claimed.
"""
import numpy as np
import talib

from common import config, load_closes, report, time_runs, write_f64

# TA-Lib's Python functions allocate their output on every call (no `out=` argument), so
# only barstream's side reuses one: the comparison favours neither on the input side.
cfg = config()
x, _ = load_closes(cfg)
L, RL, BL, K, runs = cfg["length"], cfg["rsiLength"], cfg["bbLength"], cfg["bbK"], int(cfg["runs"])

jobs = {
    "sma": lambda: talib.SMA(x, L),
    "ema": lambda: talib.EMA(x, L),
    "wma": lambda: talib.WMA(x, L),
    "dema": lambda: talib.DEMA(x, L),
    "rsi": lambda: talib.RSI(x, RL),
    "bollinger": lambda: talib.BBANDS(x, BL, K, K, talib.MA_Type.SMA),
    "kama": lambda: talib.KAMA(x, L),
}
times, outputs = {}, {}
for name, f in jobs.items():
    times[name], out = time_runs(runs, f)
    if name == "bollinger":
        upper, mid, lower = out
        for part, v in (("mid", mid), ("upper", upper), ("lower", lower)):
            outputs[f"bollinger/{part}"] = write_f64(cfg, f"bollinger-{part}", v)
    else:
        outputs[name] = write_f64(cfg, name, out)
report("ta-lib", times, outputs, [f"TA-Lib {talib.__version__} (C library via the Python wheel)"])
