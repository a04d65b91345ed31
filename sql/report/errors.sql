-- The first {{rows}} failed or skipped symbols, by stage and symbol.
SELECT symbol, stage, message FROM errors WHERE {{only}} ORDER BY stage, symbol LIMIT {{rows}};
