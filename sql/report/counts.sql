-- Row counts of the report's views within the symbols it covers: how much each chart or table shows of.
SELECT (SELECT count(*) FROM {{view}} WHERE {{only}}) AS rows,
       (SELECT count(DISTINCT symbol) FROM {{view}} WHERE {{only}}) AS symbols;
