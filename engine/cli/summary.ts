/** The summary a backtest prints: aggregate performance and the best and worst symbols, shaped with arquero. */
import * as aq from 'arquero';
import { op } from 'arquero';
import { query } from '../query.js';
import { table } from './common.js';

const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '-');
const num = (x: number) => (Number.isFinite(x) ? Number(x.toFixed(2)) : '-');

export async function backtestSummary(results: string, top = 5): Promise<string> {
  const arrow = await query('SELECT symbol, total_return, cagr, sharpe, max_drawdown, trades::DOUBLE AS trades, win_rate, exposure FROM summary', { results });
  if (arrow.numRows === 0) return 'no symbol has a summary (all skipped or failed)';
  const dt = aq.fromArrow(arrow as unknown as Uint8Array);
  const agg = dt
    .rollup({
      symbols: op.count(),
      median_return: op.median('total_return'),
      median_cagr: op.median('cagr'),
      median_sharpe: op.median('sharpe'),
      median_drawdown: op.median('max_drawdown'),
      mean_trades: op.mean('trades'),
      median_win_rate: op.median('win_rate'),
      mean_exposure: op.mean('exposure'),
    } as never)
    .object() as Record<string, number>;
  const ranked = dt.filter((d: { sharpe: number }) => op.is_finite(d.sharpe)).orderby(aq.desc('sharpe'));
  const rows = (t: aq.ColumnTable) =>
    (t.objects() as Record<string, number & string>[]).map((r) => [r.symbol, pct(r.total_return), pct(r.cagr), num(r.sharpe), pct(r.max_drawdown), r.trades]);
  const head = ['symbol', 'total', 'CAGR', 'Sharpe', 'max DD', 'trades'];
  const n = ranked.numRows();
  return [
    `across ${agg.symbols} symbols: median total return ${pct(agg.median_return)}, median CAGR ${pct(agg.median_cagr)}, ` +
      `median Sharpe ${num(agg.median_sharpe)}, median max drawdown ${pct(agg.median_drawdown)}, ` +
      `${num(agg.mean_trades)} trades and ${pct(agg.mean_exposure)} exposure on average, median win rate ${pct(agg.median_win_rate)}`,
    '',
    `best ${Math.min(top, n)} by Sharpe`,
    table(head, rows(ranked.slice(0, top))),
    '',
    `worst ${Math.min(top, n)} by Sharpe`,
    table(head, rows(ranked.slice(Math.max(0, n - top)).orderby('sharpe'))),
  ].join('\n');
}
