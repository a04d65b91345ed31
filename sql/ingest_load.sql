-- Appends the file open as `ingest_src` (`ingest_row` = 1-based data row) to `ingest_rows`.
-- The value placeholders (symbol, open, ..., volume) are SQL expressions over the source
-- columns that give the parsed value (NULL when it does not parse); the *_blank ones test
-- the source for NULL or blank text (volume_blank is NULL when the source has no volume);
-- ts_parsed parses the timestamp to UTC (NULL when it does not parse).
INSERT INTO ingest_rows
SELECT
  {{file}}, ingest_row,
  NULLIF(trim(CAST({{symbol}} AS VARCHAR)), ''),
  {{ts_blank}}, {{ts_parsed}},
  {{price_blank}},
  {{open}}, {{high}}, {{low}}, {{close}},
  {{volume_blank}}, {{volume}},
  false
FROM ingest_src;
