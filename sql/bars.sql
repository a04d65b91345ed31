-- The `bars` view over a canonical dataset. {{files}} is replaced by the list of the
-- dataset's Parquet files in bucket/part order (reading in that order keeps each
-- symbol's bars contiguous and in time order, so no sort is needed).
CREATE OR REPLACE VIEW bars AS
SELECT symbol, ts, open, high, low, close, volume
FROM read_parquet({{files}}, hive_partitioning = false);
