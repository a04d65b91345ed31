/**
 * The read path, measured: rows/s of bars pulled from Parquet through DuckDB into Rust
 * (per-symbol runs to a Rust sink), versus DuckDB scanning the same columns itself and
 * versus pulling chunks through `@duckdb/node-api` in JS, on the same data in one run.
 *
 *   npm run bench:read -- [--symbols 2000] [--bars 5000] [--threads 2] [--runs 3] [--json]
 */
import { DuckDBInstance, DuckDBTimestampValue } from '@duckdb/node-api';
import { Engine } from '../engine/engine.js';
import { sqlFile } from '../engine/sql.js';
import { benchDataset, flag, machine, median, numberArg, timeRuns } from './util.js';
import { table } from '../engine/cli/common.js';

const args = process.argv.slice(2);
const symbols = numberArg(args, 'symbols', 2000);
const bars = numberArg(args, 'bars', 5000);
const threads = numberArg(args, 'threads', 2);
const runs = numberArg(args, 'runs', 3);
const json = flag(args, 'json');

const dataset = await benchDataset(symbols, bars);
const engine = await Engine.open({ dataset, threads });
const rows = symbols * bars;

// Peer connection: the same library, the same view, the same thread count.
const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const conn = await instance.connect();
await conn.run(sqlFile('bars', { source: Engine.sourceSql(engine.files) }));

async function rustPath(mode: 'vectors' | 'arrow'): Promise<void> {
  const r = await engine.stream({ mode });
  if (r.rows !== rows) throw new Error(`rust path read ${r.rows} rows, expected ${rows}`);
}

async function duckdbScan(): Promise<void> {
  const reader = await conn.runAndReadAll('SELECT count(DISTINCT symbol) AS n, max(ts) AS t, sum(close) AS c FROM bars');
  if (Number(reader.getRowObjects()[0].n) !== symbols) throw new Error('duckdb scan saw the wrong symbol count');
}

async function jsChunks(): Promise<void> {
  const result = await conn.stream('SELECT symbol, ts, close FROM bars');
  let n = 0;
  let runsSeen = 0;
  let prev: string | null = null;
  let prevTs = -1n;
  let sum = 0;
  for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    const sym = chunk.getColumnVector(0);
    const ts = chunk.getColumnVector(1);
    const close = chunk.getColumnVector(2);
    for (let i = 0; i < chunk.rowCount; i++) {
      const s = sym.getItem(i) as string;
      const t = (ts.getItem(i) as DuckDBTimestampValue).micros;
      if (s !== prev) {
        runsSeen++;
        prev = s;
      } else if (t <= prevTs) throw new Error('out of order');
      prevTs = t;
      sum += close.getItem(i) as number;
    }
    n += chunk.rowCount;
  }
  if (n !== rows || runsSeen !== symbols || !Number.isFinite(sum)) throw new Error(`js path read ${n} rows`);
}

const measure = async (name: string, f: () => Promise<void>) => {
  await f(); // warm the file cache and the code
  const times = await timeRuns(runs, f);
  const med = median(times);
  process.stderr.write(`${name}: median ${med.toFixed(3)} s over ${runs} runs\n`);
  return rows / med;
};

const rust = await measure('rust (vectors)', () => rustPath('vectors'));
const rustArrow = await measure('rust (arrow export)', () => rustPath('arrow'));
const duck = await measure('duckdb scan', duckdbScan);
const js = await measure('js chunks', jsChunks);

const fmt = (r: number) => `${(r / 1e6).toFixed(1)} M`;
process.stdout.write(
  [
    `read path: ${rows.toLocaleString('en-US')} bars (${symbols} symbols x ${bars}), columns symbol, ts, close; ${threads} DuckDB threads`,
    `machine: ${machine()}`,
    '',
    table(
      ['path', 'rows/s', 'rust(vectors) / path'],
      [
        ['Rust, DuckDB vectors wrapped in place', fmt(rust), '1.00'],
        ['Rust, Arrow C data interface export', fmt(rustArrow), (rust / rustArrow).toFixed(2)],
        ['DuckDB own scan (count distinct, max, sum)', fmt(duck), (rust / duck).toFixed(2)],
        ['JS chunks via @duckdb/node-api', fmt(js), (rust / js).toFixed(2)],
      ],
    ),
    '',
    `targets: >= 5x the JS-chunk path (${(rust / js).toFixed(1)}x: ${rust / js >= 5 ? 'met' : 'MISSED'}), ` +
      `>= 1/3 of DuckDB's own scan (${(rust / duck).toFixed(2)}: ${rust / duck >= 1 / 3 ? 'met' : 'MISSED'})`,
    '',
  ].join('\n'),
);
if (json) {
  process.stdout.write(
    `${JSON.stringify({ rustRowsPerSec: Math.round(rust), duckdbScanRowsPerSec: Math.round(duck), jsChunkRowsPerSec: Math.round(js), rustArrowRowsPerSec: Math.round(rustArrow) })}\n`,
  );
}
conn.closeSync();
instance.closeSync();
