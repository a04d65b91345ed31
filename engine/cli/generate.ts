/** `barstream generate`: write a synthetic OHLCV dataset. */
import { Command } from 'commander';
import { generate } from '../../datasets/generate.js';
import { action, intOption } from './common.js';
import { progressBar } from './progress.js';

export function generateCommand(): Command {
  return new Command('generate')
    .description('write a deterministic synthetic OHLCV dataset in the canonical layout')
    .requiredOption('--out <dir>', 'dataset folder to create')
    .requiredOption('--symbols <n>', 'number of symbols', intOption('--symbols'))
    .requiredOption('--bars <m>', 'bars per symbol', intOption('--bars'))
    .option('--seed <s>', 'random seed', intOption('--seed'), 1)
    .option('--start <date>', 'first bar, YYYY-MM-DD', '2005-01-03')
    .option('--freq <f>', '1d (weekdays), or a fixed step: 1h, 15m, 30s', '1d')
    .option('--buckets <b>', 'number of buckets (default: sized to the memory budget)', intOption('--buckets'))
    .option('--overwrite', 'replace a non-empty output folder', false)
    .action(
      action(async (o: { out: string; symbols: number; bars: number; seed: number; start: string; freq: string; buckets?: number; overwrite: boolean }) => {
        const t0 = performance.now();
        const bar = progressBar('buckets');
        const meta = await generate({
          ...o,
          onProgress: (p) => bar.update(p.bucketsDone, p.buckets, `${p.rows.toLocaleString('en-US')} bars`),
        }).finally(() => bar.stop());
        const s = ((performance.now() - t0) / 1000).toFixed(1);
        process.stdout.write(
          `wrote ${meta.rows.toLocaleString('en-US')} bars of ${meta.symbols} symbols in ${meta.buckets} bucket(s) to ${o.out} (${s} s)\n`,
        );
      }),
    );
}
