-- `barstream ingest`: gathers the rejected rows of one file, open again as `ingest_src`,
-- with the source text of each canonical column (the placeholders are the source columns,
-- qualified with `s.`) and every source column in `source` (name -> text).
INSERT INTO ingest_rejected
SELECT c.file, c.row, c.reason, {{path}},
  CAST({{symbol}} AS VARCHAR), CAST({{ts}} AS VARCHAR), CAST({{open}} AS VARCHAR), CAST({{high}} AS VARCHAR),
  CAST({{low}} AS VARCHAR), CAST({{close}} AS VARCHAR), CAST({{volume}} AS VARCHAR),
  {{source}}
FROM ingest_checked AS c JOIN ingest_src AS s ON s.ingest_row = c.row
WHERE c.file = {{file}} AND c.reason IS NOT NULL;
