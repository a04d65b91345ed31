/** `barstream update`: the daily routine, append the new files then update every results folder. */
import { Command } from 'commander';
import { update, DailyResult, FolderUpdate } from '../daily.js';
import { action, table } from './common.js';
import { addReadOptions, ReadFlags, readOptions, STRICT_EXIT_CODE } from './ingest.js';

interface UpdateFlags extends ReadFlags {
  data: string;
  in: string[];
  results: string[];
  memoryLimit?: string;
  json: boolean;
}

const n = (x: number | undefined) => (x ?? 0).toLocaleString('en-US');

/** What changed in one folder, as a table row. */
function folderRow(f: FolderUpdate): (string | number)[] {
  const u = f.update;
  if (!u) return [f.folder, f.kind ?? '?', 'FAILED', '', '', '', '', ''];
  const what =
    'tradesAdded' in u ? `${n(u.rowsAdded)} signal rows, ${n(u.tradesAdded)} trades` : f.kind === 'screen' ? `${n(u.rowsAdded)} match rows, ${n(u.matches)} listed` : `${n(u.matches)} listed`;
  return [f.folder, f.kind!, u.newFiles.length === 0 ? 'unchanged' : `generation ${u.generation}`, u.barsRead, u.symbolsUpdated, u.symbolsAdded, what, `${(f.elapsedMs / 1000).toFixed(1)} s`];
}

/** The run as printed: the append, one row per results folder, then each failure on its own line. */
export function formatUpdate(r: DailyResult): string {
  const a = r.ingest;
  const lines = [
    `appended ${n(a.written)} bars (${n(a.symbolsAdded)} new symbol(s)) from ${a.files.length} file(s) to ${r.data} as generation ${a.generation}; ` +
      `read ${n(a.read)}, rejected ${n(a.rejected)}${a.superseded > 0 ? `, superseded ${n(a.superseded)}` : ''}${a.rejectedPath && a.rejected > 0 ? ` (quarantined to ${a.rejectedPath})` : ''}`,
    '',
    table(['results', 'kind', 'state', 'bars read', 'symbols updated', 'symbols added', 'new', 'time'], r.results.map(folderRow)),
  ];
  for (const f of r.results) if (f.error) lines.push(`${f.folder}: update failed: ${f.error.message} (${f.error.code})`);
  lines.push('', `${r.results.length - r.failed} of ${r.results.length} results folder(s) updated (${(r.elapsedMs / 1000).toFixed(1)} s)`);
  return lines.join('\n');
}

export function updateCommand(out: { write(s: string): unknown } = process.stdout): Command {
  return addReadOptions(
    new Command('update')
      .description('the daily routine: append new files to a dataset (ingest --append), then update each results folder from its saved state')
      .requiredOption('--data <dir>', 'the dataset to append to (the one the results were computed on)')
      .requiredOption('--in <paths...>', 'the new files: paths, globs or folders')
      .requiredOption('--results <dirs...>', 'results folders to update: outputs of backtest --out, scan --out, screen --out'),
  )
    .option('--memory-limit <size>', "DuckDB memory limit, e.g. 4GB (default: DuckDB's)")
    .option('--json', 'print one JSON object: the append counts and, per results folder, its update or its error', false)
    .addHelpText(
      'after',
      ['', 'Example:', '  barstream update --data datasets/eod --in inbox/*.csv --symbol-from-filename --results results/bt results/breakouts'].join('\n'),
    )
    .action(
      action(async (o: UpdateFlags) => {
        const r = await update({ ...readOptions(o), memoryLimit: o.memoryLimit, data: o.data, in: o.in, results: o.results });
        out.write(o.json ? `${JSON.stringify(r)}\n` : `${formatUpdate(r)}\n`);
        if (r.failed > 0) {
          const names = r.results.filter((f) => f.error).map((f) => f.folder);
          process.stderr.write(`barstream: ${r.failed} results folder(s) not updated: ${names.join(', ')}\n`);
          process.exitCode = 1;
        } else if (o.strict && r.ingest.rejected > 0) {
          process.stderr.write(`barstream: --strict: ${r.ingest.rejected} row(s) rejected (BARSTREAM_BAD_INPUT)\n`);
          process.exitCode = STRICT_EXIT_CODE;
        }
      }),
    );
}
