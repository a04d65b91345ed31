-- Bars from a list of canonical Parquet files, given in bucket/part order:
-- reading in that order keeps each symbol's bars contiguous and in time order, so no sort
-- is needed.
SELECT symbol, ts, open, high, low, close, volume
FROM read_parquet({{files}}, hive_partitioning = false)
