"""Shared by the Python peers: arguments, inputs, timing, peak RSS and the JSON report.

Protocol (see bench/peers/harness.ts): a peer is run as
    python bench/peers/<peer>.py '<json config>'
and prints exactly one JSON line on stdout:
    {"tool": ..., "times": [seconds per timed run], "peakRssMB": n,
     "outputs": {"name": "path of a raw little-endian float64 file"}, "notes": [...]}
Inputs are raw little-endian float64 (closes) and int32 (offsets) files, or a dataset folder.
"""
import json
import os
import resource
import sys
import time

_here = os.path.dirname(os.path.abspath(__file__))
# Compiled numba functions are cached inside the (git-ignored) venv, not beside the sources.
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(_here, "..", ".venv", "numba-cache"))

import numpy as np  # noqa: E402


def config():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} '<json config>'")
    return json.loads(sys.argv[1])


def load_closes(cfg):
    closes = np.fromfile(cfg["closes"], dtype="<f8")
    if "offsets" in cfg:
        offsets = np.fromfile(cfg["offsets"], dtype="<i4").astype(np.int64)
    else:
        offsets = np.array([0, closes.size], dtype=np.int64)
    return closes, offsets


def peak_rss_mb():
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def time_runs(runs, f, warmup=1):
    """Runs f() `warmup` times untimed (JIT, file cache), then `runs` times; returns (times, last result)."""
    out = None
    for _ in range(warmup):
        out = f()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t0)
    return times, out


def write_f64(cfg, name, values):
    path = os.path.join(cfg["outDir"], f"{name}.f64")
    np.ascontiguousarray(values, dtype="<f8").tofile(path)
    return path


def report(tool, times, outputs=None, notes=None, **extra):
    print(json.dumps({"tool": tool, "times": times, "peakRssMB": round(peak_rss_mb(), 1),
                      "outputs": outputs or {}, "notes": notes or [], **extra}), flush=True)
