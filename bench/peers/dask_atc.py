"""Peer: the original system's out-of-core path: Dask DataFrame reading the partitioned Parquet
(one partition per file), then per symbol the numba ATC (atc_core), keeping each symbol's latest
Average_Signal, i.e. the scan. Files hold whole symbols in (symbol, ts) order, so each partition is
grouped on its own (no shuffle: the kindest way to run this path).
Config: {"dataset", "runs", "outDir", "threads"}."""
import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd

import atc_core
from common import config, report, time_runs, write_f64
from pipeline_common import parquet_files

cfg = config()
files = parquet_files(cfg["dataset"])
params = atc_core.atc_params()


def scan_partition(df: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for symbol, g in df.groupby("symbol", sort=False, observed=True):
        x = g["close"].to_numpy(dtype=np.float64)
        rows.append((str(symbol), atc_core.atc(x, params)[0, -1], len(x)))
    return pd.DataFrame(rows, columns=["symbol", "signal", "bars"]).astype({"symbol": object})


def run():
    ddf = dd.read_parquet(files, columns=["symbol", "ts", "close"], split_row_groups=False)
    meta = pd.DataFrame({"symbol": pd.Series([], dtype=object), "signal": pd.Series([], dtype=float),
                         "bars": pd.Series([], dtype=int)})
    out = ddf.map_partitions(scan_partition, meta=meta)
    return out.compute(scheduler="threads", num_workers=int(cfg["threads"])).sort_values("symbol")


times, df = time_runs(int(cfg["runs"]), run)
outputs = {"signal": write_f64(cfg, "signal", df["signal"].to_numpy())}
report("dask+numba", times, outputs, [f"dask {dask.__version__}, threads scheduler, numba ATC per symbol"],
       symbols=df["symbol"].tolist())
