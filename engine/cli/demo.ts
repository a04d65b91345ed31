/**
 * `barstream demo` (what `npm start` runs): generates `datasets/demo` (500 symbols x
 * 2,500 daily bars) when it is missing, then runs the ATC scan over it and a formula
 * screen ({@link DEMO_FORMULA}), printing the matches of both, and ends with an ATC backtest
 * into `datasets/demo-results` (replaced each run, a few seconds) and its HTML report.
 */
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from '../../datasets/generate.js';
import { Engine } from '../engine.js';
import { packageRoot } from '../native.js';
import { report } from '../report/index.js';
import { action, intOption } from './common.js';
import { printScan } from './scan.js';
import { printScreen } from './screen.js';
import { jobControls } from './strategy.js';

export const DEMO = { symbols: 500, bars: 2500, seed: 42 };

/** The demo's screen: an uptrend (close above its 50-bar SMA, the 10-bar SMA above the 30-bar) not yet overbought, ranked by RSI. */
export const DEMO_FORMULA = ['fast = sma(close, 10)', 'slow = sma(close, 30)', 'rsi14 = rsi(close, 14)', 'close > sma(close, 50) and fast > slow and rsi14 < 70'].join('\n');

export function demoCommand(): Command {
  return new Command('demo')
    .description('run the ATC scan and a formula screen on datasets/demo (generated on first use)')
    .option('--data <dir>', 'dataset folder', join(packageRoot(), 'datasets', 'demo'))
    .option('--top <n>', 'symbols to list', intOption('--top'), 10)
    .option('--results <dir>', 'backtest output folder, replaced each run', join(packageRoot(), 'datasets', 'demo-results'))
    .action(
      action(async (o: { data: string; top: number; results: string }) => {
        if (!existsSync(join(o.data, 'metadata.json'))) {
          process.stderr.write(`generating ${o.data} (${DEMO.symbols} symbols x ${DEMO.bars} daily bars, seed ${DEMO.seed})...\n`);
          await generate({ out: o.data, ...DEMO, overwrite: true });
        }
        const engine = await Engine.open({ dataset: o.data });
        const ctl = jobControls(false);
        const r = await engine.scan({ top: o.top, onProgress: ctl.onProgress, signal: ctl.signal }).finally(ctl.done);
        process.stdout.write(`ATC scan of ${o.data} (defaults: length 28, robustness Medium, |signal| >= 0.1)\n\n${printScan(r)}\n`);
        const ctl2 = jobControls(false);
        const s = await engine.screen({ formula: DEMO_FORMULA, rank: 'rsi14', top: o.top, onProgress: ctl2.onProgress, signal: ctl2.signal }).finally(ctl2.done);
        const shown = DEMO_FORMULA.split('\n').map((l) => `  ${l}`).join('\n');
        process.stdout.write(
          `\nFormula screen of ${o.data}, ranked by rsi14 (barstream screen --formula-file F --rank rsi14 --top ${o.top}; see docs/formulas.md):\n${shown}\n\n${printScreen(s)}\n`,
        );
        const ctl3 = jobControls(false);
        await engine.backtest({ out: o.results, overwrite: true, onProgress: ctl3.onProgress, signal: ctl3.signal }).finally(ctl3.done);
        const rep = await report(o.results);
        process.stdout.write(`\nATC backtest of ${o.data} in ${o.results}; its report (open it in a browser; barstream report --results ${o.results}):\n${rep.html}\n`);
      }),
    );
}
