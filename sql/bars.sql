-- The `bars` view over a canonical dataset: the source is sql/bars_source.sql over all its files.
CREATE OR REPLACE VIEW bars AS {{source}};
