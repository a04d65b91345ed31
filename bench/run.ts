/**
 * `npm run bench`: barstream against the tools its users would pick instead, on the same generated
 * data and machine in one run. Every tool runs in its own process (warm-up, then `--runs` timed
 * runs); agreement with barstream is checked before any ratio is reported.
 *
 *   npm run bench -- [--quick] [--json] [--runs 5] [--threads N] [--only atc,scan,indicators]
 *
 * Writes bench/results/<date>[-quick].json, .md (ratio table) and .png (scaling plot).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { table } from '../engine/cli/common.js';
import { compare as atcNumba } from './atc-vs-numba.js';
import { compare as atcPandas } from './atc-vs-pandas.js';
import { compare as indTalib } from './indicators-vs-talib.js';
import { compare as indTi } from './indicators-vs-technicalindicators.js';
import { plot } from './plot.js';
import { Context, datasetCloses, root, Row, sizeLabel, venvPython } from './peers/harness.js';
import { compare as scanDask } from './scan-vs-dask.js';
import { compare as scanDuckdb } from './scan-vs-duckdb.js';
import { compare as scanPolars } from './scan-vs-polars.js';
import { flag, machine, numberArg } from './util.js';

const args = process.argv.slice(2);
const quick = flag(args, 'quick');
const json = flag(args, 'json');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : ['indicators', 'atc', 'scan'];
const runs = numberArg(args, 'runs', 5);
if (runs < 5) process.stderr.write('note: fewer than 5 runs; the results are not for the record\n');
const threads = numberArg(args, 'threads', availableParallelism());

/** Sizes: one long series; symbol counts x bars per symbol (quick: smaller). */
const size = quick
  ? { series: 250_000, symbols: [100, 300], bars: 2000, pandasSymbols: 1 }
  : { series: 1_000_000, symbols: [500, 2000, 10000], bars: 5000, pandasSymbols: 4 };

const results = join(root, 'bench', 'results');
const tmp = join(results, 'tmp', String(process.pid));
rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });
const log = (s: string) => process.stderr.write(`${s}\n`);
const ctx: Context = { quick, runs, threads, tmp, log, cache: new Map() };

const t0 = performance.now();
venvPython();
const rows: Row[] = [];
const add = (rs: Row[]) => rows.push(...rs.filter((r) => r.agreement !== 'reference' || !rows.some((o) => o.task === r.task && o.tool === r.tool)));

if (only.includes('indicators') || only.includes('atc')) {
  const series = await datasetCloses(1, size.series, '1m');
  if (only.includes('indicators')) {
    log(`indicators, one series of ${series.bars} bars`);
    add(await indTalib(ctx, series));
    add(await indTi(ctx, series));
  }
  if (only.includes('atc')) {
    log(`atc, one series of ${series.bars} bars`);
    add(await atcNumba(ctx, series, 1));
  }
}
for (const n of size.symbols) {
  const s = await datasetCloses(n, size.bars);
  if (only.includes('atc')) {
    log(`atc, ${n} symbols x ${size.bars} bars in memory`);
    add(await atcNumba(ctx, s, size.pandasSymbols));
    add(await atcPandas(ctx, s, size.pandasSymbols));
  }
  if (only.includes('scan')) {
    log(`scan from Parquet, ${n} symbols x ${size.bars} bars`);
    add(await scanDask(ctx, s));
    add(await scanPolars(ctx, s));
    add(await scanDuckdb(ctx, s));
  }
}

// ---- report ---------------------------------------------------------------------------------
const fmt = (x: number | undefined, d = 3) => (x === undefined ? '' : x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toPrecision(d));
const bsOf = (r: Row) => rows.find((o) => o.task === r.task && o.tool === 'barstream')!;
const agreementText = (r: Row) =>
  r.agreement === 'reference' ? '' : `${r.agreement === 'agrees' ? 'agrees' : r.agreement === 'not-specd' ? 'differs by design' : 'DISAGREES'} (${r.maxAbsDiff === Infinity ? 'NaN positions differ' : r.maxAbsDiff?.toExponential(1)})`;
const peers = rows.filter((r) => r.tool !== 'barstream');
const mainTable = table(
  ['task', 'peer', 'peer median s', 'peer min s', 'barstream median s', 'ratio peer/barstream', 'peer peak RSS MB', 'barstream peak RSS MB', 'agreement (max abs diff)'],
  peers.map((r) => {
    const b = bsOf(r);
    const ratio = `${fmt(r.ratio)}x${r.agreement === 'disagrees' ? ' (disagrees)' : ''}`;
    return [r.task, r.tool, fmt(r.median), fmt(r.min), fmt(b.median), ratio, fmt(r.peakRssMB), fmt(b.peakRssMB), agreementText(r)];
  }),
);

interface Target {
  name: string;
  want: number;
  rows: Row[];
  rss?: boolean;
}
const largest = Math.max(...size.symbols);
const at = (prefix: string, tool: string) => peers.filter((r) => r.task.startsWith(prefix) && r.tool === tool && r.symbols === largest);
const targets: Target[] = [
  { name: `ATC in memory >= 3x numba per symbol (${largest} symbols)`, want: 3, rows: at('atc-', 'numba') },
  { name: `ATC in memory >= 100x pandas per symbol (${largest} symbols)`, want: 100, rows: at('atc-', 'pandas (extrapolated)') },
  { name: `scan from Parquet >= 10x Dask + numba, lower peak RSS (${largest} symbols)`, want: 10, rows: at('scan-', 'dask+numba'), rss: true },
  { name: `scan from Parquet >= 3x Polars (SMA + trend state, both sides), lower peak RSS (${largest} symbols)`, want: 3, rows: at('trendscan-', 'polars'), rss: true },
  ...['sma', 'ema', 'wma', 'dema', 'rsi', 'bollinger'].map((k) => ({ name: `${k} at ${size.series.toLocaleString('en-US')} bars >= 1x TA-Lib`, want: 1, rows: peers.filter((r) => r.task.startsWith(`${k}-`) && r.tool === 'ta-lib') })),
];
const targetRows = targets
  .filter((t) => t.rows.length)
  .map((t) => {
    const r = t.rows[0];
    const b = bsOf(r);
    const rssOk = !t.rss || b.peakRssMB < r.peakRssMB;
    const met = r.ratio! >= t.want && rssOk && r.agreement !== 'disagrees';
    const rss = t.rss ? `; RSS ${fmt(b.peakRssMB)} vs ${fmt(r.peakRssMB)} MB` : '';
    return [t.name, `${fmt(r.ratio)}x${rss}`, met ? 'met' : 'MISSED'];
  });
const targetTable = table(['target', 'measured', 'status'], targetRows);

const stamp = new Date().toISOString().slice(0, 10) + (quick ? '-quick' : '');
const notes = [...new Set(peers.flatMap((r) => r.notes.map((n) => `${r.tool}: ${n}`)))];
const header = [
  `barstream vs peers (${quick ? 'quick' : 'full'} mode), ${new Date().toISOString()}`,
  `machine: ${machine()}; ${threads} threads for barstream/DuckDB/Polars/Dask (numba and pandas: one symbol at a time, one thread)`,
  `command: npm run bench --${quick ? ' --quick' : ''}${runs !== 5 ? ` --runs ${runs}` : ''}; ${runs} timed runs after a warm-up; ratio = peer median / barstream median`,
  `sizes: one series of ${size.series.toLocaleString('en-US')} bars; ${size.symbols.map((n) => sizeLabel(n, size.bars)).join(', ')} (symbols x bars)`,
];
const md = [
  `# ${header[0]}`,
  '',
  ...header.slice(1).map((h) => `- ${h}`),
  '',
  '```',
  mainTable,
  '```',
  '',
  '## Targets',
  '',
  '```',
  targetTable,
  '```',
  '',
  '## Notes',
  '',
  ...notes.map((n) => `- ${n}`),
  '',
  `![scaling](${stamp}.png)`,
  '',
].join('\n');
mkdirSync(results, { recursive: true });
writeFileSync(join(results, `${stamp}.md`), md);
writeFileSync(join(results, `${stamp}.json`), JSON.stringify({ header, size, runs, threads, rows, targets: targetRows }, null, 1));
await plot(rows, join(results, `${stamp}.png`), `barstream vs peers, median of ${runs} runs (${quick ? 'quick' : 'full'})`);
rmSync(tmp, { recursive: true, force: true });

process.stdout.write(`${header.join('\n')}\n\n${mainTable}\n\n${targetTable}\n\nwrote bench/results/${stamp}.{json,md,png} in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
if (json) {
  const ratios: Record<string, number> = {};
  const agreement: Record<string, number> = {};
  const peakRssMB: Record<string, number> = {};
  for (const r of rows) {
    peakRssMB[`${r.task}/${r.tool}`] = r.peakRssMB;
    if (r.tool === 'barstream') continue;
    ratios[`${r.task}/${r.tool}`] = r.ratio!;
    agreement[`${r.task}/${r.tool}`] = r.maxAbsDiff!;
  }
  process.stdout.write(`${JSON.stringify({ ratios, agreement, peakRssMB })}\n`);
}
