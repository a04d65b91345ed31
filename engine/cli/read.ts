/** `barstream read`: stream a dataset through the Rust read path and summarise each symbol. */
import { Command, Option } from 'commander';
import { Engine } from '../engine.js';
import { action, formatRate, intOption, table } from './common.js';
import { addSourceOptions, dataInputs, SourceFlags } from './strategy.js';
import { sqlOption } from './sqlfile.js';

export function readCommand(): Command {
  return addSourceOptions(new Command('read'), 'SQL over the bars view (default: every bar)')
    .description('stream a dataset through the Rust read path; print per-symbol bar counts and last close')
    .addOption(new Option('--mode <mode>', 'vectors (zero-copy) or arrow (C data interface)').choices(['vectors', 'arrow']).default('vectors'))
    .option('--top <n>', 'symbols to list', intOption('--top'), 10)
    .option('--json', 'print one JSON object', false)
    .action(
      action(async (o: SourceFlags & { mode: 'vectors' | 'arrow'; top: number; json: boolean }) => {
        const engine = await Engine.open({ dataset: dataInputs(o), threads: o.threads, memoryLimit: o.memoryLimit });
        const r = await engine.stream({ sql: await sqlOption(o), mode: o.mode });
        if (o.json) {
          process.stdout.write(`${JSON.stringify(r)}\n`);
          return;
        }
        process.stdout.write(`${printStream(r, o.top)}\n`);
      }),
    );
}

export function printStream(r: Awaited<ReturnType<Engine['stream']>>, top: number): string {
  const rows = r.symbols
    .slice(0, top)
    .map((s) => [s.symbol, s.rows, s.firstTs.toISOString().slice(0, 10), s.lastTs.toISOString().slice(0, 10), Number(s.lastClose.toFixed(2))]);
  return [
    `${r.symbols.length} symbols, ${r.rows.toLocaleString('en-US')} bars in ${r.batches} batches, ` +
      `${(r.elapsedMs / 1000).toFixed(2)} s (${formatRate(r.rows, r.elapsedMs)})${r.sorted ? ', sorted by DuckDB' : ''}`,
    '',
    table(['symbol', 'bars', 'first', 'last', 'last close'], rows),
    r.symbols.length > top ? `... and ${r.symbols.length - top} more` : '',
    ...r.failed.map((f) => `  failed ${f.symbol} (${f.stage}): ${f.message}`),
  ].join('\n');
}
