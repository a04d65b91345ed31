/**
 * barstream's Parquet writer, before and after, end to end: the same backtest over the same
 * generated dataset run by two builds of barstream, this one and `--baseline DIR` (a built
 * checkout of another commit, e.g. the one before the writer changed:
 * `git worktree add /tmp/bs-base <rev> && ln -s "$PWD/node_modules" /tmp/bs-base/ &&
 * (cd /tmp/bs-base && npm run build)`). Each build runs `--runs` times, taking turns, in its
 * own process; the best wall time of each is kept, and the best CPU time (user + system,
 * from /usr/bin/time where there is one: steadier than wall time on a shared machine).
 * Also reported: the bytes each writes
 * (from its manifest), a check that both wrote the same signal rows, and for scale the size
 * DuckDB gives the same signal rows (COPY with snappy, then zstd).
 *
 *   npm run bench:writer -- --baseline DIR [--symbols 500] [--bars 5000] [--threads 2] [--runs 3] [--json]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { table } from '../engine/cli/common.js';
import { packageRoot } from '../engine/native.js';
import { benchDataset, flag, machine, numberArg } from './util.js';

const args = process.argv.slice(2);
const symbols = numberArg(args, 'symbols', 500);
const bars = numberArg(args, 'bars', 5000);
const threads = numberArg(args, 'threads', 2);
const runs = numberArg(args, 'runs', 3);
const baseIdx = args.indexOf('--baseline');
if (baseIdx < 0 || !args[baseIdx + 1]) {
  process.stderr.write('bench:writer needs --baseline DIR: a built barstream checkout to compare with (see the header of bench/parquet-writer.ts)\n');
  process.exit(2);
}
const baseline = resolve(args[baseIdx + 1]);

interface Build {
  name: string;
  cli: string;
  out: string;
  seconds: number[];
  cpu: number[];
}

interface Manifest {
  files: { path: string; bytes: number }[];
}

const root = packageRoot();
const builds: Build[] = [
  { name: `baseline (${baseline})`, cli: join(baseline, 'dist', 'engine', 'cli', 'main.js'), out: '', seconds: [], cpu: [] },
  { name: 'this build', cli: join(root, 'dist', 'engine', 'cli', 'main.js'), out: '', seconds: [], cpu: [] },
];
for (const [i, b] of builds.entries()) {
  if (!existsSync(b.cli)) throw new Error(`${b.cli} is missing: build that checkout first (npm run build)`);
  b.out = join(root, 'bench', 'data', `writer-out-${i}`);
}

/** `/usr/bin/time`, where there is one: it also gives the CPU seconds a run used. */
const timeTool = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** One backtest by `b`: wall seconds from outside (process start to exit), and CPU seconds. */
function backtest(b: Build, dataset: string): { wall: number; cpu: number } {
  const cmd = [b.cli, 'backtest', '--data', dataset, '--out', b.out, '--overwrite', '--threads', String(threads), '--json'];
  const t0 = performance.now();
  const r = timeTool
    ? spawnSync(timeTool, ['-f', 'cpu %U %S', process.execPath, ...cmd], { encoding: 'utf8', maxBuffer: 1 << 26 })
    : spawnSync(process.execPath, cmd, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${b.name}: backtest failed (${r.status}): ${r.stderr}`);
  const m = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  return { wall, cpu: m ? Number(m[1]) + Number(m[2]) : NaN };
}

function bytesOf(b: Build, prefix: string): number {
  const m = JSON.parse(readFileSync(join(b.out, '_manifest.json'), 'utf8')) as Manifest;
  return m.files.filter((f) => f.path.startsWith(prefix)).reduce((n, f) => n + f.bytes, 0);
}

const dataset = await benchDataset(symbols, bars);
for (let i = 0; i < runs; i++) {
  // Take turns, and swap who goes first each round, so drift in the machine's load is shared.
  const order = i % 2 === 0 ? builds : [...builds].reverse();
  for (const b of order) {
    const t = backtest(b, dataset);
    b.seconds.push(t.wall);
    b.cpu.push(t.cpu);
    process.stderr.write(`${b.name}: run ${i + 1}: ${t.wall.toFixed(2)} s, ${t.cpu.toFixed(2)} CPU s\n`);
  }
}

const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const conn = await instance.connect();
const one = async (sql: string) => (await conn.runAndReadAll(sql)).getRowObjects()[0];
const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;
const signals = (b: Build) => `read_parquet(${lit(join(b.out, 'signals', '*', '*.parquet'))}, hive_partitioning = false)`;
// The same rows, whatever their order in the files: a count and an order-free hash of every row.
const digest = async (b: Build) => {
  const r = await one(`SELECT count(*)::BIGINT AS n, bit_xor(hash(t))::VARCHAR AS h FROM ${signals(b)} t`);
  return `${r.n}/${r.h}`;
};
const [d0, d1] = [await digest(builds[0]), await digest(builds[1])];
const duckBytes: Record<string, number> = {};
for (const codec of ['snappy', 'zstd']) {
  const file = join(root, 'bench', 'data', `writer-duckdb-${codec}.parquet`);
  await conn.run(`COPY (SELECT * FROM ${signals(builds[1])}) TO ${lit(file)} (FORMAT parquet, COMPRESSION ${codec})`);
  duckBytes[codec] = statSync(file).size;
  rmSync(file, { force: true });
}
conn.closeSync();

const best = (b: Build) => Math.min(...b.seconds);
const bestCpu = (b: Build) => Math.min(...b.cpu);
const total = (b: Build) => bytesOf(b, '');
const mb = (n: number) => Number((n / 1e6).toFixed(1));
const rows = builds.map((b) => [
  b.name,
  Number(best(b).toFixed(2)),
  b.seconds.map((s) => s.toFixed(2)).join(' '),
  Number(bestCpu(b).toFixed(2)),
  mb(bytesOf(b, 'signals/')),
  mb(bytesOf(b, 'summary/') + bytesOf(b, '_errors/')),
  mb(total(b)),
  (total(b) / total(builds[0])).toFixed(3),
]);
rows.push(['DuckDB COPY of the same signal rows, snappy', '', '', '', mb(duckBytes.snappy), '', '', '']);
rows.push(['DuckDB COPY of the same signal rows, zstd', '', '', '', mb(duckBytes.zstd), '', '', '']);
process.stdout.write(
  [
    `backtest, Parquet writer before and after: ${(symbols * bars).toLocaleString('en-US')} bars (${symbols} symbols x ${bars}), ${threads} threads, best of ${runs}`,
    `machine: ${machine()}`,
    '',
    table(['build', 'best s', 'runs s', 'best CPU s', 'signals MB', 'summary+errors MB', 'total MB', 'bytes vs baseline'], rows),
    '',
    `same signal rows in both: ${d0 === d1 ? 'yes' : `NO (${d0} vs ${d1})`}`,
    '',
  ].join('\n'),
);
if (flag(args, 'json')) {
  process.stdout.write(
    `${JSON.stringify({
      bars: symbols * bars,
      baselineSeconds: best(builds[0]),
      seconds: best(builds[1]),
      baselineCpuSeconds: bestCpu(builds[0]),
      cpuSeconds: bestCpu(builds[1]),
      baselineBytes: total(builds[0]),
      bytes: total(builds[1]),
      duckdbSignalBytes: duckBytes,
      sameRows: d0 === d1,
    })}\n`,
  );
}
for (const b of builds) rmSync(b.out, { recursive: true, force: true });
