-- `barstream ingest`: the rows that passed, with their bucket (`hash(symbol) % buckets`,
-- the rule `barstream generate` uses), ordered so each bucket's rows are contiguous and
-- sorted by (symbol, ts).
CREATE TABLE ingest_valid AS
SELECT (hash(symbol) % {{buckets}})::INTEGER AS bucket, symbol, ts, open, high, low, close, volume
FROM ingest_checked
WHERE reason IS NULL
ORDER BY bucket, symbol, ts;
