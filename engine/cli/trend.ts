/** `barstream trend`: a moving average and the trend state against it, for every symbol. */
import { Command, Option } from 'commander';
import { Engine } from '../engine.js';
import type { MaName, TrendEntry } from '../trend.js';
import { action, formatRate, intOption, table } from './common.js';
import { addSourceOptions, dataInputs, jobControls, SourceFlags } from './strategy.js';
import { sqlOption } from './sqlfile.js';

interface TrendFlags extends SourceFlags {
  ma: MaName;
  length: number;
  top: number;
  json: boolean;
}

const away = (e: TrendEntry) => e.close / e.ma - 1;

export function trendCommand(): Command {
  return addSourceOptions(new Command('trend'))
    .description('trend scan: a moving average of every symbol and the crossover state of the close against it')
    .addOption(new Option('--ma <name>', 'moving average').choices(['SMA', 'EMA', 'RMA', 'WMA', 'DEMA', 'HMA', 'LSMA', 'KAMA']).default('SMA'))
    .option('--length <n>', 'its length', intOption('--length'), 28)
    .option('--top <n>', 'symbols to list per side, furthest from the line first', intOption('--top'), 10)
    .option('--json', 'print one JSON object on stdout; no progress bar', false)
    .action(
      action(async (o: TrendFlags) => {
        const engine = await Engine.open({ dataset: dataInputs(o), threads: o.threads, memoryLimit: o.memoryLimit });
        const ctl = jobControls(o.json);
        const r = await engine.trendScan({ sql: await sqlOption(o), ma: o.ma, length: o.length, onProgress: ctl.onProgress, signal: ctl.signal }).finally(ctl.done);
        if (o.json) {
          process.stdout.write(`${JSON.stringify({ ...r, symbols: r.symbols.map((s) => ({ ...s, ts: s.ts.toISOString() })), elapsedMs: Math.round(r.elapsedMs) })}\n`);
          return;
        }
        const up = r.symbols.filter((s) => s.state > 0).sort((a, b) => away(b) - away(a));
        const down = r.symbols.filter((s) => s.state < 0).sort((a, b) => away(a) - away(b));
        const rows = (xs: TrendEntry[]) =>
          xs.slice(0, o.top).map((s) => [s.symbol, Number(s.close.toFixed(2)), Number(s.ma.toFixed(2)), `${(away(s) * 100).toFixed(1)}%`, `${((s.longBars / s.bars) * 100).toFixed(0)}%`]);
        const head = ['symbol', 'close', o.ma, 'vs line', 'bars up'];
        const bars = r.symbols.reduce((n, s) => n + s.bars, 0);
        process.stdout.write(
          [
            `UP (${up.length})`, table(head, rows(up)), '',
            `DOWN (${down.length})`, table(head, rows(down)), '',
            `${r.processed} symbols: ${up.length} up, ${down.length} down, ${r.processed - up.length - down.length} without a crossing; ` +
              `${r.skipped.length} skipped, ${r.failed.length} failed; ${bars.toLocaleString('en-US')} bars in ${(r.elapsedMs / 1000).toFixed(2)} s (${formatRate(bars, r.elapsedMs)})`,
            ...r.failed.map((f) => `  failed ${f.symbol} (${f.stage}): ${f.message}`),
            '',
          ].join('\n'),
        );
      }),
    );
}
