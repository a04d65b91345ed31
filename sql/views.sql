-- Views over the output folder of `barstream backtest` or `barstream screen`, whose path is
-- the variable `results`:
--   SET VARIABLE results = 'results/run1';
--   .read sql/views.sql
-- The path is read each time a view is queried, so setting `results` again switches runs.
-- `barstream query --results DIR` defines these (each only when its folder holds files).

-- Per bar: symbol, ts, close, average_signal, <type>_signal x6, <type>_s x6, event,
-- position, strategy_return, equity, and `bucket` from the bucket=<k> folder names.
CREATE OR REPLACE VIEW signals AS
SELECT * FROM read_parquet(getvariable('results') || '/signals/bucket=*/*.parquet', hive_partitioning = true);

-- Per symbol: symbol, first_ts, last_ts, bars, last_signal, total_return, cagr, volatility,
-- sharpe, max_drawdown, trades, win_rate, exposure.
CREATE OR REPLACE VIEW summary AS
SELECT * FROM read_parquet(getvariable('results') || '/summary/*.parquet');

-- Symbols that failed (`stage` = 'kernel') or were skipped, with the reason.
CREATE OR REPLACE VIEW errors AS
SELECT * FROM read_parquet(getvariable('results') || '/_errors/*.parquet');

-- Per trade of a backtest (ATC or formula): symbol, side ('long' | 'short'), entry_ts,
-- exit_ts (NULL while still open at the last bar), entry_price, exit_price, bars, return.
-- The product of (1 + return) over a symbol's trades is its last equity / first equity.
CREATE OR REPLACE VIEW trades AS
SELECT * FROM read_parquet(getvariable('results') || '/trades/*.parquet');

-- The output folder of `barstream screen --out`: one row per match, symbol, ts, open, high,
-- low, close, volume, then one DOUBLE column per named value of the formula, and `bucket`.
CREATE OR REPLACE VIEW matches AS
SELECT * FROM read_parquet(getvariable('results') || '/matches/bucket=*/*.parquet', hive_partitioning = true);

-- The output folder of `barstream scan --out`: one row per symbol, symbol, status
-- ('processed' | 'skipped' | 'failed'), stage, side ('long' | 'short' | 'flat'), signal, close,
-- ts, bars, message; from `scan.parquet`, or from `scan-<i>-of-<N>.parquet` of a sharded scan.
-- The long list: WHERE side = 'long' AND abs(signal) >= 0.1 ORDER BY abs(signal) DESC, symbol.
CREATE OR REPLACE VIEW scan AS
SELECT * FROM read_parquet(getvariable('results') || '/scan*.parquet');
