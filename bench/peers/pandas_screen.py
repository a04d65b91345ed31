"""Peer: the screen (screen_common.py) in pandas, one DataFrame per symbol on a process pool (the
original plan's design): each worker reads a Parquet file of the dataset, splits it into one
DataFrame per symbol, and runs the screen on each with rolling().mean() and shift(); the parent
concatenates the matches. The pool is started once, before the warm-up (its start is not timed).

Config: {"dataset", "runs", "outDir", "threads", "files": how many of the dataset's files to time
(pandas is slow: the harness may time a subset and scale per bar, and says so)}."""
import multiprocessing as mp
import os

import numpy as np
import pandas as pd

from common import config, peak_rss_mb, report, time_runs
from pipeline_common import parquet_files
from screen_common import COLUMNS, FAST, LONG, SLOW, VOL, VOLUME_FACTOR, write_matches


def screen(df: pd.DataFrame) -> pd.DataFrame:
    """One symbol's bars in ts order -> its matching bars with the named values."""
    c, vol = df["close"], df["volume"]
    out = df.assign(s50=c.rolling(LONG).mean(), f=c.rolling(FAST).mean(), s=c.rolling(SLOW).mean(),
                    v=vol.rolling(VOL).mean())
    fp, sp = out["f"].shift(1), out["s"].shift(1)
    # Comparisons with NaN are False in pandas, which is "no match" as the spec's NaN is.
    hit = (c > out["s50"]) & (out["f"] > out["s"]) & (fp <= sp) & (vol > VOLUME_FACTOR * out["v"])
    return out[hit]


def screen_file(path: str):
    """One file's matches, with this worker's pid and peak RSS (the parent sums the workers')."""
    df = pd.read_parquet(path, columns=COLUMNS)
    frames = [screen(g) for _, g in df.groupby("symbol", sort=False, observed=True)]
    return (pd.concat(frames, ignore_index=True) if frames else df.iloc[:0]), os.getpid(), peak_rss_mb()


if __name__ == "__main__":
    cfg = config()
    files = parquet_files(cfg["dataset"])
    used = files[: int(cfg.get("files", len(files)))]
    workers = {}
    with mp.get_context("fork").Pool(int(cfg["threads"])) as pool:
        def run():
            parts = pool.map(screen_file, used, chunksize=1)
            for _, pid, rss in parts:
                workers[pid] = max(rss, workers.get(pid, 0.0))
            return pd.concat([p[0] for p in parts], ignore_index=True)

        times, df = time_runs(int(cfg["runs"]), run)
    ts = df["ts"].to_numpy().astype("datetime64[us]").astype(np.int64)
    outputs, symbols = write_matches(cfg, df["symbol"].astype(str).to_numpy(), ts,
                                     *(df[k].to_numpy() for k in ("close", "volume", "s50", "f", "s", "v")))
    seen = pd.concat([pd.read_parquet(p, columns=["symbol"]) for p in used])["symbol"].astype(str)
    rss = peak_rss_mb() + sum(workers.values())
    report("pandas", times, outputs,
           [f"pandas {pd.__version__}, one DataFrame per symbol, process pool of {cfg['threads']} over {len(used)} of {len(files)} files; peak RSS = parent + each worker's peak"],
           symbols=symbols, matches=int(len(df)), peakRssMB=round(rss, 1), bars=int(seen.size), files=[len(used), len(files)],
           seen=sorted(seen.unique().tolist()))
