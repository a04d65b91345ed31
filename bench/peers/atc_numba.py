"""Peer: the ATC with numpy + numba, one symbol at a time (the original system's kernel loop).

Config: {"closes", "offsets", "runs", "outDir", "detail": symbols whose 13 columns are kept}.
Every symbol's 13 outputs are computed; Average_Signal is kept for all bars (as barstream's
side keeps it), the full 13 columns for the first `detail` symbols (for agreement).
"""
import numpy as np

import atc_core
from common import config, load_closes, report, time_runs, write_f64

cfg = config()
closes, offsets = load_closes(cfg)
params = atc_core.atc_params()
detail = int(cfg.get("detail", 1))


def run():
    avg = np.empty(closes.size)
    cols = []
    for s in range(offsets.size - 1):
        a, b = offsets[s], offsets[s + 1]
        out = atc_core.atc(closes[a:b], params)
        avg[a:b] = out[0]
        if s < detail:
            cols.append(out)
    return avg, cols


times, (avg, cols) = time_runs(int(cfg["runs"]), run)
outputs = {"Average_Signal": write_f64(cfg, "Average_Signal", avg)}
for c, name in enumerate(atc_core.ATC_COLUMNS):
    outputs[f"detail/{name}"] = write_f64(cfg, f"detail-{name}", np.concatenate([o[c] for o in cols]))
report("numba", times, outputs, ["numpy + numba @njit, one symbol at a time, single thread"])
