/** `barstream backtest`: the ATC or a strategy formula, Parquet in and Parquet out. */
import { Command } from 'commander';
import { compileFor } from '../formula-use.js';
import { Engine } from '../engine.js';
import { BarstreamError, invalidParam } from '../errors.js';
import { action, durationOption, formatRate, numberOption, updateLine } from './common.js';
import { formulaOption, sqlOption } from './sqlfile.js';
import { addShardOption, addStrategyOptions, dataInputs, jobControls, StrategyFlags, strategyParams } from './strategy.js';
import type { Shard } from '../shard.js';
import { backtestSummary } from './summary.js';

interface BacktestFlags extends StrategyFlags {
  out: string;
  feeBps: number;
  longOnly: boolean;
  resume: boolean;
  overwrite: boolean;
  update: boolean;
  formula?: string;
  formulaFile?: string;
  symbolTimeout: number;
  shard?: Shard;
}

/** The ATC's own options: refused together with --formula when given on the command line. */
const ATC_OPTIONS = ['length', 'robustness', 'lambda', 'decay', 'cutout', 'hma'];

export function backtestCommand(): Command {
  return addShardOption(addStrategyOptions(
    new Command('backtest').description('backtest of the ATC (default) or a strategy formula (--formula): per-bar signals, positions and equity, per-symbol summary and trades, as Parquet'),
  ), 'into --out')
    .option('--formula <text>', "a strategy formula instead of the ATC: entry = ..., and optionally exit, short_entry, short_exit (docs/formulas.md)")
    .option('--formula-file <path>', 'read the strategy formula from a file (- for stdin)')
    .option('--symbol-timeout <duration>', 'time budget of one symbol, e.g. 60s, 500ms, 2m; a symbol over it fails (stage timeout)', durationOption('--symbol-timeout'), 60_000)
    .requiredOption('--out <dir>', 'output folder')
    .option('--fee-bps <x>', 'cost per unit of position change, basis points', numberOption('--fee-bps'), 0)
    .option('--long-only', 'short events go flat instead of short', false)
    .option('--resume', 'finish only the buckets a previous run left undone', false)
    .option('--overwrite', 'replace an existing barstream output', false)
    .option('--update', 'continue the finished backtest in --out over only the dataset files it did not read; options left out are its own', false)
    .action(
      action(async (o: BacktestFlags, cmd: Command) => {
        const formula = await formulaOption(o, false);
        if (formula !== undefined) {
          const given = ATC_OPTIONS.filter((k) => cmd.getOptionValueSource(k) === 'cli');
          if (given.length > 0) throw invalidParam(`--formula replaces the ATC: ${given.map((k) => `--${k}`).join(', ')} cannot be given with it`);
          compileFor(formula, 'backtest'); // a formula error is told before the data is opened
        }
        const engine = await Engine.open({ dataset: dataInputs(o), threads: o.threads, memoryLimit: o.memoryLimit });
        const ctl = jobControls(o.json);
        // An update takes what is left out from the previous run: only options typed are passed.
        const typed = (k: string) => !o.update || cmd.getOptionValueSource(k) === 'cli';
        const atc = Object.fromEntries(Object.entries(strategyParams(o)).filter(([k]) => typed(k)));
        try {
          const r = await engine.backtest({
            out: o.out, sql: await sqlOption(o), strategy: formula !== undefined ? { formula } : Object.keys(atc).length > 0 ? atc : undefined,
            feeBps: typed('feeBps') ? o.feeBps : undefined, longOnly: typed('longOnly') ? o.longOnly : undefined,
            symbolTimeoutMs: o.symbolTimeout,
            resume: o.resume, overwrite: o.overwrite, onProgress: ctl.onProgress, signal: ctl.signal, ...(o.shard ? { shard: o.shard } : {}), ...(o.update ? { update: true } : {}),
          });
          const u = r.update;
          if (u) {
            const c = r.manifest.counts;
            const n = (x: number) => x.toLocaleString('en-US');
            process.stdout.write(
              o.json
                ? `${JSON.stringify({ out: r.out, ...c, barsRead: r.barsRead, update: u, elapsedMs: Math.round(r.elapsedMs) })}\n`
                : updateLine(r.out, u, `${n(u.rowsAdded)} signal rows and ${n(u.tradesAdded)} trades added in ${(r.elapsedMs / 1000).toFixed(2)} s`),
            );
            return;
          }
          const c = r.manifest.counts;
          if (r.shard) {
            const s = r.shard;
            const line = { out: r.out, shard: s.index, of: s.count, ...c, buckets: s.buckets.length, bucketsRun: r.bucketsRun, elapsedMs: Math.round(r.elapsedMs) };
            process.stdout.write(
              o.json
                ? `${JSON.stringify(line)}\n`
                : `shard ${s.index}/${s.count}: ${s.buckets.length} of ${s.allBuckets.length} buckets (${r.bucketsRun} run now), ${c.symbols} symbols (${c.processed} processed, ${c.skipped} skipped, ${c.failed} failed), ` +
                    `${c.bars.toLocaleString('en-US')} bars in ${(r.elapsedMs / 1000).toFixed(2)} s; recorded in ${r.out}/_shards/shard-${s.index}-of-${s.count}.json; ` +
                    `run barstream merge ${r.out} once every shard has finished\n`,
            );
            return;
          }
          if (o.json) {
            process.stdout.write(`${JSON.stringify({ out: r.out, ...c, barsRead: r.barsRead, bucketsRun: r.bucketsRun, elapsedMs: Math.round(r.elapsedMs) })}\n`);
            return;
          }
          process.stdout.write(
            `${c.symbols} symbols (${c.processed} processed, ${c.skipped} skipped, ${c.failed} failed), ` +
              `${c.bars.toLocaleString('en-US')} bars -> ${c.signalRows.toLocaleString('en-US')} signal rows in ${c.buckets} buckets ` +
              `(${r.bucketsRun} run now) in ${(r.elapsedMs / 1000).toFixed(2)} s (${formatRate(c.bars, r.elapsedMs)})\n` +
              `${c.tradeRows.toLocaleString('en-US')} trades; results: ${r.out} (signals/, summary/, trades/, _errors/, _manifest.json)\n\n`,
          );
          process.stdout.write(`${await backtestSummary(r.out)}\n`);
        } catch (e) {
          if (e instanceof BarstreamError && e.code === 'BARSTREAM_CANCELLED') {
            process.stderr.write(`stopped: finished buckets are complete in ${o.out}; rerun with --resume to finish\n`);
            process.exitCode = 130;
            return;
          }
          throw e;
        } finally {
          ctl.done();
        }
      }),
    );
}
