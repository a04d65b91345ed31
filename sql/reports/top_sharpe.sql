-- Symbols with the highest Sharpe ratio (top 20), with their other statistics.
-- Needs the `summary` view (sql/views.sql). Symbols whose Sharpe is undefined (no
-- variance) are left out.
SELECT symbol, sharpe, total_return, cagr, volatility, max_drawdown, trades, win_rate, exposure, bars
FROM summary
WHERE sharpe IS NOT NULL AND isfinite(sharpe)
ORDER BY sharpe DESC, symbol
LIMIT 20;
