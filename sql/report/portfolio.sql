-- The report's portfolio chart data: the equal-weight portfolio of the backtest (rebalanced
-- daily, as sql/reports/portfolio_equity.sql), buy-and-hold of the same symbols (rebalanced
-- daily too: a symbol's day return is its last close of the day over the day before's, 0 on
-- its first day), the portfolio's drawdown, and how many symbols are long, short and flat
-- after each day's last bar. Down-sampled to at most {{points}} rows: the days are cut into
-- groups of equal length; a row holds its group's last day (equity, counts) and the deepest
-- drawdown within the group, so no trough is lost.
WITH daily AS (
  SELECT symbol, ts::DATE AS date,
         product(1 + strategy_return) - 1 AS ret,
         arg_max(close, ts) AS last_close,
         arg_max(position, ts) AS position
  FROM signals
  WHERE {{only}}
  GROUP BY symbol, date
), held AS (
  SELECT *, last_close / lag(last_close) OVER (PARTITION BY symbol ORDER BY date) - 1 AS hold_ret
  FROM daily
), portfolio AS (
  SELECT date,
         count(*) AS symbols,
         avg(ret) AS ret,
         avg(coalesce(hold_ret, 0)) AS hold_ret,
         count(*) FILTER (WHERE position > 0) AS long,
         count(*) FILTER (WHERE position < 0) AS short,
         count(*) FILTER (WHERE position = 0) AS flat
  FROM held
  GROUP BY date
), curve AS (
  SELECT *,
         product(1 + ret) OVER w AS equity,
         product(1 + hold_ret) OVER w AS hold_equity,
         row_number() OVER w AS n,
         count(*) OVER () AS days
  FROM portfolio
  WINDOW w AS (ORDER BY date ROWS UNBOUNDED PRECEDING)
), drawn AS (
  SELECT *, equity / max(equity) OVER (ORDER BY date ROWS UNBOUNDED PRECEDING) - 1 AS drawdown
  FROM curve
)
SELECT max(date) AS date,
       arg_max(equity, date) AS equity,
       arg_max(hold_equity, date) AS hold_equity,
       min(drawdown) AS drawdown,
       arg_max(long, date) AS long,
       arg_max(short, date) AS short,
       arg_max(flat, date) AS flat,
       arg_max(symbols, date) AS symbols
FROM drawn
GROUP BY floor((n - 1) / ceil(days / {{points}}))
ORDER BY date;
