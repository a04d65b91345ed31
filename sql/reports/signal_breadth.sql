-- Signal breadth: per date, the share of symbols long, short and flat, and the mean signal.
-- A symbol's side on a date is its position after that day's last bar; mean_signal
-- averages the Average_Signal of those bars.
-- Needs the `signals` view (sql/views.sql).
WITH last_bar AS (
  SELECT symbol, ts::DATE AS date, arg_max(position, ts) AS position, arg_max(average_signal, ts) AS signal
  FROM signals
  GROUP BY symbol, date
)
SELECT date,
       count(*) AS symbols,
       avg((position > 0)::INTEGER) AS long_share,
       avg((position < 0)::INTEGER) AS short_share,
       avg((position = 0)::INTEGER) AS flat_share,
       avg(signal) AS mean_signal
FROM last_bar
GROUP BY date
ORDER BY date;
