"""Times a command line (barstream's CLI) as a user runs it: one warm-up run, then `runs` timed
runs, each in a fresh process with its output folder removed first (untimed). Peak RSS is the
largest of the finished child processes (getrusage RUSAGE_CHILDREN), the CLI's own process tree.

Config: {"command": [argv...], "out": folder the command writes (removed before each run),
"runs", "outDir", "tool"}. Prints the JSON report of common.py; `stdout` holds the last run's
last line of output (the CLI's --json summary)."""
import os
import resource
import shutil
import subprocess
import time

from common import config, report

cfg = config()


def once():
    shutil.rmtree(cfg["out"], ignore_errors=True)
    t0 = time.perf_counter()
    p = subprocess.run(cfg["command"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cfg['command'][:3])} ... exited with {p.returncode}:\n{p.stderr[-3000:]}")
    return t, p.stdout.strip().split("\n")[-1]


once()  # warm-up: file cache, code pages
times, last = [], ""
for _ in range(int(cfg["runs"])):
    t, last = once()
    times.append(t)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
report(cfg.get("tool", "barstream"), times, {}, [], peakRssMB=round(rss, 1), stdout=last)
