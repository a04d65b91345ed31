-- A screen's matches per day: matching bars and symbols. Down-sampled to at most {{points}}
-- rows: the days (those with a match) are cut into groups of equal length, each row summing
-- its group (start and stop are its first and last day).
WITH days AS (
  SELECT ts::DATE AS date, count(*) AS matches, count(DISTINCT symbol) AS symbols
  FROM matches
  WHERE {{only}}
  GROUP BY date
), numbered AS (
  SELECT *, row_number() OVER (ORDER BY date) AS n, count(*) OVER () AS total FROM days
)
SELECT min(date) AS start, max(date) AS stop, sum(matches)::BIGINT AS matches, max(symbols) AS most_symbols, count(*) AS days
FROM numbered
GROUP BY floor((n - 1) / ceil(total / {{points}}))
ORDER BY start;
