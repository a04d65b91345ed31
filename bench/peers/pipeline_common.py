"""The data-path task shared by the Polars and DuckDB peers: per symbol, SMA(L) of the close and
the spec's trend state of the close against it (crossover +1 / crossunder -1, held), from the
partitioned Parquet. Outputs per symbol (sorted by symbol): last SMA, last state, bars in state +1."""
import glob
import os

from common import write_f64


def parquet_files(dataset):
    files = sorted(glob.glob(os.path.join(dataset, "bucket=*", "*.parquet")))
    if not files:
        raise SystemExit(f"no Parquet files under {dataset}/bucket=*/")
    return files


def write_per_symbol(cfg, symbols, last_sma, last_state, long_bars):
    return {
        "last_sma": write_f64(cfg, "last_sma", last_sma),
        "last_state": write_f64(cfg, "last_state", last_state),
        "long_bars": write_f64(cfg, "long_bars", long_bars),
    }, list(symbols)
