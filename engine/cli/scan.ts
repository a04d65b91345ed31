/** `barstream scan`: the latest ATC signal of every symbol, strongest first. */
import { Command } from 'commander';
import { Engine } from '../engine.js';
import type { ScanEntry, ScanResult } from '../scan.js';
import { action, formatRate, intOption, numberOption, table, updateLine } from './common.js';
import { sqlOption } from './sqlfile.js';
import { addShardOption, addStrategyOptions, dataInputs, jobControls, StrategyFlags, strategyParams } from './strategy.js';
import type { Shard } from '../shard.js';

interface ScanFlags extends StrategyFlags {
  minSignal: number;
  top?: number;
  out?: string;
  overwrite: boolean;
  update: boolean;
  shard?: Shard;
}

export function scanCommand(): Command {
  return addShardOption(addStrategyOptions(new Command('scan').description('ATC scan: the latest signal of every symbol, long and short lists')), 'into --out DIR/scan-<i>-of-<N>.parquet')
    .option('--min-signal <x>', 'list symbols with |signal| at least this', numberOption('--min-signal'), 0.1)
    .option('--top <n>', 'list at most this many per side (default: all)', intOption('--top'))
    .option('--out <dir>', 'also write every symbol\'s result to DIR/scan.parquet (and DIR/_manifest.json)')
    .option('--overwrite', 'replace an existing barstream scan output in --out', false)
    .option('--update', 'continue the finished scan in --out over only the dataset files it did not read; options left out are its own', false)
    .action(
      action(async (o: ScanFlags, cmd: Command) => {
        const engine = await Engine.open({ dataset: dataInputs(o), threads: o.threads, memoryLimit: o.memoryLimit });
        const ctl = jobControls(o.json);
        let r: ScanResult;
        try {
          // An update takes what is left out from the previous run: only options typed are passed.
          const typed = (k: string) => !o.update || cmd.getOptionValueSource(k) === 'cli';
          const atc = Object.fromEntries(Object.entries(strategyParams(o)).filter(([k]) => typed(k)));
          r = await engine.scan({
            sql: await sqlOption(o), strategy: Object.keys(atc).length > 0 || !o.update ? atc : undefined, minSignal: typed('minSignal') ? o.minSignal : undefined, top: o.top,
            out: o.out, overwrite: o.overwrite, onProgress: ctl.onProgress, signal: ctl.signal, ...(o.shard ? { shard: o.shard } : {}), ...(o.update ? { update: true } : {}),
          });
        } finally {
          ctl.done();
        }
        if (o.json) {
          const entry = (e: ScanEntry) => ({ symbol: e.symbol, signal: e.signal, close: e.close, ts: e.ts.toISOString() });
          const { long, short, processed, skipped, failed, rejectedRows, barsRead, update, elapsedMs } = r;
          process.stdout.write(`${JSON.stringify({ long: long.map(entry), short: short.map(entry), processed, skipped, failed, rejectedRows, barsRead, ...(update ? { update } : {}), elapsedMs: Math.round(elapsedMs) })}\n`);
          return;
        }
        const u = r.update;
        if (u) {
          const n = (x: number) => x.toLocaleString('en-US');
          process.stdout.write(updateLine(String(o.out), u, `${n(u.matches)} listed`));
        }
        process.stdout.write(`${printScan(r)}\n`);
        if (r.shard) process.stdout.write(`shard ${r.shard.index}/${r.shard.count} (the lists above are this shard's): recorded in ${o.out}/_shards/; run barstream merge ${o.out} once every shard has finished\n`);
      }),
    );
}

function side(title: string, entries: ScanEntry[], total: number): string {
  if (entries.length === 0) return `${title}: none`;
  const rows = entries.map((e) => [e.symbol, Number(e.signal.toFixed(4)), Number(e.close.toFixed(2)), e.ts.toISOString().slice(0, 10)]);
  const count = total > entries.length ? `${entries.length} of ${total}` : `${total}`;
  return `${title} (${count})\n${table(['symbol', 'signal', 'close', 'as of'], rows)}`;
}

export function printScan(r: ScanResult): string {
  const bars = r.symbols.reduce((n, s) => n + s.bars, 0);
  const lines = [
    side('LONG', r.long, r.qualifying.long),
    '',
    side('SHORT', r.short, r.qualifying.short),
    '',
    `${r.processed} symbols processed, ${r.skipped.length} skipped, ${r.failed.length} failed; ` +
      `${bars.toLocaleString('en-US')} bars in ${(r.elapsedMs / 1000).toFixed(2)} s (${formatRate(bars, r.elapsedMs)})` +
      (r.rejectedRows ? `; ${r.rejectedRows} rows were rejected at ingest` : '') +
      (r.sorted ? '; the source was sorted by DuckDB' : ''),
  ];
  for (const s of r.skipped.slice(0, 20)) lines.push(`  skipped ${s.symbol}: ${s.reason}`);
  if (r.skipped.length > 20) lines.push(`  ... and ${r.skipped.length - 20} more skipped`);
  for (const f of r.failed) lines.push(`  failed ${f.symbol} (${f.stage}): ${f.message}`);
  return lines.join('\n');
}
