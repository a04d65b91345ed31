-- The {{top}} symbols with the highest and the {{top}} with the lowest total return (a symbol
-- is in both lists only when there are fewer than 2 x {{top}} symbols).
(SELECT 'best' AS side, symbol, total_return FROM summary
 WHERE {{only}} AND isfinite(total_return) ORDER BY total_return DESC, symbol LIMIT {{top}})
UNION ALL
(SELECT 'worst' AS side, symbol, total_return FROM summary
 WHERE {{only}} AND isfinite(total_return) ORDER BY total_return ASC, symbol LIMIT {{top}});
