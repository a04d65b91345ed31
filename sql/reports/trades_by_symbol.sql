-- Trades per symbol: how many (long, short, still open), win rate, mean and compounded return.
-- Needs the `trades` view (sql/views.sql) of a backtest output. `compounded` is the product
-- of (1 + return) over the symbol's trades minus 1, which equals its total return; a trade
-- still open at the last bar (exit_ts NULL) counts with its return so far.
SELECT symbol,
       count(*) AS trades,
       count(*) FILTER (WHERE side = 'long') AS long_trades,
       count(*) FILTER (WHERE side = 'short') AS short_trades,
       count(*) FILTER (WHERE exit_ts IS NULL) AS open_trades,
       avg((return > 0)::INTEGER) AS win_rate,
       avg(return) AS mean_return,
       product(1 + return) - 1 AS compounded,
       avg(bars) AS mean_bars,
       min(entry_ts) AS first_entry,
       max(entry_ts) AS last_entry
FROM trades
GROUP BY symbol
ORDER BY compounded DESC, symbol;
