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

// Output piped into `head` and the like: a closed pipe ends the command quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const v = version();
const program = new Command('barstream')
  .description('columnar out-of-core engine for historical OHLCV bars')
  .version(`barstream ${v.barstream} (DuckDB ${v.duckdb})`)
  .addCommand(demoCommand())
  .addCommand(generateCommand())
  .addCommand(ingestCommand())
  .addCommand(scanCommand())
  .addCommand(backtestCommand())
  .addCommand(trendCommand())
  .addCommand(readCommand())
  .addCommand(queryCommand());

await program.parseAsync(process.argv);
