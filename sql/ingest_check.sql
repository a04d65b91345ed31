-- `barstream ingest`: gives each row at most one `reason` (the first check it fails, in
-- this order). A row that passes every other check but repeats the (symbol, ts) of an
-- earlier passing row, in source order (file, row), is a `duplicate`: the first is kept;
-- under --prefer, when that earlier row came from another (earlier, preferred) input, it
-- is `superseded` instead. `ingest_files` gives each file's input.
CREATE TABLE ingest_checked AS
WITH checked AS (
  SELECT *,
    CASE
      WHEN malformed THEN 'malformed_line'
      WHEN symbol IS NULL THEN 'missing_symbol'
      WHEN ts_blank THEN 'missing_ts'
      WHEN ts IS NULL OR NOT isfinite(ts) THEN 'bad_ts'
      WHEN price_blank THEN 'missing_price'
      WHEN open IS NULL OR high IS NULL OR low IS NULL OR close IS NULL THEN 'bad_price'
      WHEN NOT (isfinite(open) AND isfinite(high) AND isfinite(low) AND isfinite(close)) THEN 'nonfinite_price'
      WHEN least(open, high, low, close) <= 0 THEN 'nonpositive_price'
      WHEN high < low THEN 'high_below_low'
      WHEN open < low OR open > high THEN 'open_outside_range'
      WHEN close < low OR close > high THEN 'close_outside_range'
      WHEN volume_blank THEN 'missing_volume'
      -- volume_blank is NULL for a source without volume: its NULL volume is not checked.
      WHEN volume IS NULL AND volume_blank IS NOT NULL THEN 'bad_volume'
      WHEN NOT isfinite(volume) THEN 'nonfinite_volume'
      WHEN volume < 0 THEN 'negative_volume'
    END AS reason
  FROM ingest_rows
)
SELECT * EXCLUDE (ts_blank, price_blank, volume_blank, malformed, input) REPLACE (
  CASE
    WHEN reason IS NOT NULL OR row_number() OVER w = 1 THEN reason
    -- Under --prefer ({{prefer}}) the first row came from an input of higher precedence.
    WHEN {{prefer}} AND first_value(input) OVER w < input THEN 'superseded'
    ELSE 'duplicate'
  END AS reason)
FROM checked JOIN ingest_files USING (file)
WINDOW w AS (PARTITION BY reason IS NULL, symbol, ts ORDER BY file, row);
