/**
 * The formula screen from Parquet with every matching bar (issue 9): barstream's `Engine.screen`
 * vs Polars (lazy scan_parquet, rolling means over symbol), DuckDB SQL window functions and pandas
 * (one DataFrame per symbol on a process pool), each in its own process. Every tool's matches are
 * checked against the reference of `peers/screen.ts` (kernels.sma + the spec's rules) before any
 * ratio: the same (symbol, ts) set and every carried value within 1e-9 * max(1, |reference|).
 */
import { listDataFiles } from '../datasets/layout.js';
import { barstream, Context, Report, Row, row, runPython, sizeLabel } from './peers/harness.js';
import { referenceMatches, reportMatches, SCREEN_FORMULA, screenAgreement } from './peers/screen.js';

/** The agreement columns of a screen row, from a tool's matches against the reference. */
function agreement(ref: Awaited<ReturnType<typeof referenceMatches>>, r: Report): Partial<Row> {
  const a = screenAgreement(ref.matches, reportMatches(r), r.seen ? new Set(r.seen) : undefined);
  const same = a.missing === 0 && a.extra === 0;
  const notes = same ? [] : [`matches differ from the reference: ${a.missing} missing, ${a.extra} extra (${a.examples.join('; ')})`];
  return { maxAbsDiff: same ? a.maxRelDiff : Infinity, relative: true, agreement: same && a.maxRelDiff <= 1e-9 ? 'agrees' : 'disagrees', notes };
}

/**
 * Rows of the screen at one size: barstream, then each peer with its ratio. `pandasMaxBars`: the
 * pandas pool is timed on the first files holding about this many bars and scaled per bar.
 */
export async function compare(ctx: Context, dataset: string, symbols: number, bars: number, pandasMaxBars: number): Promise<Row[]> {
  const ref = await referenceMatches(dataset);
  const task = `screen-${sizeLabel(symbols, bars)}`;
  const total = symbols * bars;
  const bs = await barstream(ctx, 'screen', { dataset, formula: SCREEN_FORMULA, values: ['s50', 'f', 's', 'v'] });
  const b = row(task, bs, bs.times as number[], symbols, total, { ratio: 1, ...agreement(ref, bs) });
  b.notes = [...b.notes, ...bs.notes];
  if (b.agreement !== 'agrees') ctx.log(`  barstream's screen DISAGREES with the reference: ${b.notes.join('; ')}`);
  const rows: Row[] = [b];
  const files = (await listDataFiles(dataset)).length;
  const pandasFiles = Math.min(files, Math.max(ctx.threads, Math.ceil((files * pandasMaxBars) / total)));
  const peers: [string, string, Record<string, unknown>][] = [
    ['polars_screen', 'polars', {}],
    ['duckdb_screen', 'duckdb', {}],
    ['pandas_screen', 'pandas', { files: pandasFiles }],
  ];
  for (const [script, name, cfg] of peers) {
    const r = await runPython(ctx, script, `${name}-screen-${symbols}`, { dataset, ...cfg });
    const scale = total / (r.bars ?? total);
    const p = row(task, r, (r.times as number[]).map((t) => t * scale), symbols, total, agreement(ref, r));
    p.notes = [...p.notes, ...r.notes, `${r.matches} matches; every matching bar with close, volume and the four named values`];
    if (scale > 1.0001) {
      p.tool = `${name} (extrapolated)`;
      p.notes.push(`timed on ${r.bars} of ${total} bars (the first ${pandasFiles} of ${files} files), scaled x${scale.toFixed(2)} per bar; peak RSS is of that subset`);
    }
    p.ratio = p.median / b.median;
    rows.push(p);
  }
  return rows;
}
