"""Peer: DuckDB SQL window functions over the partitioned Parquet: SMA(L) and the trend state of
the close against it; per-symbol last values (see pipeline_common).
Config: {"dataset", "runs", "outDir", "length", "threads"}."""
import duckdb

from common import config, report, time_runs
from pipeline_common import parquet_files, write_per_symbol

cfg = config()
files, L = parquet_files(cfg["dataset"]), int(cfg["length"])
con = duckdb.connect()
con.execute(f"SET threads = {int(cfg['threads'])}; SET enable_progress_bar = false")
SQL = f"""
WITH w AS (
  SELECT symbol, ts, close,
         CASE WHEN count(*) OVER win = {L} THEN avg(close) OVER win END AS sma
  FROM read_parquet($files)
  WINDOW win AS (PARTITION BY symbol ORDER BY ts ROWS BETWEEN {L - 1} PRECEDING AND CURRENT ROW)
), l AS (
  SELECT *, lag(close) OVER p AS pc, lag(sma) OVER p AS pm FROM w WINDOW p AS (PARTITION BY symbol ORDER BY ts)
), e AS (
  SELECT *, CASE WHEN sma IS NULL OR pm IS NULL THEN NULL
                 WHEN close > sma AND pc <= pm THEN 1.0
                 WHEN close < sma AND pc >= pm THEN -1.0 END AS ev FROM l
), s AS (
  SELECT symbol, ts, sma, coalesce(last_value(ev IGNORE NULLS) OVER (PARTITION BY symbol ORDER BY ts
         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), 0.0) AS state FROM e
)
SELECT symbol, arg_max(sma, ts) AS last_sma, arg_max(state, ts) AS last_state,
       sum(CASE WHEN state = 1 THEN 1 ELSE 0 END)::DOUBLE AS long_bars
FROM s GROUP BY symbol ORDER BY symbol
"""


def run():
    return con.execute(SQL, {"files": files}).fetchnumpy()


times, r = time_runs(int(cfg["runs"]), run)
outputs, symbols = write_per_symbol(cfg, r["symbol"], r["last_sma"], r["last_state"], r["long_bars"])
report("duckdb", times, outputs, [f"duckdb {duckdb.__version__} SQL window functions"], symbols=symbols)
