-- Each symbol's latest match with its bar and named values, latest first, at most {{rows}}.
SELECT * EXCLUDE (bucket)
FROM matches
WHERE {{only}}
QUALIFY row_number() OVER (PARTITION BY symbol ORDER BY ts DESC) = 1
ORDER BY ts DESC, symbol
LIMIT {{rows}};
