/** `barstream screen`: the symbols (or bars) where a formula's condition is true. */
import { Command } from 'commander';
import { Engine } from '../engine.js';
import { compileFor } from '../formula-use.js';
import type { ScreenMatch, ScreenResult } from '../screen.js';
import { action, durationOption, intOption, table, updateLine } from './common.js';
import { formulaOption, sqlOption } from './sqlfile.js';
import { addShardOption, addSourceOptions, dataInputs, jobControls, SourceFlags } from './strategy.js';
import type { Shard } from '../shard.js';

interface ScreenFlags extends SourceFlags {
  formula?: string;
  formulaFile?: string;
  all: boolean;
  from?: string;
  to?: string;
  rank?: string;
  top?: number;
  out?: string;
  overwrite: boolean;
  update: boolean;
  json: boolean;
  symbolTimeout: number;
  shard?: Shard;
}

/** At most this many matches are printed as a table (`--json` prints them all). */
const SHOWN = 50;

export function screenCommand(): Command {
  return addShardOption(addSourceOptions(new Command('screen')), 'into --out')
    .description('screen every symbol with a formula: the symbols whose condition is true at their last bar, or every bar where it is (--all); see docs/formulas.md')
    .option('--formula <text>', "the formula; its value must be a condition, e.g. 'close > sma(close, 50)'")
    .option('--formula-file <path>', 'read the formula from a file (- for stdin) instead of --formula')
    .option('--all', 'every bar where the condition is true (within --from/--to), not only the last bar', false)
    .option('--from <date>', 'matches from this date (YYYY-MM-DD or YYYY-MM-DDTHH:MM, UTC); the formula still runs from the first bar')
    .option('--to <date>', 'matches up to this date (a day means its end); without --all, the screen as of this date')
    .option('--rank <name>', 'sort the matches by this named value of the formula, largest first')
    .option('--top <n>', 'list at most this many matches', intOption('--top'))
    .option('--out <dir>', 'also write the matches as Parquet: DIR/matches/, DIR/_errors/, DIR/_manifest.json')
    .option('--overwrite', 'replace an existing barstream screen output in --out', false)
    .option('--update', 'continue the finished screen in --out over only the dataset files it did not read; options left out (the formula too) are its own', false)
    .option('--symbol-timeout <duration>', 'time budget of one symbol, e.g. 60s, 500ms, 2m; a symbol over it fails (stage timeout)', durationOption('--symbol-timeout'), 60_000)
    .option('--json', 'print one JSON object on stdout; no progress bar', false)
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        "  barstream screen --data datasets/demo --formula 'close > sma(close, 50) and crosses_above(sma(close, 10), sma(close, 30))'",
        "  barstream screen --data datasets/demo --formula 'r = rsi(close, 14); r < 30' --rank r --top 10",
        "  barstream screen --data datasets/demo --formula-file screens/breakout.txt --all --from 2012-01-01 --out results/breakouts",
      ].join('\n'),
    )
    .action(
      action(async (o: ScreenFlags, cmd: Command) => {
        const formula = await formulaOption(o, !o.update);
        if (formula !== undefined) compileFor(formula, 'screen'); // a formula error is told before the data is opened
        const sql = await sqlOption(o);
        const engine = await Engine.open({ dataset: dataInputs(o), threads: o.threads, memoryLimit: o.memoryLimit });
        const ctl = jobControls(o.json);
        let r: ScreenResult;
        try {
          r = await engine.screen({
            formula: formula!, all: o.update && cmd.getOptionValueSource('all') !== 'cli' ? undefined : o.all, from: o.from, to: o.to, sql, rank: o.rank, top: o.top, out: o.out, overwrite: o.overwrite,
            symbolTimeoutMs: o.symbolTimeout, onProgress: ctl.onProgress, signal: ctl.signal, ...(o.shard ? { shard: o.shard } : {}), ...(o.update ? { update: true } : {}),
          });
        } finally {
          ctl.done();
        }
        if (o.json) {
          const { processed, matched, skipped, failed, warmup, barsRead, update, elapsedMs } = r;
          process.stdout.write(
            `${JSON.stringify({ matches: r.matches.map(jsonMatch), processed, matched, skipped, failed, warmup, barsRead, ...(update ? { update } : {}), elapsedMs: Math.round(elapsedMs) })}\n`,
          );
          return;
        }
        const u = r.update;
        if (u) {
          const n = (x: number) => x.toLocaleString('en-US');
          process.stdout.write(updateLine(String(o.out), u, `${n(u.rowsAdded)} match rows added, ${n(u.matches)} in all`));
        }
        if (r.shard) {
          process.stdout.write(`${printScreen(r)}\nshard ${r.shard.index}/${r.shard.count} (the matches above are this shard's): recorded in ${o.out}/_shards/; run barstream merge ${o.out} once every shard has finished\n`);
          return;
        }
        process.stdout.write(`${printScreen(r, o.out)}\n`);
      }),
    );
}

/** A match as `--json` prints it: `ts` as ISO text, NaN as null. */
export function jsonMatch(m: ScreenMatch): Record<string, unknown> {
  return { symbol: m.symbol, ts: m.ts.toISOString(), open: m.open, high: m.high, low: m.low, close: m.close, volume: m.volume, values: m.values };
}

/** Six significant digits, `-` for NaN. */
function short(x: number): number | string {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : '-';
}

/** The table of matches, then the counts naming skipped and failed symbols. */
export function printScreen(r: ScreenResult, out?: string): string {
  const midnight = r.matches.every((m) => m.ts.getTime() % 86_400_000 === 0);
  const when = (d: Date) => (midnight ? d.toISOString().slice(0, 10) : d.toISOString().replace('T', ' ').replace(/(:00)?\.000Z$/, ''));
  const shown = r.matches.slice(0, SHOWN);
  const rows = shown.map((m) => [m.symbol, when(m.ts), short(m.close), short(m.volume), ...r.names.map((n) => short(m.values[n]))]);
  const total = r.mode === 'all' ? r.matchRows : r.matched;
  const what = r.mode === 'all' ? 'matching bars' : 'matching symbols';
  const lines: string[] = [];
  if (r.matches.length === 0) lines.push(`no ${what}`);
  else {
    const count = shown.length < total ? `${shown.length} of ${total}` : `${total}`;
    lines.push(`${what.toUpperCase()} (${count}${r.matches.length > shown.length ? `; --json or --out for all ${r.matches.length}` : ''})`);
    lines.push(table(['symbol', r.mode === 'all' ? 'bar' : 'as of', 'close', 'volume', ...r.names], rows));
  }
  lines.push(
    '',
    `${r.processed} symbols processed: ${r.matched} matched, ${r.processed - r.matched} did not; ${r.skipped.length} skipped, ${r.failed.length} failed` +
      (r.mode === 'all' ? `; ${r.matchRows.toLocaleString('en-US')} matching bars` : '') +
      ` in ${(r.elapsedMs / 1000).toFixed(2)} s (warm-up ${r.warmup} bars)` +
      (r.sorted ? '; the source was sorted by DuckDB' : ''),
  );
  for (const s of r.skipped.slice(0, 20)) lines.push(`  skipped ${s.symbol}: ${s.reason}`);
  if (r.skipped.length > 20) lines.push(`  ... and ${r.skipped.length - 20} more skipped`);
  for (const f of r.failed) lines.push(`  failed ${f.symbol} (${f.stage}): ${f.message}`);
  if (out !== undefined) lines.push(`results: ${out} (matches/, _errors/, _manifest.json); query them with barstream query --results ${out}`);
  return lines.join('\n');
}
