/** `barstream merge OUT`: checks the shards of a sharded job and writes its manifest. */
import { Command } from 'commander';
import { merge } from '../merge.js';
import { action } from './common.js';

export function mergeCommand(): Command {
  return new Command('merge')
    .description('check the shards of a sharded backtest, scan or screen (--shard i/N) and write OUT/_manifest.json: all N shard records, the same parameters and inputs, disjoint buckets covering the input, every file with its sha256')
    .argument('<out>', 'the output folder the shards wrote')
    .option('--json', 'print one JSON object on stdout', false)
    .action(
      action(async (out: string, o: { json: boolean }) => {
        const r = await merge(out);
        const counts = r.manifest.counts as Record<string, number>;
        if (o.json) {
          process.stdout.write(`${JSON.stringify({ out: r.out, kind: r.kind, shards: r.shards, files: r.files, counts, elapsedMs: Math.round(r.elapsedMs) })}\n`);
          return;
        }
        const shown = Object.entries(counts).map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ');
        process.stdout.write(`merged ${r.shards} shards of a ${r.kind} in ${r.out}: ${r.files} files checked (sha256), ${shown}; wrote _manifest.json in ${(r.elapsedMs / 1000).toFixed(2)} s\n`);
      }),
    );
}
