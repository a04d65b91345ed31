/**
 * docs/formulas.md runs as written: every ```sh block (barstream commands, through the built
 * CLI, in order, in a folder holding a small generated `datasets/demo`) exits 0, or, when a
 * ```text block starting with `barstream:` follows it, fails with exactly that text; every
 * ```sql block runs through `barstream query`; every formula example of the function tables
 * evaluates with `kernels.formula` on a symbol's bars; every function of the spec has one.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernels } from '../engine/index.js';
import { packageRoot } from '../engine/native.js';
import { barsBySymbol, SymbolBars } from './util/bars.js';
import { cli, cliBuilt, cliPath } from './util/cli.js';

interface Block {
  lang: string;
  text: string;
  line: number;
}

/** The fenced blocks of a Markdown text, with their language and first line. */
function blocks(md: string): Block[] {
  const out: Block[] = [];
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i + 1;
    let j = start;
    while (j < lines.length && !/^```\s*$/.test(lines[j])) j++;
    out.push({ lang: open[1], text: lines.slice(start, j).join('\n'), line: start });
    i = j;
  }
  return out;
}

/** Table rows whose header's last column is `example`: the first cell and the example's code. */
function examples(md: string): { what: string; example: string; line: number }[] {
  const out: { what: string; example: string; line: number }[] = [];
  const lines = md.split('\n');
  let inTable = false;
  lines.forEach((l, i) => {
    if (!l.startsWith('|')) return void (inTable = false);
    const cells = l.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    if (/^example$/.test(cells[cells.length - 1] ?? '')) return void (inTable = true);
    if (!inTable || /^-+$/.test(cells[0])) return;
    const code = /^`(.+)`$/.exec(cells[cells.length - 1]);
    if (code) out.push({ what: cells[0], example: code[1], line: i + 1 });
  });
  return out;
}

/** Every function of shared/docs/formula-spec.md (its tables), so the doc can be checked for each. */
const SPEC_FUNCTIONS = [
  'sma', 'ema', 'rma', 'wma', 'dema', 'hma', 'lsma', 'kama', 'rsi', 'bb_mid', 'bb_upper', 'bb_lower', 'stdev', 'highest', 'lowest', 'sum', 'atr', 'macd',
  'macd_signal', 'macd_hist', 'stoch_k', 'stoch_d', 'atc', 'change', 'roc', 'crosses_above', 'crosses_below', 'crosses', 'barssince', 'valuewhen', 'count',
  'state', 'trend_state', 'iff', 'na', 'nz', 'abs', 'sqrt', 'log', 'min', 'max', 'hl2', 'hlc3', 'ohlc4', 'tr',
];

let md: string;
let tmp: string;
let bars: SymbolBars;

beforeAll(async () => {
  md = await readFile(join(packageRoot(), 'docs', 'formulas.md'), 'utf8');
  tmp = await mkdtemp(join(tmpdir(), 'barstream-doc-'));
  if (!cliBuilt) return;
  // The examples' dataset: datasets/demo, small (the real one is 500 x 2,500), made by the CLI.
  const g = cli(['generate', '--out', 'datasets/demo', '--symbols', '12', '--bars', '2200', '--seed', '42'], { cwd: tmp });
  expect(g.status, g.stderr).toBe(0);
  bars = [...(await barsBySymbol(join(tmp, 'datasets', 'demo'))).values()][0];
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('docs/formulas.md', () => {
  it('shows every function of the spec with an example in its tables', () => {
    const ex = examples(md);
    for (const f of SPEC_FUNCTIONS) {
      const row = ex.find((e) => new RegExp(`\`${f}\\b`).test(e.what));
      expect(row, `no table row documents ${f}`).toBeDefined();
      expect(row!.example, `the example of ${f} (line ${row!.line}) does not use it`).toMatch(new RegExp(`\\b${f}\\b`));
    }
  });

  it.skipIf(!cliBuilt)('every formula example of the tables evaluates on real bars', () => {
    const ex = examples(md);
    expect(ex.length).toBeGreaterThan(45);
    for (const { example, line } of ex) {
      let r;
      try {
        r = kernels.formula(example, { open: bars.open, high: bars.high, low: bars.low, close: bars.close, volume: bars.volume });
      } catch (e) {
        throw new Error(`docs/formulas.md line ${line}: \`${example}\` fails: ${(e as Error).message}`);
      }
      expect(r.value.length, `line ${line}`).toBe(bars.close.length);
      // Something is defined: an example that is NaN everywhere shows nothing.
      expect(r.value.some((v) => !Number.isNaN(v)), `line ${line}: \`${example}\` is never defined`).toBe(true);
    }
  });

  it.skipIf(!cliBuilt)('every sh and sql example runs as documented (exit 0, or exactly the error shown after it)', () => {
    const all = blocks(md);
    const shell = `barstream() { node ${JSON.stringify(cliPath)} "$@"; }\nset -e\n`;
    let ran = 0;
    let failures = 0;
    for (let i = 0; i < all.length; i++) {
      const b = all[i];
      if (b.lang === 'sh') {
        expect(b.text, `line ${b.line}: a sh example runs barstream`).toMatch(/^barstream /m);
        const r = spawnSync('bash', ['-c', shell + b.text], { cwd: tmp, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
        const next = all[i + 1];
        if (next?.lang === 'text' && next.text.startsWith('barstream:')) {
          expect(r.status, `line ${b.line}: should fail`).toBe(1);
          expect(r.stderr, `line ${b.line}`).toBe(`${next.text}\n`);
          failures++;
        } else {
          expect(r.stderr, `line ${b.line}: ${b.text}`).toBe('');
          expect(r.status, `line ${b.line}`).toBe(0);
          expect(r.stdout.length).toBeGreaterThan(0);
        }
        ran++;
      } else if (b.lang === 'sql') {
        const r = cli(['query', '--sql-file', '-'], { cwd: tmp, input: b.text });
        expect(r.stderr, `line ${b.line}`).toBe('');
        expect(r.status, `line ${b.line}`).toBe(0);
        expect(r.stdout).toMatch(/(\d+ rows?|more follow[^\n]*)\n$/);
        ran++;
      }
    }
    expect(ran).toBeGreaterThan(20);
    expect(failures).toBeGreaterThanOrEqual(10);
  });
});
