-- The report's scatter of total return against max drawdown, one point per symbol: at most
-- {{points}} symbols, a sample fixed by the symbol's hash when there are more (so the same
-- run always shows the same points). Symbols whose return or drawdown is not finite are left
-- out (the report counts them).
SELECT symbol, total_return, max_drawdown, sharpe, trades
FROM summary
WHERE {{only}} AND isfinite(total_return) AND isfinite(max_drawdown)
ORDER BY hash(symbol), symbol
LIMIT {{points}};
