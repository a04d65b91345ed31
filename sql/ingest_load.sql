-- Appends the file open as `ingest_src` (`ingest_row` = 1-based data row) to `ingest_rows`.
-- The canonical placeholders (symbol, ts, open, ...) are the quoted source columns mapped
-- to those names; the *_blank ones test them for NULL or blank text; ts_parsed parses the
-- timestamp (NULL when it does not parse).
INSERT INTO ingest_rows
SELECT
  {{file}}, ingest_row,
  NULLIF(trim(CAST({{symbol}} AS VARCHAR)), ''),
  {{ts_blank}}, {{ts_parsed}},
  {{price_blank}},
  TRY_CAST({{open}} AS DOUBLE), TRY_CAST({{high}} AS DOUBLE), TRY_CAST({{low}} AS DOUBLE), TRY_CAST({{close}} AS DOUBLE),
  {{volume_blank}}, TRY_CAST({{volume}} AS DOUBLE)
FROM ingest_src;
