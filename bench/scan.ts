/**
 * The main job at market scale: a full ATC scan and a full backtest (per-bar outputs to
 * Parquet) over a generated dataset, each in its own process so its peak RSS is its own,
 * next to DuckDB computing each symbol's latest close over the same files (a floor: the
 * read alone, no strategy).
 *
 *   npm run bench:scan -- [--symbols 10000] [--bars 5000] [--threads 2] [--memory-limit 2GB] [--json]
 *
 * With `--sink-lanes [--pairs 2]`: the scan and the backtest with the sinks' lane groups off
 * (`BARSTREAM_SINK_LANES=0`) and on, taking turns, each run in its own process; medians and
 * the off/on ratio, with the load average before and after.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { Engine } from '../engine/engine.js';
import { table } from '../engine/cli/common.js';
import { benchDataset, flag, machine, median, numberArg } from './util.js';

const args = process.argv.slice(2);
const symbols = numberArg(args, 'symbols', 10_000);
const bars = numberArg(args, 'bars', 5000);
const threads = numberArg(args, 'threads', 2);
const memIdx = args.indexOf('--memory-limit');
const memoryLimit = memIdx >= 0 ? args[memIdx + 1] : undefined;
const childIdx = args.indexOf('--child');

interface ChildResult {
  seconds: number;
  peakRssMB: number;
  detail: Record<string, number>;
}

async function child(task: string, dataset: string): Promise<void> {
  const t0 = performance.now();
  const engine = await Engine.open({ dataset, threads, memoryLimit });
  let detail: Record<string, number> = {};
  if (task === 'scan') {
    const r = await engine.scan({ minSignal: 0.1 });
    detail = { processed: r.processed, long: r.qualifying.long, short: r.qualifying.short };
  } else if (task === 'backtest') {
    const out = join(dataset, '..', `${dataset.split('/').pop()}-backtest`);
    rmSync(out, { recursive: true, force: true });
    const r = await engine.backtest({ out });
    detail = { signalRows: r.manifest.counts.signalRows, outputMB: r.manifest.files.reduce((n, f) => n + f.bytes, 0) / 1e6 };
    rmSync(out, { recursive: true, force: true });
  } else {
    const instance = await DuckDBInstance.create(':memory:', { threads: String(threads), ...(memoryLimit ? { memory_limit: memoryLimit } : {}) });
    const conn = await instance.connect();
    const files = engine.files.map((f) => `'${f}'`).join(', ');
    const reader = await conn.runAndReadAll(`SELECT count(*) AS n FROM (SELECT symbol, arg_max(close, ts) FROM read_parquet([${files}]) GROUP BY symbol)`);
    detail = { symbols: Number(reader.getRowObjects()[0].n) };
  }
  const result: ChildResult = { seconds: (performance.now() - t0) / 1000, peakRssMB: process.resourceUsage().maxRSS / 1024, detail };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runChild(task: string, dataset: string, env: Record<string, string> = {}): ChildResult {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [self, ...args, '--child', task, '--dataset', dataset], { encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${task} failed (${r.status}): ${r.stderr}`);
  const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
  const tag = Object.entries(env).map(([k, v]) => ` ${k}=${v}`).join('');
  process.stderr.write(`${task}${tag}: ${res.seconds.toFixed(2)} s, peak RSS ${res.peakRssMB.toFixed(0)} MB ${JSON.stringify(res.detail)}\n`);
  return res;
}

/** The scan and the backtest with the sinks' lane groups off and on, taking turns. */
async function sinkLanes(): Promise<void> {
  const dataset = await benchDataset(symbols, bars);
  const pairs = numberArg(args, 'pairs', 2);
  const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
  const before = load();
  const rows: (string | number)[][] = [];
  for (const task of ['scan', 'backtest']) {
    const t = { off: [] as ChildResult[], on: [] as ChildResult[] };
    for (let i = 0; i < pairs; i++) {
      t.off.push(runChild(task, dataset, { BARSTREAM_SINK_LANES: '0' }));
      t.on.push(runChild(task, dataset, { BARSTREAM_SINK_LANES: '1' }));
    }
    const secs = (x: ChildResult[]) => median(x.map((r) => r.seconds));
    const rss = (x: ChildResult[]) => Math.round(Math.max(...x.map((r) => r.peakRssMB)));
    rows.push([task, Number(secs(t.off).toFixed(2)), Number(secs(t.on).toFixed(2)), (secs(t.off) / secs(t.on)).toFixed(2), rss(t.off), rss(t.on)]);
  }
  process.stdout.write(
    [
      `sink lane groups off vs on: ${(symbols * bars).toLocaleString('en-US')} bars (${symbols} symbols x ${bars}), ${threads} threads, median of ${pairs} runs each, taking turns`,
      `machine: ${machine()}; load average before ${before}, after ${load()}`,
      '',
      table(['job', 'off s', 'on s', 'off/on', 'off peak RSS MB', 'on peak RSS MB'], rows),
      '',
    ].join('\n'),
  );
}

if (childIdx >= 0) {
  await child(args[childIdx + 1], args[args.indexOf('--dataset') + 1]);
} else if (flag(args, 'sink-lanes')) {
  await sinkLanes();
} else {
  const dataset = await benchDataset(symbols, bars);
  const total = symbols * bars;
  const duck = runChild('duckdb', dataset);
  const scan = runChild('scan', dataset);
  const bt = runChild('backtest', dataset);
  const rate = (s: number) => `${(total / s / 1e6).toFixed(1)} M`;
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  // The time targets are set for 10,000 x 5,000 bars; other sizes are reported, not judged.
  const judged = total === 50_000_000;
  const timeMark = (s: number, limit: number) => (judged ? `< ${limit} s ${mark(s < limit)}` : `(time target at 50M bars)`);
  process.stdout.write(
    [
      `scan and backtest: ${total.toLocaleString('en-US')} bars (${symbols} symbols x ${bars}), ${threads} threads` +
        (memoryLimit ? `, memory limit ${memoryLimit}` : ''),
      `machine: ${machine()}`,
      '',
      table(
        ['job', 'seconds', 'bars/s', 'peak RSS MB', 'vs DuckDB latest-close', 'target'],
        [
          ['DuckDB: latest close per symbol (read floor)', Number(duck.seconds.toFixed(2)), rate(duck.seconds), Math.round(duck.peakRssMB), '1.00', ''],
          ['barstream scan (ATC, latest signal)', Number(scan.seconds.toFixed(2)), rate(scan.seconds), Math.round(scan.peakRssMB), (scan.seconds / duck.seconds).toFixed(2),
            `${timeMark(scan.seconds, 10)}, < 1.5 GB ${mark(scan.peakRssMB < 1536)}`],
          ['barstream backtest (per-bar Parquet out)', Number(bt.seconds.toFixed(2)), rate(bt.seconds), Math.round(bt.peakRssMB), (bt.seconds / duck.seconds).toFixed(2),
            `${timeMark(bt.seconds, 30)}, < 1.5 GB ${mark(bt.peakRssMB < 1536)}`],
        ],
      ),
      '',
    ].join('\n'),
  );
  if (flag(args, 'json')) {
    process.stdout.write(
      `${JSON.stringify({ bars: total, scanSeconds: scan.seconds, backtestSeconds: bt.seconds, scanPeakRssMB: Math.round(scan.peakRssMB), backtestPeakRssMB: Math.round(bt.peakRssMB) })}\n`,
    );
  }
}
