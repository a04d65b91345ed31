-- Equity curves of the symbols {{symbols}} against their price, both starting at 1 on the
-- symbol's first bar, down-sampled to at most {{points}} rows per symbol (each row the last
-- bar of a group of equal length).
WITH s AS (
  SELECT symbol, ts, close, equity,
         row_number() OVER (PARTITION BY symbol ORDER BY ts) AS n,
         count(*) OVER (PARTITION BY symbol) AS bars,
         first(close) OVER (PARTITION BY symbol ORDER BY ts) AS first_close,
         first(equity) OVER (PARTITION BY symbol ORDER BY ts) AS first_equity
  FROM signals
  WHERE symbol IN {{symbols}}
)
SELECT symbol, max(ts) AS ts,
       arg_max(equity / first_equity, ts) AS strategy,
       arg_max(close / first_close, ts) AS price
FROM s
GROUP BY symbol, floor((n - 1) / ceil(bars / {{points}}))
ORDER BY symbol, ts;
