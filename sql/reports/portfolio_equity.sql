-- Equity of an equal-weight portfolio of every symbol, rebalanced daily: one row per date.
-- Needs the `signals` view (sql/views.sql). Each symbol's bars within a day are compounded
-- into a daily return; the portfolio return of a day is the mean over the symbols that have
-- a bar that day; equity compounds it from 1; drawdown is equity below its running peak.
WITH daily AS (
  SELECT symbol, ts::DATE AS date, product(1 + strategy_return) - 1 AS ret
  FROM signals
  GROUP BY symbol, date
), portfolio AS (
  SELECT date, count(*) AS symbols, avg(ret) AS portfolio_return
  FROM daily
  GROUP BY date
), curve AS (
  SELECT *, product(1 + portfolio_return) OVER (ORDER BY date ROWS UNBOUNDED PRECEDING) AS equity
  FROM portfolio
)
SELECT date, symbols, portfolio_return, equity,
       equity / max(equity) OVER (ORDER BY date ROWS UNBOUNDED PRECEDING) - 1 AS drawdown
FROM curve
ORDER BY date;
