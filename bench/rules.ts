/**
 * The rule backtest through the CLI (issue 9): `barstream backtest --formula RULES --out DIR` over
 * a Parquet dataset, time and peak RSS of the whole process as a user runs it, beside the ATC
 * backtest (`barstream backtest --out DIR`, no formula) on the same data in the same run.
 *
 * Agreement before timing: on a sample of symbols, the formula backtest's `f`, `s` and `position`
 * columns are checked against the rule written again here from `kernels.sma` and the spec's
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

/** The spec's strategy rule for `RULE_FORMULA` on one symbol's closes: f, s and the position per bar. */
export function ruleReference(close: Float64Array): { f: Float64Array; s: Float64Array; position: Float64Array } {
  const f = kernels.sma(close, 10);
  const s = kernels.sma(close, 30);
  const position = new Float64Array(close.length);
  let T = 0;
  for (let i = 0; i < close.length; i++) {
    // crosses_above / crosses_below, NaN (not true) where any of the four values is NaN.
    const entry = i > 0 && f[i] > s[i] && f[i - 1] <= s[i - 1];
    const exit = i > 0 && f[i] < s[i] && f[i - 1] >= s[i - 1];
    if (entry && !exit) T = 1;
    else if (T === 1 && exit) T = 0;
    if (i + 1 < close.length) position[i + 1] = T;
  }
  return { f, s, position };
}

/**
 * Max relative difference of `f`, `s` and `position` between the backtest output and
 * {@link ruleReference}, over every `every`-th symbol; Infinity when the rows or NaN places differ.
 */
export async function ruleAgreement(out: string, every: number): Promise<{ maxRelDiff: number; symbols: number; note?: string }> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const src = `read_parquet(${literal(join(out, 'signals', '**', '*.parquet'))})`;
    const sql = `WITH s AS (SELECT DISTINCT symbol FROM ${src}), k AS (SELECT symbol FROM (SELECT symbol, row_number() OVER (ORDER BY symbol) - 1 AS r FROM s) WHERE r % ${every} = 0)
      SELECT symbol, close, f, s, position FROM ${src} WHERE symbol IN (SELECT symbol FROM k) ORDER BY symbol, ts`;
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
        const pairs: [number, number][] = [[want.f[i], rs[i][1]], [want.s[i], rs[i][2]], [want.position[i], rs[i][3]]];
        for (const [w, g] of pairs) {
          if (Number.isNaN(w) !== Number.isNaN(g)) return { maxRelDiff: Infinity, symbols: bySymbol.size, note: `${symbol} bar ${i}: NaN places differ` };
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
