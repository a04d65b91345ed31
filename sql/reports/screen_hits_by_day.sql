-- Screen matches per day: how many matching bars and symbols, and which (first 10 by name).
-- Needs the `matches` view (sql/views.sql) of a `barstream screen --out` output; most useful
-- with `--all`, which keeps every matching bar.
SELECT ts::DATE AS date,
       count(*) AS matches,
       count(DISTINCT symbol) AS symbols,
       array_to_string(list_slice(list(DISTINCT symbol ORDER BY symbol), 1, 10), ' ') AS first_symbols
FROM matches
GROUP BY date
ORDER BY date;
