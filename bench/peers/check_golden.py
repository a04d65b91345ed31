"""Checks the numba ATC peer (atc_core.py) against the independent golden vectors.

    bench/.venv/bin/python bench/peers/check_golden.py [/path/to/shared/golden]

Prints the max abs difference per file and exits 1 when any exceeds 1e-9 (or NaN differs).
"""
import glob
import json
import os
import sys

import numpy as np

import atc_core

golden = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "golden")
files = sorted(glob.glob(os.path.join(golden, "*.json")))
if not files:
    sys.exit(f"no golden vectors under {golden}")
single = {"sma": atc_core.sma, "ema": atc_core.ema, "wma": atc_core.wma, "dema": atc_core.dema,
          "hma": atc_core.hma, "lsma": atc_core.lsma, "kama": atc_core.kama}
worst = 0.0
for path in files:
    g = json.load(open(path))
    x = np.array(g["close"], dtype=np.float64)
    diffs = {}
    for key, want in g["indicators"].items():
        kind, _, length = key.partition("_")
        if kind in single and length.isdigit():
            diffs[key] = (single[kind](x, int(length)), want)
    for case in g["atc"]:
        p = case["params"]
        params = atc_core.atc_params(robustness=p.get("robustness", "Medium"), cutout=p.get("cutout", 0),
                                     hma=p.get("hma_kind", "hull"))
        out = atc_core.atc(x, params)
        for c, name in enumerate(atc_core.ATC_COLUMNS):
            diffs[f"atc{p}/{name}"] = (out[c], case["outputs"][name])
    file_worst = 0.0
    for key, (got, want) in diffs.items():
        w = np.array([np.nan if v is None else v for v in want], dtype=np.float64)
        if not np.array_equal(np.isnan(got), np.isnan(w)):
            print(f"{os.path.basename(path)} {key}: NaN positions differ")
            file_worst = np.inf
            continue
        ok = ~np.isnan(w)
        d = float(np.max(np.abs(got[ok] - w[ok]))) if ok.any() else 0.0
        if d > 1e-9:
            print(f"{os.path.basename(path)} {key}: max abs diff {d:.3g}")
        file_worst = max(file_worst, d)
    print(f"{os.path.basename(path)}: {len(diffs)} series, max abs diff {file_worst:.3g}")
    worst = max(worst, file_worst)
print(json.dumps({"golden": golden, "maxAbsDiff": worst}))
sys.exit(0 if worst <= 1e-9 else 1)
