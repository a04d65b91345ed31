/** `barstream backtest`: the ATC backtest, Parquet in and Parquet out. */
import { Command } from 'commander';
import { Engine } from '../engine.js';
import { BarstreamError } from '../errors.js';
import { action, formatRate, numberOption } from './common.js';
import { sqlOption } from './sqlfile.js';
import { addStrategyOptions, dataInputs, jobControls, StrategyFlags, strategyParams } from './strategy.js';
import { backtestSummary } from './summary.js';

interface BacktestFlags extends StrategyFlags {
  out: string;
  feeBps: number;
  longOnly: boolean;
  resume: boolean;
  overwrite: boolean;
}

export function backtestCommand(): Command {
  return addStrategyOptions(new Command('backtest').description('ATC backtest: per-bar signals, positions and equity, per-symbol summary, as Parquet'))
    .requiredOption('--out <dir>', 'output folder')
    .option('--fee-bps <x>', 'cost per unit of position change, basis points', numberOption('--fee-bps'), 0)
    .option('--long-only', 'short events go flat instead of short', false)
    .option('--resume', 'finish only the buckets a previous run left undone', false)
    .option('--overwrite', 'replace an existing barstream output', false)
    .action(
      action(async (o: BacktestFlags) => {
        const engine = await Engine.open({ dataset: dataInputs(o), threads: o.threads, memoryLimit: o.memoryLimit });
        const ctl = jobControls(o.json);
        try {
          const r = await engine.backtest({
            out: o.out, sql: await sqlOption(o), strategy: strategyParams(o), feeBps: o.feeBps, longOnly: o.longOnly,
            resume: o.resume, overwrite: o.overwrite, onProgress: ctl.onProgress, signal: ctl.signal,
          });
          const c = r.manifest.counts;
          if (o.json) {
            process.stdout.write(`${JSON.stringify({ out: r.out, ...c, bucketsRun: r.bucketsRun, elapsedMs: Math.round(r.elapsedMs) })}\n`);
            return;
          }
          process.stdout.write(
            `${c.symbols} symbols (${c.processed} processed, ${c.skipped} skipped, ${c.failed} failed), ` +
              `${c.bars.toLocaleString('en-US')} bars -> ${c.signalRows.toLocaleString('en-US')} signal rows in ${c.buckets} buckets ` +
              `(${r.bucketsRun} run now) in ${(r.elapsedMs / 1000).toFixed(2)} s (${formatRate(c.bars, r.elapsedMs)})\n` +
              `results: ${r.out} (signals/, summary/, _errors/, _manifest.json)\n\n`,
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
