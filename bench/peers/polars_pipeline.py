"""Peer: Polars, lazy scan_parquet over the partitioned dataset, window expressions over symbol:
SMA(L) and the trend state of the close against it; per-symbol last values (see pipeline_common).
Config: {"dataset", "runs", "outDir", "length", "threads"}. Relies on the layout's (symbol, ts)
file order, as barstream does (no sort): the agreement check would catch a reordering."""
import os

from common import config, report, time_runs

cfg = config()
os.environ["POLARS_MAX_THREADS"] = str(cfg["threads"])
import polars as pl  # noqa: E402

from pipeline_common import parquet_files, write_per_symbol  # noqa: E402

files, L = parquet_files(cfg["dataset"]), int(cfg["length"])


def run():
    c, m = pl.col("close"), pl.col("sma")
    pc, pm = pl.col("pc"), pl.col("pm")
    both = m.is_not_null() & pm.is_not_null()
    ev = pl.when(both & (c > m) & (pc <= pm)).then(1.0).when(both & (c < m) & (pc >= pm)).then(-1.0).otherwise(None)
    return (
        pl.scan_parquet(files)
        .select("symbol", "ts", "close")
        .with_columns(sma=c.rolling_mean(L).over("symbol"))
        .with_columns(pc=c.shift(1).over("symbol"), pm=m.shift(1).over("symbol"))
        .with_columns(state=ev.forward_fill().over("symbol").fill_null(0.0))
        .group_by("symbol")
        .agg(last_sma=m.last(), last_state=pl.col("state").last(), long_bars=(pl.col("state") == 1).sum())
        .sort("symbol")
        .collect()
    )


times, df = time_runs(int(cfg["runs"]), run)
outputs, symbols = write_per_symbol(cfg, df["symbol"], df["last_sma"].to_numpy(), df["last_state"].to_numpy(),
                                    df["long_bars"].to_numpy().astype(float))
report("polars", times, outputs, [f"polars {pl.__version__}, lazy scan_parquet + over(symbol)"], symbols=symbols)
