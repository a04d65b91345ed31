/**
 * `npm run bench`: barstream against the tools its users would pick instead, on the same generated
 * data and machine in one run. Every tool runs in its own process (warm-up, then `--runs` timed
 * runs); agreement with barstream is checked before any ratio is reported.
 *
 *   npm run bench -- [--quick] [--json] [--runs 5] [--threads N] [--only indicators,atc,scan,screen,rules]
 *
 * `screen`: the formula screen from Parquet (every matching bar) vs Polars, DuckDB and a pandas
 * process pool, and kernels.formula on one series; `rules`: the rule backtest through the CLI
 * beside the ATC backtest; `shards` (only when named): the backtest as N shards one after another
 * plus `merge`, against a single run, and `merge` over 1,000 bucket files (see bench/shards.ts);
 * `update` (only when named): one new bar per symbol appended and a backtest and a screen
 * updated by `barstream update`, against their full recomputation (see bench/update.ts).
 *
 * Writes bench/results/<date>[-quick].json, .md (ratio table) and .png (scaling plot).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
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
import { compare as formulaKernel } from './formula-kernel.js';
import { compare as rules } from './rules.js';
import { compare as screen } from './screen-vs-peers.js';
import { SIZES as SHARD_SIZES, shardsBench, ShardsReport } from './shards.js';
import { SIZES as UPDATE_SIZES, updateBench, UpdateReport } from './update.js';
import { benchDataset, flag, machine, numberArg } from './util.js';

const args = process.argv.slice(2);
const quick = flag(args, 'quick');
const json = flag(args, 'json');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : ['indicators', 'atc', 'scan', 'screen', 'rules'];
const runs = numberArg(args, 'runs', 5);
if (runs < 5) process.stderr.write('note: fewer than 5 runs; the results are not for the record\n');
const threads = numberArg(args, 'threads', availableParallelism());

/**
 * Sizes: one long series; symbol counts x bars per symbol (quick: smaller); the formula screen's
 * and the rule backtest's symbol counts; pandas' screen pool timed on about `pandasScreenBars` bars.
 */
const size = quick
  ? { series: 250_000, symbols: [100, 300], bars: 2000, pandasSymbols: 1, screenSymbols: [100, 300], rulesSymbols: 300, pandasScreenBars: Infinity }
  : { series: 1_000_000, symbols: [500, 2000, 10000], bars: 5000, pandasSymbols: 4, screenSymbols: [2000, 10000], rulesSymbols: 10000, pandasScreenBars: 10_000_000 };

const results = join(root, 'bench', 'results');
const tmp = join(results, 'tmp', String(process.pid));
rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });
const log = (s: string) => process.stderr.write(`${s}\n`);
const ctx: Context = { quick, runs, threads, tmp, log, cache: new Map() };

const t0 = performance.now();
/** The 1-minute load average when the run began: a busy machine slows every tool (the ratios less). */
const loadAtStart = loadavg()[0];
// The peers' Python environment, only for the benches that run peers.
if (only.some((o) => ['indicators', 'atc', 'scan', 'screen', 'rules'].includes(o))) venvPython();
const rows: Row[] = [];
const add = (rs: Row[]) => rows.push(...rs.filter((r) => r.agreement !== 'reference' || !rows.some((o) => o.task === r.task && o.tool === r.tool)));

if (only.includes('indicators') || only.includes('atc') || only.includes('screen')) {
  const series = await datasetCloses(1, size.series, '1m');
  if (only.includes('screen')) {
    log(`kernels.formula, one series of ${series.bars} bars`);
    add(await formulaKernel(ctx, series.dataset));
  }
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
if (only.includes('screen')) {
  for (const n of size.screenSymbols) {
    log(`formula screen (every matching bar) from Parquet, ${n} symbols x ${size.bars} bars`);
    add(await screen(ctx, await benchDataset(n, size.bars), n, size.bars, size.pandasScreenBars));
  }
}
if (only.includes('rules')) {
  const n = size.rulesSymbols;
  log(`rule backtest through the CLI, ${n} symbols x ${size.bars} bars`);
  add(await rules(ctx, await benchDataset(n, size.bars), n, size.bars));
}

// ---- report ---------------------------------------------------------------------------------
const fmt = (x: number | undefined, d = 3) => (x === undefined ? '' : x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toPrecision(d));
const bsOf = (r: Row) => rows.find((o) => o.task === r.task && o.tool === 'barstream')!;
const agreementText = (r: Row) =>
  r.agreement === 'reference'
    ? ''
    : `${r.agreement === 'agrees' ? 'agrees' : r.agreement === 'not-specd' ? 'differs by design' : 'DISAGREES'} (${r.maxAbsDiff === Infinity ? (r.relative ? 'matches or NaN places differ' : 'NaN positions differ') : `${r.relative ? 'rel ' : ''}${r.maxAbsDiff?.toExponential(1)}`})`;
/** The formula tasks of issue 9 have their own table, barstream's rows included (checked against a reference). */
const isFormulaTask = (r: Row) => /^(screen|rules|formula)-/.test(r.task);
const formulaRows = rows.filter(isFormulaTask);
const peers = rows.filter((r) => r.tool !== 'barstream' && !isFormulaTask(r));
const mainTable = table(
  ['task', 'peer', 'peer median s', 'peer min s', 'barstream median s', 'ratio peer/barstream', 'peer peak RSS MB', 'barstream peak RSS MB', 'agreement (max abs diff)'],
  peers.map((r) => {
    const b = bsOf(r);
    const ratio = `${fmt(r.ratio)}x${r.agreement === 'disagrees' ? ' (disagrees)' : ''}`;
    return [r.task, r.tool, fmt(r.median), fmt(r.min), fmt(b.median), ratio, fmt(r.peakRssMB), fmt(b.peakRssMB), agreementText(r)];
  }),
);

const formulaTable = table(
  ['task', 'tool', 'median s', 'min s', 'ratio tool/barstream', 'M bars/s', 'peak RSS MB', 'agreement with the reference (max diff)'],
  formulaRows.map((r) => [r.task, r.tool, fmt(r.median), fmt(r.min), r.tool === 'barstream' ? '' : `${fmt(r.ratio)}x`, fmt(r.bars / r.median / 1e6), fmt(r.peakRssMB), r.agreement === 'reference' ? 'in-run reference (not compared)' : agreementText(r)]),
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
// The formula targets (issue 9, "Speed"): ratios against the peers at the largest screen size, and absolute ones.
const screenLargest = Math.max(...size.screenSymbols);
const fr = (prefix: string, tool: string) => formulaRows.find((r) => r.task.startsWith(prefix) && r.tool === tool);
const screenLabel = `screen-${sizeLabel(screenLargest, size.bars)}`;
const bsScreen = fr(screenLabel, 'barstream');
const ok = (r: Row | undefined) => r !== undefined && r.agreement !== 'disagrees';
for (const [tool, want, rss] of [['polars', 5, true], ['duckdb', 10, true], ['pandas', 100, false]] as const) {
  const r = formulaRows.find((o) => o.task === screenLabel && o.tool.startsWith(tool));
  if (!r || !bsScreen) continue;
  const rssOk = !rss || bsScreen.peakRssMB < r.peakRssMB;
  const measured = `${fmt(r.ratio)}x${rss ? `; RSS ${fmt(bsScreen.peakRssMB)} vs ${fmt(r.peakRssMB)} MB` : ''}`;
  targetRows.push([`formula screen --all >= ${want}x ${r.tool}${rss ? ', lower peak RSS' : ''} (${screenLargest} symbols)`, measured, r.ratio! >= want && rssOk && ok(r) && ok(bsScreen) ? 'met' : 'MISSED']);
}
if (bsScreen) {
  targetRows.push([`formula screen --all, ${sizeLabel(screenLargest, size.bars)} bars, in under 3 s`, `${fmt(bsScreen.median)} s`, bsScreen.median < 3 && ok(bsScreen) ? 'met' : 'MISSED']);
}
const fk = fr(`formula-${sizeLabel(1, size.series)}`, 'barstream'); // the screen formula (not formula-sma-)
if (fk) targetRows.push([`kernels.formula on ${sizeLabel(1, fk.bars)} >= 50 M bars/s`, `${fmt(fk.bars / fk.median / 1e6)} M bars/s`, fk.bars / fk.median >= 50e6 && ok(fk) ? 'met' : 'MISSED']);
const rb = fr('rules-', 'barstream');
if (rb) {
  targetRows.push([`rule backtest ${sizeLabel(rb.symbols, size.bars)} under 20 s, peak RSS under 1.5 GB`, `${fmt(rb.median)} s; RSS ${fmt(rb.peakRssMB)} MB`, rb.median < 20 && rb.peakRssMB < 1536 && ok(rb) ? 'met' : 'MISSED']);
}
let shardsReport: ShardsReport | undefined;
if (only.includes('shards')) {
  shardsReport = await shardsBench({ size: SHARD_SIZES[quick ? 'quick' : 'full'], runs, threads, tmp: join(tmp, 'shards'), log });
  targetRows.push(...shardsReport.targets);
}
let updateReport: UpdateReport | undefined;
if (only.includes('update')) {
  updateReport = await updateBench({ size: UPDATE_SIZES[quick ? 'quick' : 'full'], runs, threads, tmp: join(tmp, 'update'), log });
  targetRows.push(...updateReport.targets);
}
const targetTable = table(['target', 'measured', 'status'], targetRows);

const stamp = new Date().toISOString().slice(0, 10) + (quick ? '-quick' : '');
const notes = [...new Set([...peers, ...formulaRows].flatMap((r) => r.notes.map((n) => `${isFormulaTask(r) ? `${r.task} ` : ''}${r.tool}: ${n}`)))];
const header = [
  `barstream vs peers (${quick ? 'quick' : 'full'} mode), ${new Date().toISOString()}`,
  `machine: ${machine()}; load average ${loadAtStart.toFixed(1)} at the start; ${threads} threads for barstream/DuckDB/Polars/Dask (numba and pandas ATC: one symbol at a time, one thread; pandas screen: a pool of ${threads} processes)`,
  `command: npm run bench --${quick ? ' --quick' : ''}${runs !== 5 ? ` --runs ${runs}` : ''}${args.includes('--only') ? ` --only ${only.join(',')}` : ''}; ${runs} timed runs after a warm-up; ratio = peer median / barstream median`,
  `sizes: one series of ${size.series.toLocaleString('en-US')} bars; ${size.symbols.map((n) => sizeLabel(n, size.bars)).join(', ')} (symbols x bars); formula screen ${size.screenSymbols.map((n) => sizeLabel(n, size.bars)).join(', ')}; rule backtest ${sizeLabel(size.rulesSymbols, size.bars)}`,
];
const md = [
  `# ${header[0]}`,
  '',
  ...header.slice(1).map((h) => `- ${h}`),
  '',
  ...(peers.length ? ['```', mainTable, '```', ''] : []),
  ...(formulaRows.length
    ? [
        '## Formulas (issue 9)',
        '',
        "Every tool, barstream included, is checked against the reference (kernels.sma and the spec's rules written out in bench/): the same (symbol, ts) matches and every value within 1e-9 * max(1, |reference|).",
        '',
        '```',
        formulaTable,
        '```',
        '',
      ]
    : []),
  ...(shardsReport ? ['## Shards (issue 10)', '', shardsReport.markdown, ''] : []),
  ...(updateReport ? ['## Daily update (issue 11)', '', updateReport.markdown, ''] : []),
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
writeFileSync(join(results, `${stamp}.json`), JSON.stringify({ header, size, runs, threads, rows, targets: targetRows, shards: shardsReport?.json, update: updateReport?.json }, null, 1));
await plot(rows, join(results, `${stamp}.png`), `barstream vs peers, median of ${runs} runs (${quick ? 'quick' : 'full'})`);
rmSync(tmp, { recursive: true, force: true });

const tables = [...(peers.length ? [mainTable] : []), ...(formulaRows.length ? [formulaTable] : []), ...(shardsReport ? [shardsReport.markdown] : []), ...(updateReport ? [updateReport.markdown] : []), targetTable];
process.stdout.write(`${header.join('\n')}\n\n${tables.join('\n\n')}\n\nwrote bench/results/${stamp}.{json,md,png} in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
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
