-- The 20 deepest drawdowns, one per symbol, with peak, trough and recovery dates.
-- Each symbol's worst drawdown: the peak it fell from, the trough,
-- the recovery (first bar back at the peak; NULL while it has not recovered), the depth
-- (-0.25 for 25% below the peak) and the days from peak to trough.
-- Needs the `signals` view (sql/views.sql).
WITH curve AS (
  SELECT symbol, ts, equity,
         max(equity) OVER (PARTITION BY symbol ORDER BY ts ROWS UNBOUNDED PRECEDING) AS peak
  FROM signals
), worst AS (
  SELECT symbol, min(equity / peak) - 1 AS depth,
         arg_min(ts, equity / peak) AS trough_ts, arg_min(peak, equity / peak) AS peak_equity
  FROM curve
  GROUP BY symbol
)
SELECT w.symbol, w.depth,
       max(c.ts) FILTER (WHERE c.ts <= w.trough_ts AND c.equity >= w.peak_equity) AS peak_ts,
       w.trough_ts,
       min(c.ts) FILTER (WHERE c.ts > w.trough_ts AND c.equity >= w.peak_equity) AS recovery_ts,
       date_diff('day', peak_ts, w.trough_ts) AS days_to_trough
FROM worst AS w JOIN curve AS c USING (symbol)
WHERE w.depth < 0
GROUP BY w.symbol, w.depth, w.trough_ts
ORDER BY w.depth, w.symbol
LIMIT 20;
