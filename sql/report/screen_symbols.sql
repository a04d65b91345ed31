-- The {{top}} symbols that match most often, with their first and last match.
SELECT symbol, count(*) AS matches, min(ts) AS first_match, max(ts) AS last_match
FROM matches
WHERE {{only}}
GROUP BY symbol
ORDER BY matches DESC, symbol
LIMIT {{top}};
