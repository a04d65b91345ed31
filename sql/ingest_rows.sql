-- `barstream ingest`: every source row, once as the text it had (for `_rejected/`) and
-- once parsed (for the checks and the output). `file` indexes `ingest_files`, `row` is
-- the 1-based data row within that file; together they are the source order.
CREATE TABLE ingest_rows (
  file INTEGER, row BIGINT,
  symbol_text VARCHAR, ts_text VARCHAR, open_text VARCHAR, high_text VARCHAR,
  low_text VARCHAR, close_text VARCHAR, volume_text VARCHAR,
  symbol VARCHAR, ts TIMESTAMP, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE,
  source MAP(VARCHAR, VARCHAR)
);
