/** The scaling plot: median seconds vs number of symbols per tool, ATC in memory, scan and formula screen from Parquet (vega-lite -> SVG -> PNG, no browser). */
import { writeFileSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { Row } from './peers/harness.js';

const TITLES: Record<string, string> = { atc: 'ATC, in-memory series', scan: 'scan from Parquet (end to end)', screen: 'formula screen --all from Parquet' };

export async function plot(rows: Row[], path: string, title: string): Promise<void> {
  const values = rows
    .filter((r) => r.symbols > 1 && /^(atc|scan|screen)-/.test(r.task))
    .map((r) => ({ symbols: r.symbols, seconds: r.median, tool: r.tool.replace(' (extrapolated)', ''), task: TITLES[r.task.slice(0, r.task.indexOf('-'))] }));
  const spec: vl.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values },
    facet: { column: { field: 'task', type: 'nominal', title: null } },
    spec: {
      width: 360,
      height: 280,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'symbols', type: 'quantitative', scale: { type: 'log' }, title: 'symbols' },
        y: { field: 'seconds', type: 'quantitative', scale: { type: 'log' }, title: 'median seconds (log)' },
        color: { field: 'tool', type: 'nominal' },
      },
    },
    config: { background: 'white' },
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  writeFileSync(path, new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true } }).render().asPng());
}
