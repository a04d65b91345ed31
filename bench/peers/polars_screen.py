"""Peer: the screen (screen_common.py) in Polars: lazy scan_parquet over the partitioned dataset,
rolling means over symbol, shift for the previous bar, one filter; every match collected.
Config: {"dataset", "runs", "outDir", "threads"}. Relies on the layout's (symbol, ts) file order,
as barstream does (no sort): the agreement check would catch a reordering."""
import os

from common import config, report, time_runs

cfg = config()
os.environ["POLARS_MAX_THREADS"] = str(cfg["threads"])
import polars as pl  # noqa: E402

from pipeline_common import parquet_files  # noqa: E402
from screen_common import FAST, LONG, SLOW, VOL, VOLUME_FACTOR, write_matches  # noqa: E402

files = parquet_files(cfg["dataset"])


def run():
    c, vol = pl.col("close"), pl.col("volume")
    f, s = pl.col("f"), pl.col("s")
    crosses_above = (f > s) & (pl.col("fp") <= pl.col("sp"))  # null (no match) where any is null
    return (
        pl.scan_parquet(files)
        .select("symbol", "ts", "close", "volume")
        .with_columns(
            s50=c.rolling_mean(LONG).over("symbol"),
            f=c.rolling_mean(FAST).over("symbol"),
            s=c.rolling_mean(SLOW).over("symbol"),
            v=vol.rolling_mean(VOL).over("symbol"),
        )
        .with_columns(fp=f.shift(1).over("symbol"), sp=s.shift(1).over("symbol"))
        .filter((c > pl.col("s50")) & crosses_above & (vol > VOLUME_FACTOR * pl.col("v")))
        .select("symbol", pl.col("ts").dt.epoch("us").alias("ts"), "close", "volume", "s50", "f", "s", "v")
        .collect()
    )


times, df = time_runs(int(cfg["runs"]), run)
outputs, symbols = write_matches(cfg, df["symbol"].to_numpy(), df["ts"].to_numpy(),
                                 *(df[k].to_numpy() for k in ("close", "volume", "s50", "f", "s", "v")))
report("polars", times, outputs, [f"polars {pl.__version__}, lazy scan_parquet, rolling_mean/shift over(symbol)"],
       symbols=symbols, matches=df.height)
