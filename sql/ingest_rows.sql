-- `barstream ingest`: every source row parsed (`file` is the input's index, `row` is the
-- 1-based data row within that file; together they are the source order), with flags for
-- values that were missing (NULL or blank) as opposed to present but unparseable, and
-- `malformed` for a CSV line that is not a row of its header's columns (its line, error and
-- text in `ingest_malformed`); and the table the rejected rows are gathered in, with their
-- source text.
CREATE TABLE ingest_rows (
  file INTEGER, row BIGINT, symbol VARCHAR,
  ts_blank BOOLEAN, ts TIMESTAMP,
  price_blank BOOLEAN, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE,
  volume_blank BOOLEAN, volume DOUBLE,
  malformed BOOLEAN
);
CREATE TABLE ingest_malformed (file INTEGER, row BIGINT, line BIGINT, error VARCHAR, text VARCHAR);
CREATE TABLE ingest_files (file INTEGER, input INTEGER);
CREATE TABLE ingest_rejected (
  file INTEGER, row BIGINT, reason VARCHAR, source_file VARCHAR,
  symbol VARCHAR, ts VARCHAR, open VARCHAR, high VARCHAR, low VARCHAR, close VARCHAR, volume VARCHAR,
  source MAP(VARCHAR, VARCHAR)
);
