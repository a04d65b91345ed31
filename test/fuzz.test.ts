/**
 * Seeded fuzz test of the built CLI (issue 8, "Done means"): generated hostile CSV and Parquet
 * inputs and option values go through `ingest`, `scan`, `backtest` (and some `trend`,
 * `generate`, `query`) as real processes, and every run must
 *
 * - end by exit, never by a signal or a time-out, with status 0 or 1 (2: `ingest --strict`);
 * - on a non-zero exit, end stderr with one line `barstream: <what> (BARSTREAM_<CODE>)`;
 *   never print a stack trace, an `...Error:` line, a DuckDB `LINE n:` caret or Rust panic text;
 * - refuse what the issue says must be refused (bad option values, naming the option; an
 *   output that is a file, inside an input or a foreign folder; overlapping inputs; a
 *   truncated Parquet file; a 0-byte CSV; a missing column) and accept what must be accepted
 *   (valid inputs and options; per-symbol data faults fail that symbol only, item 11);
 * - on success, print counts that add up and match the files on disk and the inputs fed, as
 *   recomputed by the test's own DuckDB;
 * - stay under 512 MiB of resident memory (the inputs are tiny: item 8's windows sized to the bars seen);
 * - write nothing outside its output folder (a snapshot of the case folder: path, size, mtime,
 *   content hash), leave no temporary files (TMPDIR points into the case folder) and change
 *   no input.
 *
 * BARSTREAM_FUZZ_SEED (default 20261128) and BARSTREAM_FUZZ_CASES (default two rounds of the
 * schedule: 214 cases, about 245 CLI runs) choose the cases; BARSTREAM_FUZZ_CASE=i runs only
 * case i; BARSTREAM_FUZZ_KEEP=1 keeps the temporary folders (their path is printed).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliBuilt, cliPath, CliRun, ERROR_LINE, forbiddenLines, lastLine, pool, runCli, shellLine } from './util/fuzz-cli.js';
import { checkBacktestOut, checkDataset, checkGenerate, checkIngest, checkScanJson, checkScanOut, checkTrendJson, datasetFiles, SourceFacts, sourceFacts } from './util/fuzz-checks.js';
import { Canonical, cleanCsv, Duck, litList, generateCsv, GeneratedCsv, generateTable, GeneratedTable, mapSpec, resolvable, truncateFile, writeTable } from './util/fuzz-inputs.js';
import { ANY_CODE, ChosenOption, Command, fuzzOptions, namePattern, OPTIONS, optionArgs } from './util/fuzz-options.js';
import { diffSnapshots, snapshot } from './util/fs-snapshot.js';
import { caseSeed, Rng } from './util/rng.js';

const SEED = Number(process.env.BARSTREAM_FUZZ_SEED ?? 20261128);
const CASES = process.env.BARSTREAM_FUZZ_CASES === undefined ? undefined : Number(process.env.BARSTREAM_FUZZ_CASES);
const ONLY = process.env.BARSTREAM_FUZZ_CASE === undefined ? undefined : Number(process.env.BARSTREAM_FUZZ_CASE);
const KEEP = process.env.BARSTREAM_FUZZ_KEEP === '1';
const RUN_TIMEOUT_MS = Number(process.env.BARSTREAM_FUZZ_TIMEOUT_MS ?? 90_000);
/**
 * Peak resident memory allowed to one run: node and DuckDB take 100-160 MiB here and the inputs
 * are a few KB (before item 8's fix, `scan --length 2000000` over 360 bars peaks at 673 MiB).
 */
const MAX_RSS_KB = 512 * 1024;
/** Processes at once: the development machine has 2 cores. */
const WIDTH = 2;
const CODES = ['BARSTREAM_INVALID_PARAM', 'BARSTREAM_DUCKDB', 'BARSTREAM_BAD_INPUT', 'BARSTREAM_IO', 'BARSTREAM_CANCELLED', 'BARSTREAM_INTERNAL'];
const COMMANDS: Command[] = ['ingest', 'scan', 'backtest', 'trend', 'generate', 'query'];

interface Expect {
  /** Why the run must be refused (non-zero exit). */
  mustFail?: string;
  /** Why the run must succeed (exit 0). */
  mustSucceed?: string;
  /** Bad options: a refusal must name one of them with BARSTREAM_INVALID_PARAM. */
  badOptions?: string[];
  /** `ingest --strict`: exit 2 is allowed. */
  strict?: boolean;
}

interface Step {
  command: Command;
  args: string[];
  /** Folder (relative to the case folder) where the run may create files. */
  out?: string;
  /** `out` holds a barstream output the run may replace. */
  replace?: boolean;
  expect: Expect;
  /** Checks of a successful run (status 0, or 2 with --strict), given its JSON when --json. */
  check?: (json: Record<string, unknown> | undefined, run: CliRun) => Promise<string[]>;
}

interface Failure {
  command: Command;
  index: number;
  scenario: string;
  rule: string;
  detail: string;
  line: string;
  flavour: string;
  stderr: string;
}

interface Stats {
  runs: number;
  exit0: number;
  exit1: number;
  exit2: number;
  other: number;
  failing: number;
  maxRssKb: number;
}

const failures: Failure[] = [];
const stats = new Map<Command, Stats>(COMMANDS.map((c) => [c, { runs: 0, exit0: 0, exit1: 0, exit2: 0, other: 0, failing: 0, maxRssKb: 0 }]));
let duck: Duck;
let root: string;
let started = 0;

/** One generated case: its own folder (`in/` inputs, `tmp/` as TMPDIR), random draws and CLI steps. */
class Case {
  readonly flavour: string[] = [];

  constructor(
    readonly index: number,
    readonly scenario: string,
    /** How many cases of this scenario come before this one in the schedule. */
    readonly occurrence: number,
    readonly dir: string,
    readonly rng: Rng,
  ) {}

  /** One of `kinds`, in turn: every kind comes up once in `kinds.length` cases of a scenario. */
  kind<T>(kinds: readonly T[]): T {
    return kinds[(this.occurrence + SEED) % kinds.length];
  }

  path(rel: string): string {
    return join(this.dir, rel);
  }

  async write(rel: string, bytes: Buffer | string): Promise<void> {
    await mkdir(join(this.path(rel), '..'), { recursive: true });
    await writeFile(this.path(rel), bytes);
  }

  /** Runs one CLI step, checks every rule, records failures; returns the run and its JSON. */
  async step(s: Step): Promise<{ run: CliRun; json?: Record<string, unknown>; ok: boolean }> {
    const before = await snapshot(this.dir);
    const run = await runCli(s.args, { cwd: this.dir, env: { TMPDIR: this.path('tmp') }, timeoutMs: RUN_TIMEOUT_MS });
    const after = await snapshot(this.dir);
    const problems: [string, string][] = [];

    for (const d of diffSnapshots(before, after, { allowNew: s.out ? [s.out] : [], allowChange: s.replace && s.out ? [s.out] : [], protect: ['in'] })) {
      problems.push([/^created tmp\//.test(d) ? 'temp-left-behind' : /^created /.test(d) ? 'written-outside-out' : 'changed-outside-out', d]);
    }
    if (run.timedOut) problems.push(['timeout', `killed after ${RUN_TIMEOUT_MS} ms`]);
    else if (run.signal !== null) problems.push(['signal', `ended by ${run.signal}`]);
    else if (![0, 1, ...(s.expect.strict ? [2] : [])].includes(run.status ?? -1)) problems.push(['exit-status', `exit status ${run.status}`]);
    for (const f of forbiddenLines(run.stderr)) problems.push([f.rule, f.line.slice(0, 200)]);
    // Item 8: memory follows the bars seen and the options' budgets, and every input here is tiny.
    if (run.peakRssKb !== undefined && run.peakRssKb > MAX_RSS_KB) problems.push(['memory', `peak RSS ${Math.round(run.peakRssKb / 1024)} MiB on a tiny input`]);

    const failed = run.status !== 0;
    if (failed && run.status !== null) {
      const last = lastLine(run.stderr);
      const m = ERROR_LINE.exec(last);
      if (!m) problems.push(['error-line', `last stderr line: ${JSON.stringify(last.slice(0, 200))}`]);
      else if (!CODES.includes(m[1])) problems.push(['error-code', `unknown code ${m[1]}`]);
      else if (m[1] === 'BARSTREAM_INTERNAL') problems.push(['internal-error', last.slice(0, 200)]);
      if (m && s.expect.badOptions && s.expect.badOptions.length > 0) {
        if (!s.expect.badOptions.some((o) => namePattern(o).test(last))) problems.push(['option-not-named', `${s.expect.badOptions.join(', ')} not named in: ${last.slice(0, 200)}`]);
        else if (m[1] !== 'BARSTREAM_INVALID_PARAM' && !s.expect.badOptions.some((o) => ANY_CODE.includes(o))) problems.push(['option-code', `${m[1]} for a bad option value`]);
      }
    }
    if (s.expect.mustFail && run.status === 0) problems.push(['must-fail', s.expect.mustFail]);
    if (s.expect.mustSucceed && failed && run.status !== null) problems.push(['must-succeed', `${s.expect.mustSucceed}; got: ${lastLine(run.stderr).slice(0, 200)}`]);

    let json: Record<string, unknown> | undefined;
    const succeeded = run.status === 0 || (run.status === 2 && s.expect.strict === true);
    // One JSON object on the last line (query prints a JSON array of rows: its checks read it).
    if (succeeded && s.args.includes('--json') && s.command !== 'query') {
      try {
        json = JSON.parse(lastLine(run.stdout)) as Record<string, unknown>;
      } catch {
        problems.push(['json-output', `stdout's last line is not JSON: ${JSON.stringify(lastLine(run.stdout).slice(0, 200))}`]);
      }
    }
    if (succeeded && s.check) {
      try {
        for (const p of await s.check(json, run)) problems.push([classify(p), p]);
      } catch (e) {
        problems.push(['check-error', `the test's own check threw: ${(e as Error).message.split('\n')[0]}`]);
      }
    }

    const st = stats.get(s.command)!;
    st.runs++;
    if (run.status === 0) st.exit0++;
    else if (run.status === 1) st.exit1++;
    else if (run.status === 2) st.exit2++;
    else st.other++;
    if (problems.length > 0) st.failing++;
    st.maxRssKb = Math.max(st.maxRssKb, run.peakRssKb ?? 0);
    for (const [rule, detail] of problems) {
      failures.push({
        command: s.command,
        index: this.index,
        scenario: this.scenario,
        rule,
        detail,
        line: shellLine(s.args),
        flavour: this.flavour.join('; '),
        stderr: run.stderr.split('\n').filter((l) => l.trim() !== '').slice(-3).join(' | ').slice(0, 400),
      });
    }
    return { run, json, ok: run.status === 0 };
  }
}

/** The kind of a success check's complaint. */
function classify(p: string): string {
  if (/^leftover /.test(p)) return 'leftover-in-output';
  if (/lists .* missing|sha256|bytes|_manifest\.json is missing|metadata\.json is missing/.test(p)) return 'manifest-or-metadata';
  if (/bad closes or timestamps|bad data/.test(p)) return 'bad-symbol-passed-as-good';
  if (/break the ingest checks|more than once|out of .* order|more than one file|canonical/.test(p)) return 'dataset-invalid';
  if (/skipped input|not named/.test(p)) return 'skipped-input-not-named';
  if (/neither refused nor warned/.test(p)) return 'incomplete-not-warned';
  return 'counts';
}

// ---------------------------------------------------------------------------------------------
// Inputs shared by the scenarios

/** A clean canonical dataset at `in/<name>` (written by the test's DuckDB): its files and facts. */
async function cleanDataset(c: Case, name = 'ds'): Promise<{ files: string[]; facts: SourceFacts }> {
  const table = generateTable(c.rng, { strictness: 0, minBars: 35 });
  const files = await writeTable(duck, table, { dir: c.path(`in/${name}`), buckets: c.rng.int(1, 2) });
  return { files, facts: (await sourceFacts(duck, files))! };
}

/** Valid strategy options for a job (no edge values). */
function goodJobOptions(rng: Rng, command: Command): string[] {
  const args: string[] = [];
  if (rng.chance(0.4)) args.push('--length', rng.pick(OPTIONS['--length'].good));
  if (command !== 'trend' && rng.chance(0.2)) args.push('--robustness', rng.pick(OPTIONS['--robustness'].good));
  if (command === 'trend' && rng.chance(0.5)) args.push('--ma', rng.pick(OPTIONS['--ma'].good));
  if (rng.chance(0.2)) args.push('--threads', rng.pick(['1', '2']));
  if (command === 'backtest' && rng.chance(0.3)) args.push('--fee-bps', rng.pick(OPTIONS['--fee-bps'].good));
  if (command === 'scan' && rng.chance(0.2)) args.push('--top', '3');
  return args;
}

/** Runs scan, backtest or trend over `data` (relative inputs) and checks it against `facts`. */
async function job(c: Case, command: 'scan' | 'backtest' | 'trend', data: string[], facts: SourceFacts | undefined, expect: Expect, extra: string[] = []) {
  const args: string[] = [command, ...data.flatMap((d) => ['--data', d]), '--json', ...extra];
  let out: string | undefined;
  if (command === 'backtest') out = 'bt';
  if (command === 'scan' && c.rng.chance(0.2)) out = 'sc';
  if (out) args.push('--out', out);
  const abs = out ? c.path(out) : undefined;
  return c.step({
    command,
    args,
    out,
    expect,
    check: async (json) => {
      if (!json) return [];
      if (command === 'scan') return [...(facts ? checkScanJson(json, facts) : []), ...(abs ? await checkScanOut(duck, abs, json) : [])];
      if (command === 'trend') return facts ? checkTrendJson(json, facts) : [];
      return checkBacktestOut(duck, abs!, json, facts);
    },
  });
}

/** A job over the dataset `ingest` just wrote (item 1: quarantined rows are not bars). */
async function followOn(c: Case, dataset: string) {
  const files = await datasetFiles(c.path(dataset));
  const facts = await sourceFacts(duck, files);
  const command = c.rng.weighted({ scan: 5, backtest: 3, trend: 2 } as const);
  const bars = facts && files.length > 0;
  await job(c, command, [dataset], facts, bars && facts.symbols > 0 ? { mustSucceed: 'a dataset ingest wrote is read' } : {}, c.rng.chance(0.5) ? ['--length', '14'] : []);
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/** Hostile CSV files through ingest, then sometimes a job over what it wrote. */
async function ingestCsv(c: Case) {
  const rng = c.rng;
  // Every sixth: item 1's reproduction, every row quarantined, then a job over the dataset.
  const itemOne = c.occurrence % 6 === 0;
  const n = itemOne ? 1 : rng.weighted({ 1: 70, 2: 25, 3: 5 } as const);
  const names = rng.sample(['a.csv', 'b.csv', 'c.csv', 'my file.csv', 'D.CSV'], Number(n));
  const gens: GeneratedCsv[] = [];
  const used = new Set<string>();
  for (const name of names) {
    const g = generateCsv(rng, used, { everyRowBad: itemOne });
    for (const s of g.symbols) used.add(s);
    gens.push(g);
    await c.write(`in/${name}`, g.bytes);
    c.flavour.push(`${name}: ${g.kind}${g.flavour.length ? ` (${g.flavour.join(', ')})` : ''}`);
  }
  const mixed = !itemOne && rng.chance(0.06);
  if (mixed) {
    await writeTable(duck, generateTable(rng, { strictness: 0 }), { file: c.path('in/stray.parquet') });
    c.flavour.push('a stray Parquet file in the folder');
  }
  const mode = mixed ? 'folder' : rng.weighted({ files: 50, glob: 25, folder: 25 } as const);
  const args = ['ingest', '--in'];
  if (mode === 'files') args.push(...names.map((f) => `in/${f}`));
  else if (mode === 'glob') args.push(names.every((f) => f.endsWith('.csv')) ? 'in/*.csv' : 'in/*');
  else args.push('in');
  const dupInput = mode === 'files' && rng.chance(0.05);
  if (dupInput) args.push('--in', `in/${names[0]}`);
  const format = mixed && rng.chance(0.7) ? 'csv' : undefined;
  if (format) args.push('--format', format);
  args.push('--out', 'out');
  const map = gens[0].map;
  if (Object.keys(map).length > 0) args.push('--map', mapSpec(map));
  const policy = itemOne ? 'quarantine' : rng.weighted({ quarantine: 6, skip: 2, error: 2 } as const);
  if (policy !== 'quarantine' || rng.chance(0.5)) args.push('--on-bad-rows', policy);
  const strict = !itemOne && rng.chance(0.25);
  if (strict) args.push('--strict');
  if (rng.chance(0.2)) args.push('--buckets', rng.pick(['1', '2', '3']));
  const json = itemOne || rng.chance(0.9);
  if (json) args.push('--json');
  const fuzzed = !itemOne && rng.chance(0.15) ? fuzzOptions(rng, 'ingest', ['--map', '--on-bad-rows', '--buckets', '--format']) : undefined;
  for (const o of fuzzed?.chosen ?? []) args.push(...optionArgs(o));
  if (fuzzed?.unknown) args.push(...fuzzed.unknown);
  const bad = (fuzzed?.chosen ?? []).filter((o) => o.grade === 'bad').map((o) => o.name);
  const anyEdge = (fuzzed?.chosen ?? []).some((o) => o.grade === 'edge');

  const found = gens.map((g) => resolvable(g, map));
  const records = gens.every((g) => g.records !== undefined) ? gens.reduce((s, g) => s + g.records!, 0) : undefined;
  const expect: Expect = { strict };
  if (bad.length > 0 || fuzzed?.unknown) {
    expect.mustFail = `bad option ${[...bad, ...(fuzzed?.unknown ?? [])].join(', ')}`;
    if (!fuzzed?.unknown) expect.badOptions = bad;
  } else if (gens.some((g) => g.kind === 'empty')) expect.mustFail = 'a 0-byte CSV (item 15: say it is empty)';
  else if (found.some((f) => f === false)) expect.mustFail = 'a canonical column is missing (README: stops with a message naming it)';
  else if (mixed && !format) expect.mustFail = 'a folder mixing CSV and Parquet';
  else if (strict && records === 0) expect.mustFail = 'a header-only input with --strict (item 15)';
  else if (
    !mixed && !anyEdge && gens.every((g) => g.kind === 'rows' && g.wellFormed && g.allValid) && found.every((f) => f === true) && records !== undefined && records > 0
  ) {
    expect.mustSucceed = 'valid CSV rows';
  }
  const r = await c.step({
    command: 'ingest',
    args,
    out: 'out',
    expect,
    check: async (j, run) => {
      const problems: string[] = [];
      if (strict && run.status === 0 && j && Number(j.rejected) > 0) problems.push(`--strict exited 0 with ${j.rejected} rows rejected`);
      if (run.status === 2 && j && Number(j.rejected) === 0 && records !== 0) problems.push('--strict exited 2 with no row rejected');
      if (mixed && !/stray\.parquet/.test(run.stdout + run.stderr)) problems.push('the skipped input stray.parquet is not named (item 6)');
      if (j) {
        const symbols = new Set(gens.flatMap((g) => [...g.symbols]));
        const allValid = gens.every((g) => g.allValid && g.kind === 'rows' && g.wellFormed) && found.every((f) => f === true);
        const { problems: p } = await checkIngest(duck, c.path('out'), j, { records, symbols, allValid, policy });
        problems.push(...p);
      } else if (existsSync(c.path('out'))) {
        problems.push(...(await checkDataset(duck, c.path('out'))).problems);
      }
      return problems;
    },
  });
  if (r.ok && (itemOne || rng.chance(0.4))) await followOn(c, 'out');
}

/** Hostile Parquet files (wrong types, NULLs, NaN, duplicates, unsorted, cut short) through ingest. */
async function ingestParquet(c: Case) {
  const rng = c.rng;
  const n = rng.chance(0.2) ? 2 : 1;
  const tables: GeneratedTable[] = [];
  const files: string[] = [];
  let truncated = false;
  let renamedUnmapped = false;
  const map: Partial<Record<Canonical, string>> = {};
  for (let i = 0; i < n; i++) {
    const t = generateTable(rng, { strictness: 1, symbols: i === 0 ? undefined : ['ZZZ', 'YYY'] });
    tables.push(t);
    const rel = `in/${i === 0 ? 'x' : 'y'}.${rng.pick(['parquet', 'parquet', 'pq'])}`;
    await writeTable(duck, t, { file: c.path(rel) });
    for (const col of t.columns) {
      if (col.canon && col.name !== col.canon) {
        if (i === 0 && rng.chance(0.6)) map[col.canon] = col.name;
        else renamedUnmapped = true;
      }
    }
    if (rng.chance(0.15)) {
      await truncateFile(rng, c.path(rel));
      truncated = true;
      c.flavour.push(`${rel} cut short`);
    }
    files.push(rel);
    c.flavour.push(`${rel}: ${t.rows.length} rows (${t.flavour.join(', ') || 'clean'})`);
  }
  const missing = tables.some((t) => t.columns.filter((k) => k.canon).length < 7);
  const args = ['ingest', '--in', ...files, '--out', 'out', '--json'];
  if (Object.keys(map).length > 0) args.push('--map', mapSpec(map));
  const policy = rng.weighted({ quarantine: 6, skip: 2, error: 2 } as const);
  args.push('--on-bad-rows', policy);
  const strict = rng.chance(0.2);
  if (strict) args.push('--strict');
  const expect: Expect = { strict };
  if (truncated) expect.mustFail = 'a truncated Parquet file';
  else if (missing || renamedUnmapped) expect.mustFail = 'a canonical column is missing';
  const records = tables.reduce((s, t) => s + t.rows.length, 0);
  const r = await c.step({
    command: 'ingest',
    args,
    out: 'out',
    expect,
    check: async (j) => (j ? (await checkIngest(duck, c.path('out'), j, { records, allValid: false, policy })).problems : []),
  });
  if (r.ok && rng.chance(0.3)) await followOn(c, 'out');
}

/** scan, backtest or trend straight over hostile Parquet: a file, a folder, a glob, a canonical-looking folder, two inputs. */
async function readParquet(c: Case) {
  const rng = c.rng;
  const command = rng.weighted({ scan: 45, backtest: 35, trend: 20 } as const);
  const layout = rng.weighted({ file: 25, folder: 15, glob: 10, canonical: 40, two: 10 } as const);
  const strictness = rng.chance(0.15) ? 0 : 1;
  const tables: GeneratedTable[] = [];
  const files: string[] = [];
  let data: string[];
  let overlap = false;
  let split = false;
  let fakeMeta = false;
  if (layout === 'canonical') {
    const t = generateTable(rng, { strictness });
    tables.push(t);
    const buckets = rng.int(1, 3);
    split = strictness > 0 && buckets > 1 && rng.chance(0.08);
    files.push(...(await writeTable(duck, t, { dir: c.path('in/ds'), buckets, splitSymbol: split })));
    if (split) c.flavour.push('a symbol in two buckets');
    if (rng.chance(0.15)) {
      fakeMeta = true;
      const garbage = rng.chance(0.5);
      await c.write('in/ds/metadata.json', garbage ? '{not json' : JSON.stringify({ format: 'barstream-dataset/1', symbols: 999, rows: -1, counts: { rejected: 'x' } }));
      c.flavour.push(garbage ? 'metadata.json not JSON' : 'metadata.json with wrong counts');
    }
    data = ['in/ds'];
  } else {
    const n = layout === 'file' ? 1 : layout === 'two' ? 2 : rng.int(1, 2);
    const first = generateTable(rng, { strictness });
    tables.push(first);
    if (n === 2) {
      overlap = rng.chance(0.3);
      tables.push(generateTable(rng, { strictness, symbols: overlap ? undefined : ['ZZZ', 'YYY'] }));
    }
    for (const [i, t] of tables.entries()) {
      const rel = layout === 'folder' || layout === 'glob' ? `in/p/part${i}.parquet` : `in/${i === 0 ? 'a' : 'b'}.parquet`;
      await writeTable(duck, t, { file: c.path(rel) });
      files.push(c.path(rel));
    }
    data = layout === 'folder' ? ['in/p'] : layout === 'glob' ? ['in/p/*.parquet'] : files.map((f) => f.slice(c.dir.length + 1));
  }
  for (const t of tables) c.flavour.push(`${t.rows.length} rows (${t.flavour.join(', ') || 'clean'})`);
  const facts = await sourceFacts(duck, files);
  if (overlap && facts) c.flavour.push('two inputs (symbols may overlap)');
  let truncated = false;
  if (rng.chance(0.1)) {
    await truncateFile(rng, rng.pick(files));
    truncated = true;
    c.flavour.push('a file cut short');
  }
  const rows = tables.reduce((s, t) => s + t.rows.length, 0);
  const expect: Expect = {};
  if (truncated) expect.mustFail = 'a truncated Parquet file (item 12)';
  else if (
    tables.every((t) => t.canonicalTypes && !t.hasNullSymbol && !t.hasNullTs) &&
    // Files of one source with different columns are another matter than this issue's.
    new Set(tables.map((t) => JSON.stringify(t.columns.map((k) => [k.name, k.type])))).size === 1 &&
    !split && !fakeMeta && !overlap && rows > 0
  ) {
    expect.mustSucceed = 'bars of the canonical types: bad values fail their symbol only (item 11)';
  }
  await job(c, command, data, truncated ? undefined : facts, expect, goodJobOptions(rng, command));
}

/** Option values the issue names, one per options case of a round (undefined: a random draw). */
const ANCHORS: (readonly ['scan' | 'backtest' | 'trend', string, string] | undefined)[] = [
  ['backtest', '--length', '4294967296'], ['scan', '--length', '4294967296'], ['trend', '--length', '4294967297'], ['scan', '--length', '1e9'],
  ['backtest', '--fee-bps', 'abc'], ['backtest', '--fee-bps', ''], ['backtest', '--fee-bps', '1e6'], ['backtest', '--decay', '-5'],
  ['scan', '--decay', '1e308'], ['backtest', '--lambda', '1e308'], ['scan', '--lambda', 'abc'], ['scan', '--min-signal', '2'],
  ['trend', '--threads', '0'], ['trend', '--memory-limit', '1KB'], ['scan', '--sql', 'SELECT * FROM bars -- recent'],
  ['backtest', '--sql', 'SELECT * FROM bars -- recent'], undefined, undefined,
];

/** An option with its grade as listed in OPTIONS. */
function anchored(name: string, value: string): ChosenOption {
  const spec = OPTIONS[name];
  return { name, value, grade: spec.bad.includes(value) ? 'bad' : spec.good.includes(value) ? 'good' : 'edge' };
}

/** Option values, bad, edge and good, on a clean dataset (or a clean CSV for ingest). */
async function options(c: Case) {
  const rng = c.rng;
  // Most cases of a round start from a value the issue names (items 8, 13, 14), the rest are drawn at random.
  const anchor = c.kind(ANCHORS);
  const command = anchor?.[0] ?? rng.weighted({ scan: 30, backtest: 25, trend: 15, ingest: 20 } as const);
  const { chosen, unknown } = anchor ? { chosen: [anchored(anchor[1], anchor[2])], unknown: undefined } : fuzzOptions(rng, command);
  const optArgs = chosen.flatMap(optionArgs);
  c.flavour.push(chosen.map((o) => `${o.name}=${JSON.stringify(o.value)} (${o.grade})`).join(', ') + (unknown ? `; unknown ${unknown.join(' ')}` : ''));
  const bad = chosen.filter((o) => o.grade === 'bad').map((o) => o.name);
  const expect: Expect = {};
  if (unknown) expect.mustFail = `unknown option or argument ${unknown.join(' ')}`;
  else if (bad.length > 0) {
    expect.mustFail = `bad value for ${bad.join(', ')} (item 14)`;
    expect.badOptions = bad;
  } else if (chosen.every((o) => o.grade === 'good')) expect.mustSucceed = 'good option values on clean data';
  if (command === 'ingest') {
    const csv = cleanCsv(rng);
    await c.write('in/a.csv', csv.bytes);
    const policy = chosen.find((o) => o.name === '--on-bad-rows')?.value ?? 'quarantine';
    await c.step({
      command,
      args: ['ingest', '--in', 'in/a.csv', '--out', 'out', '--json', ...optArgs, ...(unknown ?? [])],
      out: 'out',
      expect,
      check: async (j) => (j ? (await checkIngest(duck, c.path('out'), j, { records: csv.records, symbols: csv.symbols, allValid: true, policy })).problems : []),
    });
    return;
  }
  const { facts } = await cleanDataset(c);
  // SQL that keeps no bar leaves no symbol to report.
  const sql = chosen.find((o) => o.name === '--sql')?.value;
  const expected = sql !== undefined && / false$/.test(sql) ? { ...facts, symbols: 0 } : facts;
  await job(c, command, ['in/ds'], expected, expect, [...optArgs, ...(unknown ?? [])]);
}

/** Output folders the rules forbid: a file, inside an input, a foreign folder; overlapping inputs. */
async function outRules(c: Case) {
  const rng = c.rng;
  const kind = c.kind([
    'backtest --out FILE', 'scan --out FILE', 'ingest --out FILE', 'generate --out FILE',
    'backtest --out inside the input', 'scan --out the input', 'scan --out inside the input', 'ingest --out inside the input folder',
    'backtest --data D --data D', 'scan --data D --data D', 'trend --data D --data D', 'backtest --data D --data a file of D',
    'backtest --out foreign', 'backtest --out foreign --overwrite', 'backtest --out foreign --resume',
    'ingest --out foreign --overwrite', 'generate --out foreign --overwrite', 'ingest --in DIR/*.csv --out DIR --overwrite',
    'backtest with its input inside --out', 'scan --out foreign',
  ] as const);
  c.flavour.push(kind);
  await cleanDataset(c);
  await c.write('in/a.csv', cleanCsv(rng).bytes);
  await c.write('target.txt', 'not a folder\n');
  await c.write('foreign/notes.txt', 'my notes\n');
  await c.write('foreign/sub/keep.csv', 'a,b\n1,2\n');
  // Refused runs: a wrongly accepted one is reported once (must-fail), plus any change it made to what was there.
  const never = (args: string[], why: string, command: Command = args[0] as Command) =>
    c.step({ command, args, out: args.includes('--out') ? args[args.indexOf('--out') + 1] : undefined, expect: { mustFail: why } });
  switch (kind) {
    case 'backtest --out FILE':
      return never(['backtest', '--data', 'in/ds', '--out', 'target.txt', '--json'], '--out is a file (item 10)');
    case 'scan --out FILE':
      return never(['scan', '--data', 'in/ds', '--out', 'target.txt', '--json'], '--out is a file (item 10)');
    case 'ingest --out FILE':
      return never(['ingest', '--in', 'in/a.csv', '--out', 'target.txt', '--json'], '--out is a file (item 10)');
    case 'generate --out FILE':
      return never(['generate', '--out', 'target.txt', '--symbols', '2', '--bars', '40'], '--out is a file (item 10)');
    case 'backtest --out inside the input':
      return c.step({ command: 'backtest', args: ['backtest', '--data', 'in/ds', '--out', 'in/ds/inside', '--json'], out: 'in/ds/inside', expect: { mustFail: '--out inside an input (item 17)' } });
    case 'scan --out the input':
      return c.step({ command: 'scan', args: ['scan', '--data', 'in/ds', '--out', 'in/ds', '--json'], out: 'in/ds', expect: { mustFail: '--out is an input (item 17)' } });
    case 'scan --out inside the input':
      return c.step({ command: 'scan', args: ['scan', '--data', 'in/ds', '--out', 'in/ds/inside', '--json'], out: 'in/ds/inside', expect: { mustFail: '--out inside an input (item 17)' } });
    case 'ingest --out inside the input folder':
      return c.step({ command: 'ingest', args: ['ingest', '--in', 'in', '--format', 'csv', '--out', 'in/sub', '--json'], out: 'in/sub', expect: { mustFail: '--out inside an input (item 17: refuse an output inside any input)' } });
    case 'backtest --data D --data D':
      return never(['backtest', '--data', 'in/ds', '--data', 'in/ds', '--out', 'bt', '--json'], 'the same input twice (item 5)');
    case 'scan --data D --data D':
      return never(['scan', '--data', 'in/ds', '--data', 'in/ds', '--json'], 'the same input twice (item 5)');
    case 'trend --data D --data D':
      return never(['trend', '--data', 'in/ds', '--data', 'in/ds', '--json'], 'the same input twice (item 5)');
    case 'backtest --data D --data a file of D':
      return never(['backtest', '--data', 'in/ds', '--data', 'in/ds/bucket=0/part-0.parquet', '--out', 'bt', '--json'], 'overlapping inputs (item 5)');
    case 'backtest --out foreign':
      return never(['backtest', '--data', 'in/ds', '--out', 'foreign', '--json'], '--out is a non-empty folder that is not a barstream output');
    case 'backtest --out foreign --overwrite':
      return never(['backtest', '--data', 'in/ds', '--out', 'foreign', '--overwrite', '--json'], '--overwrite of a folder that is not a barstream output (item 2)');
    case 'backtest --out foreign --resume':
      return never(['backtest', '--data', 'in/ds', '--out', 'foreign', '--resume', '--json'], '--resume of a folder that is not a barstream output');
    case 'ingest --out foreign --overwrite':
      return never(['ingest', '--in', 'in/a.csv', '--out', 'foreign', '--overwrite', '--json'], '--overwrite of a folder that is not a barstream dataset (item 2)');
    case 'generate --out foreign --overwrite':
      return never(['generate', '--out', 'foreign', '--overwrite', '--symbols', '2', '--bars', '40'], '--overwrite of a folder that is not a barstream dataset (item 2)');
    case 'ingest --in DIR/*.csv --out DIR --overwrite':
      return never(['ingest', '--in', 'in/*.csv', '--out', 'in', '--overwrite', '--json'], '--overwrite of the folder holding the input (item 2)');
    case 'backtest with its input inside --out':
      await cleanDataset(c, '../work/ds');
      return never(['backtest', '--data', 'work/ds', '--out', 'work', '--overwrite', '--json'], 'an input inside --out (items 2, 17)');
    case 'scan --out foreign':
      return c.step({ command: 'scan', args: ['scan', '--data', 'in/ds', '--out', 'foreign', '--json'], out: 'foreign', expect: {} });
  }
}

/** A second run over a barstream output: --overwrite and --resume must work, a plain rerun must be refused. */
async function replace(c: Case) {
  const rng = c.rng;
  const kind = c.kind([
    'ingest --overwrite', 'ingest again', 'backtest --overwrite', 'backtest --resume', 'backtest again', 'generate --overwrite',
    'backtest --resume after the input changed', 'backtest rerun after a failed run',
  ] as const);
  c.flavour.push(kind);
  if (kind.startsWith('ingest')) {
    const first = cleanCsv(rng);
    await c.write('in/a.csv', first.bytes);
    const second = cleanCsv(rng);
    await c.write('in/b.csv', second.bytes);
    const check = (csv: typeof first) => async (j?: Record<string, unknown>) =>
      j ? (await checkIngest(duck, c.path('out'), j, { records: csv.records, symbols: csv.symbols, allValid: true, policy: 'quarantine' })).problems : [];
    const one = await c.step({ command: 'ingest', args: ['ingest', '--in', 'in/a.csv', '--out', 'out', '--json'], out: 'out', expect: { mustSucceed: 'a clean CSV' }, check: check(first) });
    if (!one.ok) return;
    if (kind === 'ingest --overwrite') {
      await c.step({ command: 'ingest', args: ['ingest', '--in', 'in/b.csv', '--out', 'out', '--overwrite', '--json'], out: 'out', replace: true, expect: { mustSucceed: '--overwrite of a barstream dataset' }, check: check(second) });
    } else {
      await c.step({ command: 'ingest', args: ['ingest', '--in', 'in/b.csv', '--out', 'out', '--json'], expect: { mustFail: 'the output exists and --overwrite is not given' } });
    }
    return;
  }
  if (kind === 'generate --overwrite') {
    const one = await c.step({ command: 'generate', args: ['generate', '--out', 'gen', '--symbols', '2', '--bars', '40'], out: 'gen', expect: { mustSucceed: 'a small dataset' }, check: async () => checkGenerate(duck, c.path('gen'), 2, 40) });
    if (!one.ok) return;
    await c.step({
      command: 'generate',
      args: ['generate', '--out', 'gen', '--symbols', '3', '--bars', '30', '--seed', '9', '--overwrite'],
      out: 'gen',
      replace: true,
      expect: { mustSucceed: '--overwrite of a generated dataset' },
      check: async () => checkGenerate(duck, c.path('gen'), 3, 30),
    });
    return;
  }
  if (kind === 'backtest rerun after a failed run') {
    // SQL that duplicates every bar is found bad only while running (item 16).
    const { facts } = await cleanDataset(c);
    const one = await c.step({ command: 'backtest', args: ['backtest', '--data', 'in/ds', '--out', 'bt', '--json', '--sql', 'SELECT * FROM bars UNION ALL SELECT * FROM bars'], out: 'bt', expect: {} });
    if (one.ok) return;
    await c.step({
      command: 'backtest',
      args: ['backtest', '--data', 'in/ds', '--out', 'bt', '--json'],
      out: 'bt',
      replace: true,
      expect: { mustSucceed: 'a run that failed as a whole leaves nothing that blocks its rerun (items 11, 16)' },
      check: async (j) => (j ? checkBacktestOut(duck, c.path('bt'), j, facts) : []),
    });
    return;
  }
  const { facts } = await cleanDataset(c);
  const base = ['backtest', '--data', 'in/ds', '--out', 'bt', '--json'];
  const check = async (j?: Record<string, unknown>): Promise<string[]> => (j ? checkBacktestOut(duck, c.path('bt'), j, facts) : []);
  const one = await c.step({ command: 'backtest', args: base, out: 'bt', expect: { mustSucceed: 'a clean dataset' }, check });
  if (!one.ok || !one.json) return;
  const firstCounts = one.json;
  if (kind === 'backtest --overwrite') {
    await c.step({ command: 'backtest', args: [...base, '--overwrite', '--fee-bps', '5'], out: 'bt', replace: true, expect: { mustSucceed: '--overwrite of a barstream output' }, check });
  } else if (kind === 'backtest --resume') {
    await c.step({
      command: 'backtest',
      args: [...base, '--resume'],
      out: 'bt',
      replace: true,
      expect: { mustSucceed: '--resume of a finished output' },
      check: async (j) => {
        const p = await check(j);
        for (const k of ['symbols', 'processed', 'skipped', 'failed', 'signalRows']) if (j && j[k] !== firstCounts[k]) p.push(`--resume reports ${k} = ${j[k]}, the first run ${firstCounts[k]}`);
        return p;
      },
    });
  } else if (kind === 'backtest --resume after the input changed') {
    await rm(c.path('in/ds'), { recursive: true });
    await cleanDataset(c);
    c.flavour.push('in/ds rewritten with other bars at the same paths');
    await c.step({ command: 'backtest', args: [...base, '--resume'], out: 'bt', replace: true, expect: { mustFail: '--resume over changed input files (item 3)' } });
  } else {
    await c.step({ command: 'backtest', args: base, expect: { mustFail: 'the output exists and neither --overwrite nor --resume is given' } });
  }
}

/** generate with fuzzed options. */
async function generateCase(c: Case) {
  const rng = c.rng;
  const { chosen, unknown } = fuzzOptions(rng, 'generate');
  const values = new Map<string, string>([['--symbols', rng.pick(['1', '2', '3'])], ['--bars', rng.pick(['30', '40'])]]);
  for (const o of chosen) values.set(o.name, o.value);
  const args = ['generate', '--out', 'gen', ...[...values].flatMap(([name, value]) => optionArgs({ name, value, grade: 'good' })), ...(unknown ?? [])];
  c.flavour.push(chosen.map((o) => `${o.name}=${JSON.stringify(o.value)} (${o.grade})`).join(', ') + (unknown ? `; unknown ${unknown.join(' ')}` : ''));
  const bad = chosen.filter((o) => o.grade === 'bad').map((o) => o.name);
  const expect: Expect = {};
  if (unknown) expect.mustFail = `unknown option or argument ${unknown.join(' ')}`;
  else if (bad.length > 0) {
    expect.mustFail = `bad value for ${bad.join(', ')}`;
    expect.badOptions = bad;
  } else if (chosen.every((o) => o.grade === 'good')) expect.mustSucceed = 'good option values';
  const symbols = Number(values.get('--symbols'));
  const bars = Number(values.get('--bars'));
  await c.step({ command: 'generate', args, out: 'gen', expect, check: async () => checkGenerate(duck, c.path('gen'), symbols, bars) });
}

/** query over a clean dataset: a trailing comment must work, bad SQL and options must be one-line errors. */
async function queryCase(c: Case) {
  const rng = c.rng;
  const { files } = await cleanDataset(c);
  const [truth] = await duck.rows(`SELECT count(*) AS n, count(DISTINCT symbol) AS s FROM read_parquet(${litList(files)}, hive_partitioning = false)`);
  await c.write('foreign/notes.txt', 'my notes\n');
  const kind = c.kind([
    'trailing comment', 'count as CSV', 'SELEC', 'missing table', 'empty SQL', '--json --csv', '--max-rows', 'foreign --results',
    'missing --data', 'SQL and --report', 'results without a manifest',
  ] as const);
  c.flavour.push(kind);
  const step = (args: string[], expect: Expect, check?: Step['check']) => c.step({ command: 'query', args: ['query', ...args], expect, check });
  switch (kind) {
    case 'trailing comment':
      return step(['--data', 'in/ds', '--json', 'SELECT symbol, count(*) AS n FROM bars GROUP BY symbol ORDER BY symbol -- per symbol'], { mustSucceed: 'a trailing comment works (item 13)' }, async (_j, run) => {
        try {
          // JSON Lines: one object per row
          const rows = run.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l)) as { n: number }[];
          const n = rows.reduce((s, r) => s + Number(r.n), 0);
          return rows.length !== truth.s || n !== truth.n ? [`query returned ${rows.length} symbols and ${n} bars; the dataset holds ${truth.s} and ${truth.n}`] : [];
        } catch {
          return ['query --json did not print JSON Lines'];
        }
      });
    case 'count as CSV':
      return step(['--data', 'in/ds', '--csv', 'SELECT count(*) AS n FROM bars'], { mustSucceed: 'a plain count' }, async (_j, run) => {
        const n = Number(run.stdout.trim().split('\n').pop());
        return n !== truth.n ? [`query counted ${run.stdout.trim().split('\n').pop()} bars; the dataset holds ${truth.n}`] : [];
      });
    case 'SELEC':
      return step(['--data', 'in/ds', 'SELEC * FROM bars'], { mustFail: 'SQL syntax error (item 12)' });
    case 'missing table':
      return step(['--data', 'in/ds', 'SELECT * FROM nosuch'], { mustFail: 'an unknown table (item 12)' });
    case 'empty SQL':
      return step(['--data', 'in/ds', ''], { mustFail: 'no SQL' });
    case '--json --csv':
      return step(['--data', 'in/ds', '--json', '--csv', 'SELECT 1'], { mustFail: '--json and --csv together' });
    case '--max-rows': {
      const v = rng.pick(OPTIONS['--max-rows'].bad);
      return step(['--data', 'in/ds', ...optionArgs({ name: '--max-rows', value: v, grade: 'bad' }), 'SELECT 1'], { mustFail: `--max-rows ${JSON.stringify(v)}`, badOptions: ['--max-rows'] });
    }
    case 'foreign --results':
      return step(['--results', 'foreign', 'SELECT 1 AS x'], {});
    case 'missing --data':
      return step(['--data', 'nope', 'SELECT 1'], { mustFail: '--data does not exist' });
    case 'SQL and --report':
      return step(['--data', 'in/ds', '--report', 'portfolio_equity', 'SELECT 1'], { mustFail: 'SQL and --report together' });
    case 'results without a manifest': {
      const bt = await c.step({ command: 'backtest', args: ['backtest', '--data', 'in/ds', '--out', 'bt', '--json'], out: 'bt', expect: { mustSucceed: 'a clean dataset' } });
      if (!bt.ok) return;
      await rm(c.path('bt/_manifest.json'));
      // Item 7: an output without its manifest is incomplete: refuse, or warn on stderr.
      return step(['--results', 'bt', '--json', 'SELECT count(*) AS n FROM summary'], {}, async (_j, run) =>
        run.stderr.trim() === '' ? ['query over an output without _manifest.json neither refused nor warned (item 7)'] : [],
      );
    }
  }
}

/**
 * Cases per scenario in one round of the schedule; the round is shuffled by the seed and
 * repeats. The scenarios with a list of kinds (outRules, replace, query) get one case per
 * kind in each round, so every kind runs in every default run.
 */
const SCENARIOS = {
  ingestCsv: { count: 22, run: ingestCsv },
  ingestParquet: { count: 6, run: ingestParquet },
  readParquet: { count: 18, run: readParquet },
  options: { count: 18, run: options },
  outRules: { count: 20, run: outRules },
  replace: { count: 8, run: replace },
  generate: { count: 4, run: generateCase },
  query: { count: 11, run: queryCase },
};
type ScenarioName = keyof typeof SCENARIOS;
const ROUND = new Rng(SEED).shuffle((Object.keys(SCENARIOS) as ScenarioName[]).flatMap((k) => Array<ScenarioName>(SCENARIOS[k].count).fill(k)));

/** The scenario of case `index` and how many cases of that scenario come before it. */
function scheduled(index: number): { scenario: ScenarioName; occurrence: number } {
  const at = index % ROUND.length;
  const scenario = ROUND[at];
  const before = ROUND.slice(0, at).filter((s) => s === scenario).length;
  return { scenario, occurrence: Math.floor(index / ROUND.length) * SCENARIOS[scenario].count + before };
}

async function runCase(index: number): Promise<void> {
  const rng = new Rng(caseSeed(SEED, index));
  const { scenario, occurrence } = scheduled(index);
  const dir = join(root, `case-${index}`);
  await mkdir(join(dir, 'in'), { recursive: true });
  await mkdir(join(dir, 'tmp'));
  const c = new Case(index, scenario, occurrence, dir, rng);
  started++;
  try {
    await SCENARIOS[scenario].run(c);
  } finally {
    if (!KEEP) await rm(dir, { recursive: true, force: true });
  }
}

function summary(): string {
  const rows = COMMANDS.map((cmd) => {
    const s = stats.get(cmd)!;
    return [cmd, s.runs, s.exit0, s.exit1, s.exit2, s.other, s.failing, Math.round(s.maxRssKb / 1024)];
  });
  const total = rows.reduce((a, r) => a.map((x, i) => (i === 0 ? 'total' : i === 7 ? Math.max(Number(x), Number(r[i])) : Number(x) + Number(r[i]))), ['total', 0, 0, 0, 0, 0, 0, 0]);
  const table = [['command', 'runs', 'exit 0', 'exit 1', 'exit 2', 'other', 'failing runs', 'max RSS MiB'], ...rows, total];
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => String(r[i]).length)));
  const lines = table.map((r) => r.map((x, i) => (i === 0 ? String(x).padEnd(widths[i]) : String(x).padStart(widths[i]))).join('  '));
  const byRule = new Map<string, number>();
  for (const f of failures) byRule.set(`${f.command} ${f.rule}`, (byRule.get(`${f.command} ${f.rule}`) ?? 0) + 1);
  return [
    `fuzz: seed ${SEED}, ${started} case(s)${ONLY !== undefined ? ` (only case ${ONLY})` : ''}, ${failures.length} failed assertion(s)`,
    ...lines,
    ...(byRule.size ? ['failed assertions by command and rule:', ...[...byRule].sort().map(([k, n]) => `  ${k}: ${n}`)] : []),
  ].join('\n');
}

function describeFailure(f: Failure): string {
  return (
    `[case ${f.index} ${f.scenario}] ${f.rule}: ${f.detail}\n    cd ${KEEP ? join(root, `case-${f.index}`) : 'CASE'} && ${f.line}\n    inputs: ${f.flavour || '-'}\n    stderr: ${f.stderr || '-'}\n` +
    `    rerun: BARSTREAM_FUZZ_SEED=${SEED} BARSTREAM_FUZZ_CASE=${f.index} BARSTREAM_FUZZ_KEEP=1 npx vitest run test/fuzz.test.ts`
  );
}

const built = cliBuilt();

describe.skipIf(!built)('fuzz: hostile inputs and options through the built CLI', () => {
  beforeAll(async () => {
    duck = await Duck.open();
    root = await mkdtemp(join(tmpdir(), 'barstream-fuzz-'));
    const indices = ONLY !== undefined ? [ONLY] : Array.from({ length: CASES ?? 2 * ROUND.length }, (_, i) => i);
    await pool(WIDTH, indices.map((i) => () => runCase(i)));
    console.log(summary());
    if (KEEP) console.log(`fuzz: case folders kept under ${root}`);
    if (failures.length > 0) console.log(failures.map(describeFailure).join('\n'));
  }, 1_800_000);

  afterAll(async () => {
    duck?.close();
    if (root && !KEEP) {
      const left = existsSync(root) ? await readdir(root) : [];
      await rm(root, { recursive: true, force: true });
      if (left.length > 0) throw new Error(`fuzz: left in the temporary root: ${left.join(', ')}`);
    }
  });

  for (const command of COMMANDS) {
    it(`${command}: every fuzzed run ends cleanly, counts add up, nothing written outside --out`, () => {
      const mine = failures.filter((f) => f.command === command);
      expect(mine.map(describeFailure), `seed ${SEED}: ${mine.length} failed assertion(s) for ${command}`).toEqual([]);
    });
  }
});

if (!built) {
  describe('fuzz', () => {
    it.skip(`skipped: needs the built CLI at ${cliPath} (run npm run build:ts)`, () => {});
  });
}
