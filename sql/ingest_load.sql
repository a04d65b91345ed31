-- Appends one source file to `ingest_rows`. Each {{column}} is the quoted source column
-- mapped to that canonical name; {{ts_parsed}} parses it to TIMESTAMP (NULL if it does not
-- parse); {{source}} is a MAP of every source column (original name -> text).
INSERT INTO ingest_rows
SELECT
  {{file}}, {{row}},
  CAST({{symbol}} AS VARCHAR), CAST({{ts}} AS VARCHAR), CAST({{open}} AS VARCHAR), CAST({{high}} AS VARCHAR),
  CAST({{low}} AS VARCHAR), CAST({{close}} AS VARCHAR), CAST({{volume}} AS VARCHAR),
  NULLIF(trim(CAST({{symbol}} AS VARCHAR)), ''),
  {{ts_parsed}},
  TRY_CAST({{open}} AS DOUBLE), TRY_CAST({{high}} AS DOUBLE), TRY_CAST({{low}} AS DOUBLE),
  TRY_CAST({{close}} AS DOUBLE), TRY_CAST({{volume}} AS DOUBLE),
  {{source}}
FROM {{relation}};
