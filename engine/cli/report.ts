/** `barstream report`: the self-contained HTML report (and PNG charts) of a backtest or screen output. */
import { Command } from 'commander';
import { rangeText } from '../limits.js';
import { report, REPORT_RANGES } from '../report/index.js';
import { action, intOption } from './common.js';

interface ReportFlags {
  results: string;
  html?: string;
  png?: string;
  top?: number;
  symbols?: string;
  json: boolean;
}

export function reportCommand(): Command {
  return new Command('report')
    .description('write a self-contained HTML report of a backtest or screen output (opens from disk, no network); --png also renders its charts to PNG')
    .requiredOption('--results <dir>', 'a barstream backtest or screen output folder')
    .option('--html <file>', 'the HTML file to write (default RESULTS/report.html)')
    .option('--png <dir>', 'also write each chart as DIR/<chart>.png')
    .option('--top <n>', `best and worst symbols whose equity curves are drawn, symbols listed as matching most often (${rangeText(REPORT_RANGES.top)}; default 10)`, intOption('--top'))
    .option('--symbols <list>', 'restrict the report to these symbols, comma-separated (A,B,C)')
    .option('--json', 'print the result as one JSON object', false)
    .action(
      action(async (o: ReportFlags) => {
        const symbols = o.symbols === undefined ? undefined : o.symbols.split(',').map((s) => s.trim()).filter((s) => s !== '');
        const r = await report(o.results, { html: o.html, png: o.png, top: o.top, symbols });
        if (o.json) {
          process.stdout.write(`${JSON.stringify(r)}\n`);
          return;
        }
        const kb = (r.bytes / 1024).toFixed(0);
        process.stdout.write(`${r.kind} report: ${r.html} (${kb} KB, ${r.charts.length} charts)\n`);
        for (const p of r.pngs) process.stdout.write(`  ${p}\n`);
      }),
    );
}
