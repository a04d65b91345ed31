/**
 * `barstream demo` (what `npm start` runs): generates `datasets/demo` (500 symbols x
 * 2,500 daily bars) when it is missing, then runs the ATC scan over it.
 */
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from '../../datasets/generate.js';
import { Engine } from '../engine.js';
import { packageRoot } from '../native.js';
import { action, intOption } from './common.js';
import { printScan } from './scan.js';
import { jobControls } from './strategy.js';

export const DEMO = { symbols: 500, bars: 2500, seed: 42 };

export function demoCommand(): Command {
  return new Command('demo')
    .description('run the ATC scan on datasets/demo (generated on first use)')
    .option('--data <dir>', 'dataset folder', join(packageRoot(), 'datasets', 'demo'))
    .option('--top <n>', 'symbols to list', intOption('--top'), 10)
    .action(
      action(async (o: { data: string; top: number }) => {
        if (!existsSync(join(o.data, 'metadata.json'))) {
          process.stderr.write(`generating ${o.data} (${DEMO.symbols} symbols x ${DEMO.bars} daily bars, seed ${DEMO.seed})...\n`);
          await generate({ out: o.data, ...DEMO, overwrite: true });
        }
        const engine = await Engine.open({ dataset: o.data });
        const ctl = jobControls(false);
        const r = await engine.scan({ top: o.top, onProgress: ctl.onProgress, signal: ctl.signal }).finally(ctl.done);
        process.stdout.write(`ATC scan of ${o.data} (defaults: length 28, robustness Medium, |signal| >= 0.1)\n\n${printScan(r)}\n`);
      }),
    );
}
