/**
 * The report's charts as Vega-Lite specs. Each names its rows (`data: { name }`) instead of
 * holding them, so the page embeds every dataset once and `withData` joins them for the PNGs.
 */
import type { ReportData, Row } from './data.js';

export interface Chart {
  /** File name of its PNG (`<id>.png`) and element id in the page. */
  id: string;
  title: string;
  /** The dataset the chart draws (a key of `ReportData.datasets`). */
  dataset: string;
  spec: Record<string, unknown>;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const WIDTH = 640;
const utc = { type: 'utc' } as const;

function chart(id: string, title: string, dataset: string, body: Record<string, unknown>): Chart {
  return { id, title, dataset, spec: { $schema: SCHEMA, title, data: { name: dataset }, ...body } };
}

/** Two series of one row as `series`/`value` rows (for a legend), labelled. */
function fold(labels: Record<string, string>) {
  return [
    { fold: Object.keys(labels), as: ['key', 'value'] },
    { calculate: `${JSON.stringify(labels)}[datum.key]`, as: 'series' },
  ];
}

function backtestCharts(shown: Record<'best' | 'worst', number>): Chart[] {
  const curves = (side: 'best' | 'worst') =>
    chart(side, `${side === 'best' ? 'Best' : 'Worst'} ${shown[side]} symbols by total return: strategy equity and price`, side, {
      transform: fold({ strategy: 'strategy equity', price: 'price' }),
      facet: { field: 'symbol', type: 'nominal', title: null, sort: { field: 'rank', op: 'min' } },
      columns: 5,
      spec: {
        width: 150,
        height: 90,
        mark: { type: 'line', strokeWidth: 1.2 },
        encoding: {
          x: { field: 'ts', type: 'temporal', scale: utc, title: null, axis: { format: '%Y', labelAngle: 0, tickCount: 3 } },
          y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
          color: { field: 'series', type: 'nominal', title: null, scale: { domain: ['strategy equity', 'price'], range: ['#1f77b4', '#aaaaaa'] } },
        },
      },
      resolve: { scale: { y: 'independent' } },
    });
  const hist = (column: string, title: string, format: string) =>
    chart(`hist_${column}`, title, `hist_${column}`, {
      width: 300,
      height: 200,
      mark: { type: 'bar', color: '#4c78a8' },
      encoding: {
        x: { field: 'start', type: 'quantitative', bin: 'binned', title: column, axis: { format } },
        x2: { field: 'stop' },
        y: { field: 'count', type: 'quantitative', title: 'symbols' },
        tooltip: [
          { field: 'start', type: 'quantitative', format: '.4f' },
          { field: 'stop', type: 'quantitative', format: '.4f' },
          { field: 'count', type: 'quantitative' },
        ],
      },
    });
  return [
    chart('equity', 'Equal-weight portfolio: strategy against buy and hold', 'portfolio', {
      width: WIDTH,
      height: 260,
      transform: fold({ equity: 'strategy', hold_equity: 'buy and hold' }),
      mark: { type: 'line', strokeWidth: 1.5 },
      encoding: {
        x: { field: 'date', type: 'temporal', scale: utc, title: null },
        y: { field: 'value', type: 'quantitative', title: 'equity (starts at 1)', scale: { zero: false } },
        color: { field: 'series', type: 'nominal', title: null },
        tooltip: [{ field: 'date', type: 'temporal', scale: utc, format: '%Y-%m-%d' }, { field: 'series' }, { field: 'value', type: 'quantitative', format: '.4f' }],
      },
    }),
    chart('drawdown', 'Portfolio drawdown', 'portfolio', {
      width: WIDTH,
      height: 140,
      mark: { type: 'area', color: '#d62728', opacity: 0.6, line: { color: '#d62728' } },
      encoding: {
        x: { field: 'date', type: 'temporal', scale: utc, title: null },
        y: { field: 'drawdown', type: 'quantitative', title: 'below peak', axis: { format: '%' } },
        tooltip: [{ field: 'date', type: 'temporal', scale: utc, format: '%Y-%m-%d' }, { field: 'drawdown', type: 'quantitative', format: '.2%' }],
      },
    }),
    chart('positions', 'Symbols long, short and flat', 'portfolio', {
      width: WIDTH,
      height: 160,
      transform: fold({ long: 'long', short: 'short', flat: 'flat' }),
      mark: { type: 'area' },
      encoding: {
        x: { field: 'date', type: 'temporal', scale: utc, title: null },
        y: { field: 'value', type: 'quantitative', stack: 'zero', title: 'symbols' },
        color: { field: 'series', type: 'nominal', title: null, scale: { domain: ['long', 'short', 'flat'], range: ['#2ca02c', '#d62728', '#cccccc'] } },
        tooltip: [{ field: 'date', type: 'temporal', scale: utc, format: '%Y-%m-%d' }, { field: 'series' }, { field: 'value', type: 'quantitative' }],
      },
    }),
    hist('total_return', 'Total return per symbol', '.0%'),
    hist('sharpe', 'Sharpe ratio per symbol', '.2f'),
    chart('scatter', 'Total return against max drawdown, one point per symbol', 'symbols', {
      width: WIDTH,
      height: 300,
      mark: { type: 'point', filled: true, size: 18, opacity: 0.6 },
      encoding: {
        x: { field: 'max_drawdown', type: 'quantitative', title: 'max drawdown', axis: { format: '%' } },
        y: { field: 'total_return', type: 'quantitative', title: 'total return', axis: { format: '%' } },
        tooltip: [
          { field: 'symbol', type: 'nominal' },
          { field: 'total_return', type: 'quantitative', format: '.2%' },
          { field: 'max_drawdown', type: 'quantitative', format: '.2%' },
          { field: 'sharpe', type: 'quantitative', format: '.2f' },
          { field: 'trades', type: 'quantitative' },
        ],
      },
    }),
    curves('best'),
    curves('worst'),
  ];
}

function screenCharts(): Chart[] {
  return [
    chart('days', 'Matches per day', 'days', {
      width: WIDTH,
      height: 220,
      mark: { type: 'bar', color: '#4c78a8' },
      encoding: {
        x: { field: 'start', type: 'temporal', scale: utc, title: null },
        y: { field: 'matches', type: 'quantitative', title: 'matching bars' },
        tooltip: [
          { field: 'start', type: 'temporal', scale: utc, format: '%Y-%m-%d' },
          { field: 'stop', type: 'temporal', scale: utc, format: '%Y-%m-%d' },
          { field: 'matches', type: 'quantitative' },
          { field: 'days', type: 'quantitative', title: 'days in group' },
        ],
      },
    }),
    chart('often', 'Symbols matching most often', 'often', {
      width: WIDTH / 2,
      mark: { type: 'bar', color: '#4c78a8' },
      encoding: {
        y: { field: 'symbol', type: 'nominal', sort: '-x', title: null },
        x: { field: 'matches', type: 'quantitative', title: 'matching bars' },
        tooltip: [{ field: 'symbol' }, { field: 'matches', type: 'quantitative' }, { field: 'last_match', type: 'temporal', scale: utc, format: '%Y-%m-%d' }],
      },
    }),
  ];
}

/** The charts of `data` whose dataset holds rows, in page order. */
export function reportCharts(data: ReportData): Chart[] {
  const shown = (side: string) => new Set((data.datasets[side] ?? []).map((r) => r.symbol)).size;
  const all = data.kind === 'backtest' ? backtestCharts({ best: shown('best'), worst: shown('worst') }) : screenCharts();
  return all.filter((c) => (data.datasets[c.dataset]?.length ?? 0) > 0);
}

/** The chart's spec with its rows attached (`datasets`), ready for Vega-Lite. */
export function withData(c: Chart, datasets: Record<string, Row[]>): Record<string, unknown> {
  return { ...c.spec, datasets: { [c.dataset]: datasets[c.dataset] } };
}
