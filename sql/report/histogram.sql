-- A histogram of one summary column ({{column}}) over the symbols: {{bins}} bins of equal
-- width between the 1st and 99th percentiles; values beyond them count in the edge bins, so
-- one outlier does not squeeze every other symbol into a single bar. NULL and non-finite
-- values are left out.
WITH v AS (
  SELECT {{column}} AS x FROM summary WHERE {{only}} AND {{column}} IS NOT NULL AND isfinite({{column}})
), r AS (
  SELECT quantile_cont(x, 0.01) AS lo, quantile_cont(x, 0.99) AS q99 FROM v
), edges AS (
  -- every value equal: one bin of width 1 around it
  SELECT CASE WHEN q99 > lo THEN lo ELSE lo - 0.5 END AS lo,
         CASE WHEN q99 > lo THEN q99 ELSE lo + 0.5 END AS hi
  FROM r
), binned AS (
  SELECT least({{bins}} - 1, greatest(0, floor((x - lo) / (hi - lo) * {{bins}})))::INTEGER AS bin, count(*) AS count
  FROM v, edges
  GROUP BY bin
)
SELECT bin, lo + bin * (hi - lo) / {{bins}} AS start, lo + (bin + 1) * (hi - lo) / {{bins}} AS stop, count
FROM binned, edges
ORDER BY bin;
