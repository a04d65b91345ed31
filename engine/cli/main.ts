#!/usr/bin/env node
/** The `barstream` command line. One command per file in this folder. */
import { Command } from 'commander';
import { version } from '../index.js';
import { demoCommand } from './demo.js';
import { generateCommand } from './generate.js';
import { ingestCommand } from './ingest.js';
import { queryCommand } from './query.js';
import { readCommand } from './read.js';
import { scanCommand } from './scan.js';
import { backtestCommand } from './backtest.js';
import { trendCommand } from './trend.js';
import { screenCommand } from './screen.js';
import { mergeCommand } from './merge.js';
import { reportCommand } from './report.js';
import { updateCommand } from './update.js';
import { describeRanges } from './common.js';
import { isCleanExit, reportFailure } from './failure.js';

// Output piped into `head` and the like: a closed pipe ends the command quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  reportFailure(e);
  process.exit(1);
});
// Nothing escapes as a stack trace: whatever was not handled is one line and exit 1.
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (e: unknown) => {
    reportFailure(e);
    process.exit(1);
  });
}

const v = version();
const program = new Command('barstream')
  .description('columnar out-of-core engine for historical OHLCV bars')
  .version(`barstream ${v.barstream} (DuckDB ${v.duckdb})`)
  .addCommand(demoCommand())
  .addCommand(generateCommand())
  .addCommand(ingestCommand())
  .addCommand(scanCommand())
  .addCommand(screenCommand())
  .addCommand(reportCommand())
  .addCommand(backtestCommand())
  .addCommand(updateCommand())
  .addCommand(mergeCommand())
  .addCommand(trendCommand())
  .addCommand(readCommand())
  .addCommand(queryCommand());

// Argument errors are reported like every other failure (one line, a code, exit 1).
const quiet = (cmd: Command): void => {
  cmd.exitOverride().configureOutput({ outputError: () => {} });
  cmd.commands.forEach(quiet);
};
quiet(program);
describeRanges(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (!isCleanExit(e)) reportFailure(e);
}
