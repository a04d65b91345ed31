-- The {{rows}} rows of {{view}} with the highest and the {{rows}} with the lowest {{column}}
-- (all rows when there are at most 2 x {{rows}}), highest first: the report's tables.
SELECT * EXCLUDE (k) FROM (
  (SELECT *, {{key}} AS k FROM {{view}} WHERE {{only}} ORDER BY {{column}} DESC NULLS LAST, {{key}} LIMIT {{rows}})
  UNION
  (SELECT *, {{key}} AS k FROM {{view}} WHERE {{only}} ORDER BY {{column}} ASC NULLS FIRST, {{key}} LIMIT {{rows}})
)
ORDER BY {{column}} DESC NULLS LAST, k;
