/**
 * The rule backtest through the CLI (issue 9): `barstream backtest --formula RULES --out DIR` over
 * a Parquet dataset, time and peak RSS of the whole process as a user runs it, beside the ATC
 * backtest (`barstream backtest --out DIR`, no formula) on the same data in the same run.
 *
 * Agreement before timing: on a sample of symbols, the formula backtest's `f`, `s`, `entry`, `exit`
 * and `position` columns are checked against the rule written again here from `kernels.sma` and the spec's
 * strategy rule (positions one bar late).
 */
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { kernels } from '../engine/kernels.js';
import { literal } from '../engine/sql.js';
import { Context, Report, Row, row, runPython, root, sizeLabel } from './peers/harness.js';
import { RULE_FORMULA } from './peers/screen.js';

/** Runs `barstream backtest` (the built CLI) through bench/peers/cli_run.py. */
function cli(ctx: Context, name: string, dataset: string, extra: string[]): Promise<Report> {
  const out = join(ctx.tmp, `${name}-out`);
  const command = [process.execPath, join(root, 'dist', 'engine', 'cli', 'main.js'), 'backtest', '--data', dataset, '--out', out, '--threads', String(ctx.threads), '--json', ...extra];
  return runPython(ctx, 'cli_run', name, { command, out, tool: name }).then((r) => ({ ...r, outputs: { out } }));
}

/** The columns of the formula backtest that {@link ruleAgreement} checks, in this order. */
const CHECKED = ['f', 's', 'entry', 'exit', 'position'] as const;

/**
 * The spec's strategy rule for `RULE_FORMULA` on one symbol's closes: f, s, entry, exit (1/0/NaN)
 * and the position per bar (0 at bar 0, then the target after the bar before: one bar late).
 */
export function ruleReference(close: Float64Array): Record<(typeof CHECKED)[number], Float64Array> {
  const f = kernels.sma(close, 10);
  const s = kernels.sma(close, 30);
  const n = close.length;
  const entry = new Float64Array(n).fill(NaN);
  const exit = new Float64Array(n).fill(NaN);
  const position = new Float64Array(n);
  let T = 0;
  for (let i = 0; i < n; i++) {
    // The crossings: NaN where i = 0 or any of the four values is NaN.
    if (i > 0 && ![f[i], s[i], f[i - 1], s[i - 1]].some(Number.isNaN)) {
      entry[i] = f[i] > s[i] && f[i - 1] <= s[i - 1] ? 1 : 0;
      exit[i] = f[i] < s[i] && f[i - 1] >= s[i - 1] ? 1 : 0;
    }
    // The strategy rule, NaN counting as not true (long only: no short rules).
    if (entry[i] === 1 && exit[i] !== 1) T = 1;
    else if (T === 1 && exit[i] === 1) T = 0;
    if (i + 1 < n) position[i + 1] = T;
  }
  return { f, s, entry, exit, position };
}

/**
 * Max relative difference of `f`, `s`, `entry`, `exit` and `position` between the backtest output and
 * {@link ruleReference}, over every `every`-th symbol; Infinity when the rows or NaN places differ.
 */
export async function ruleAgreement(out: string, every: number): Promise<{ maxRelDiff: number; symbols: number; note?: string }> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const src = `read_parquet(${literal(join(out, 'signals', '**', '*.parquet'))})`;
    const sql = `WITH s AS (SELECT DISTINCT symbol FROM ${src}), k AS (SELECT symbol FROM (SELECT symbol, row_number() OVER (ORDER BY symbol) - 1 AS r FROM s) WHERE r % ${every} = 0)
      SELECT symbol, close, ${CHECKED.join(', ')} FROM ${src} WHERE symbol IN (SELECT symbol FROM k) ORDER BY symbol, ts`;
    const rows = (await conn.runAndReadAll(sql)).getRows();
    const bySymbol = new Map<string, number[][]>();
    for (const r of rows) {
      const k = String(r[0]);
      if (!bySymbol.has(k)) bySymbol.set(k, []);
      bySymbol.get(k)!.push(r.slice(1).map((v) => (v === null ? NaN : Number(v))));
    }
    let worst = 0;
    for (const [symbol, rs] of bySymbol) {
      const want = ruleReference(Float64Array.from(rs, (r) => r[0]));
      for (let i = 0; i < rs.length; i++) {
        for (let c = 0; c < CHECKED.length; c++) {
          const w = want[CHECKED[c]][i];
          const g = rs[i][c + 1];
          if (Number.isNaN(w) !== Number.isNaN(g)) return { maxRelDiff: Infinity, symbols: bySymbol.size, note: `${symbol} bar ${i}: ${CHECKED[c]} is ${g}, the rule gives ${w}` };
          if (!Number.isNaN(w)) worst = Math.max(worst, Math.abs(w - g) / Math.max(1, Math.abs(w)));
        }
      }
    }
    return { maxRelDiff: worst, symbols: bySymbol.size };
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** Rows of the rule backtest at one size: the formula backtest (barstream) and the ATC backtest beside it. */
export async function compare(ctx: Context, dataset: string, symbols: number, bars: number): Promise<Row[]> {
  const task = `rules-${sizeLabel(symbols, bars)}`;
  const total = symbols * bars;
  const f = await cli(ctx, 'rules', dataset, ['--formula', RULE_FORMULA]);
  const every = Math.max(1, Math.floor(symbols / 100));
  const a = await ruleAgreement(f.outputs.out, every);
  const b = row(task, { ...f, tool: 'barstream' }, f.times as number[], symbols, total, {
    ratio: 1,
    maxAbsDiff: a.maxRelDiff,
    relative: true,
    agreement: a.maxRelDiff <= 1e-9 ? 'agrees' : 'disagrees',
    notes: [`barstream backtest --formula (rules: ${RULE_FORMULA.replace(/\n/g, '; ')}) --out, the whole CLI process; checked against the rule on ${a.symbols} symbols${a.note ? ` (${a.note})` : ''}`],
  });
  const atc = await cli(ctx, 'atc-backtest', dataset, []);
  const p = row(task, { ...atc, tool: 'barstream ATC backtest' }, atc.times as number[], symbols, total, {
    agreement: 'reference',
    notes: ['barstream backtest --out (the ATC, default parameters) on the same data: the in-run reference'],
  });
  p.ratio = p.median / b.median;
  return [b, p];
}
