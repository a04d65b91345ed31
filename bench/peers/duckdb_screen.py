"""Peer: the screen (screen_common.py) as DuckDB SQL window functions over the partitioned
Parquet: windowed averages per symbol (NULL until the window is full), lag for the previous bar,
one WHERE; every match fetched. Config: {"dataset", "runs", "outDir", "threads"}."""
import duckdb

from common import config, report, time_runs
from pipeline_common import parquet_files
from screen_common import FAST, LONG, SLOW, VOL, VOLUME_FACTOR, write_matches

cfg = config()
files = parquet_files(cfg["dataset"])
con = duckdb.connect()
con.execute(f"SET threads = {int(cfg['threads'])}; SET enable_progress_bar = false")


def sma(col, L):
    return f"CASE WHEN count(*) OVER w{L} = {L} THEN avg({col}) OVER w{L} END"


def window(L):
    return f"w{L} AS (PARTITION BY symbol ORDER BY ts ROWS BETWEEN {L - 1} PRECEDING AND CURRENT ROW)"


SQL = f"""
WITH w AS (
  SELECT symbol, ts, close, volume,
         {sma('close', LONG)} AS s50, {sma('close', FAST)} AS f, {sma('close', SLOW)} AS s, {sma('volume', VOL)} AS v
  FROM read_parquet($files)
  WINDOW {window(LONG)}, {window(FAST)}, {window(SLOW)}, {window(VOL)}
), l AS (
  SELECT *, lag(f) OVER p AS fp, lag(s) OVER p AS sp FROM w WINDOW p AS (PARTITION BY symbol ORDER BY ts)
)
SELECT symbol, epoch_us(ts) AS ts, close, volume, s50, f, s, v FROM l
WHERE close > s50 AND f > s AND fp <= sp AND volume > {VOLUME_FACTOR} * v
"""


def run():
    return con.execute(SQL, {"files": files}).fetchnumpy()


times, r = time_runs(int(cfg["runs"]), run)
outputs, symbols = write_matches(cfg, r["symbol"], r["ts"], *(r[k] for k in ("close", "volume", "s50", "f", "s", "v")))
report("duckdb", times, outputs, [f"duckdb {duckdb.__version__} SQL window functions"], symbols=symbols,
       matches=int(r["ts"].size))
