-- The `bars` view over a canonical dataset folder (`bucket=<k>/part-<n>.parquet`), whose
-- path is the variable `data`:
--   SET VARIABLE data = 'datasets/demo';
--   .read sql/views_bars.sql
-- It reads every part file; `barstream query --data DIR` defines `bars` over only the files the
-- dataset's metadata.json lists (a killed `ingest --append` may leave others until it is rerun).
CREATE OR REPLACE VIEW bars AS
SELECT symbol, ts, open, high, low, close, volume
FROM read_parquet(getvariable('data') || '/bucket=*/part-*.parquet', hive_partitioning = false);
