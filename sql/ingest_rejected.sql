-- `barstream ingest --on-bad-rows quarantine`: the rejected rows in source order, with the
-- source text of each canonical column and every source column in `source`.
COPY (
  SELECT c.reason, f.path AS source_file, c.row,
    c.symbol_text AS symbol, c.ts_text AS ts, c.open_text AS open, c.high_text AS high,
    c.low_text AS low, c.close_text AS close, c.volume_text AS volume, c.source
  FROM ingest_checked AS c JOIN ingest_files AS f USING (file)
  WHERE c.reason IS NOT NULL
  ORDER BY c.file, c.row
) TO {{path}} (FORMAT parquet, COMPRESSION zstd);
