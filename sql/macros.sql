-- Macros over the result views: read sql/views.sql first (table macros are bound when
-- created, so `signals` must exist). `barstream query --results DIR` defines them.

-- Annualised Sharpe ratio of per-bar returns `r` with `periods` bars a year (252 for
-- weekday bars), an aggregate: SELECT symbol, sharpe(strategy_return, 252) FROM signals GROUP BY symbol
CREATE OR REPLACE MACRO sharpe(r, periods) AS
  avg(r) / nullif(stddev_samp(r), 0) * sqrt(periods);

-- Bars a year, measured from timestamps `t` as the backtest summary annualises (intervals
-- between the first and last bar, per 365.25 days), an aggregate:
--   SELECT symbol, sharpe(strategy_return, bars_per_year(ts)) FROM signals GROUP BY symbol
CREATE OR REPLACE MACRO bars_per_year(t) AS
  (count(t) - 1) / nullif(epoch_us(max(t)) - epoch_us(min(t)), 0) * (365.25 * 86400e6);

-- How far `equity` is below its running peak (0 at a new high, -0.25 for 25% below), per
-- symbol `sym` in `t` order, a window expression:
--   SELECT symbol, ts, drawdown(equity, symbol, ts) FROM signals
CREATE OR REPLACE MACRO drawdown(equity, sym, t) AS
  equity / max(equity) OVER (PARTITION BY sym ORDER BY t ROWS UNBOUNDED PRECEDING) - 1;

-- One symbol's equity curve with its running peak and drawdown:
--   SELECT * FROM equity_curve('AAPL')
CREATE OR REPLACE MACRO equity_curve(sym) AS TABLE
  SELECT ts, close, position, strategy_return, equity,
         max(equity) OVER (ORDER BY ts ROWS UNBOUNDED PRECEDING) AS peak,
         equity / peak - 1 AS drawdown
  FROM signals
  WHERE symbol = sym
  ORDER BY ts;

-- Every drawdown of one symbol, deepest first: the peak it fell from, the trough, the bar
-- where equity got back to the peak (NULL while it has not), the depth (-0.25 for 25%) and
-- the bars from peak to trough and from peak to recovery.
--   SELECT * FROM drawdowns('AAPL') LIMIT 5
CREATE OR REPLACE MACRO drawdowns(sym) AS TABLE
  WITH curve AS (
    SELECT ts, equity, max(equity) OVER (ORDER BY ts ROWS UNBOUNDED PRECEDING) AS peak,
           row_number() OVER (ORDER BY ts) AS bar
    FROM signals WHERE symbol = sym
  ), episodes AS (
    -- a new episode starts at every bar at its running peak
    SELECT *, sum((equity >= peak)::INTEGER) OVER (ORDER BY ts ROWS UNBOUNDED PRECEDING) AS episode
    FROM curve
  ), spans AS (
    SELECT episode, min(ts) AS peak_ts, min(bar) AS peak_bar,
           arg_min(ts, equity / peak) AS trough_ts, arg_min(bar, equity / peak) AS trough_bar,
           min(equity / peak) - 1 AS depth
    FROM episodes GROUP BY episode
  ), joined AS (
    SELECT *, lead(peak_ts) OVER (ORDER BY episode) AS recovery_ts,
           lead(peak_bar) OVER (ORDER BY episode) AS recovery_bar
    FROM spans
  )
  SELECT peak_ts, trough_ts, recovery_ts, depth,
         trough_bar - peak_bar AS bars_to_trough,
         recovery_bar - peak_bar AS bars_to_recovery
  FROM joined
  WHERE depth < 0
  ORDER BY depth, peak_ts;

-- Compounded strategy return of each symbol in each calendar year.
--   SELECT * FROM annual_returns() WHERE symbol = 'AAPL'
CREATE OR REPLACE MACRO annual_returns() AS TABLE
  SELECT symbol, year(ts) AS year, product(1 + strategy_return) - 1 AS return, count(*) AS bars
  FROM signals
  GROUP BY symbol, year
  ORDER BY symbol, year;

-- Equity of an equal-weight portfolio of the listed symbols, rebalanced daily: each day the
-- mean of the symbols' daily returns (bars within a day compounded), compounded over days.
--   SELECT * FROM portfolio_equity(['AAPL', 'MSFT'])
CREATE OR REPLACE MACRO portfolio_equity(syms) AS TABLE
  WITH daily AS (
    SELECT symbol, ts::DATE AS date, product(1 + strategy_return) - 1 AS ret
    FROM signals WHERE list_contains(syms, symbol)
    GROUP BY symbol, date
  ), mean AS (
    SELECT date, count(*) AS symbols, avg(ret) AS portfolio_return FROM daily GROUP BY date
  )
  SELECT date, symbols, portfolio_return,
         product(1 + portfolio_return) OVER (ORDER BY date ROWS UNBOUNDED PRECEDING) AS equity
  FROM mean
  ORDER BY date;
