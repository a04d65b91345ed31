/** `barstream read`: stream a dataset through the Rust read path and summarise each symbol. */
import { Command } from 'commander';
import { Engine } from '../engine.js';
import { action, formatRate, intOption, table } from './common.js';
import { collect, dataInputs } from './strategy.js';

export function readCommand(): Command {
  return new Command('read')
    .description('stream a dataset through the Rust read path; print per-symbol bar counts and last close')
    .option('--data <path>', 'dataset folder, Parquet file or glob; repeat for several inputs', collect, [])
    .option('--sql <sql>', 'SQL over the bars view (default: every bar)')
    .option('--mode <mode>', 'vectors (zero-copy) or arrow (C data interface)', 'vectors')
    .option('--threads <n>', 'DuckDB threads', intOption('--threads'))
    .option('--top <n>', 'symbols to list', intOption('--top'), 10)
    .option('--json', 'print one JSON object', false)
    .action(
      action(async (o: { data: string[]; sql?: string; mode: 'vectors' | 'arrow'; threads?: number; top: number; json: boolean }) => {
        const engine = await Engine.open({ dataset: dataInputs(o), threads: o.threads });
        const r = await engine.stream({ sql: o.sql, mode: o.mode });
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
  ].join('\n');
}
