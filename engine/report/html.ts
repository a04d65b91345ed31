/**
 * The report as one self-contained HTML page: the Vega, Vega-Lite and Vega-Embed builds
 * (read from `node_modules` at run time) inlined, every chart's rows embedded once as JSON,
 * the tables rendered here as HTML and made sortable by a few lines of inline script. The
 * page loads nothing: it opens from disk without a network.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BarstreamError } from '../errors.js';
import type { ReportData, ReportTable, Row } from './data.js';
import type { Chart } from './specs.js';

/** The minified browser build of an npm package (its `unpkg` or `jsdelivr` file). */
function browserBuild(name: string): string {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch (e) {
    throw new BarstreamError('BARSTREAM_IO', `the report needs the npm package ${name}: ${(e as Error).message.split('\n')[0]}`);
  }
  // The package's exports hide package.json: find it above the resolved entry.
  let dir = dirname(entry);
  while (!existsSync(join(dir, 'package.json')) || JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== name) {
    const up = dirname(dir);
    if (up === dir) throw new BarstreamError('BARSTREAM_IO', `cannot find the package.json of ${name} above ${entry}`);
    dir = up;
  }
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const file = pkg.unpkg ?? pkg.jsdelivr;
  if (typeof file !== 'string') throw new BarstreamError('BARSTREAM_IO', `${name}'s package.json names no browser build (unpkg)`);
  return readFileSync(join(dir, file), 'utf8');
}

/** Script text safe inside `<script>`: no closing tag, and no source map the browser would fetch. */
function inlineScript(js: string): string {
  return js.replace(/^\/\/# sourceMappingURL=.*$/gm, '').replace(/<\/script/gi, '<\\/script');
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function cell(v: Row[string]): string {
  if (v === null) return '<td></td>';
  if (typeof v === 'number') return `<td class="n">${v}</td>`;
  return `<td>${escapeHtml(String(v))}</td>`;
}

function tableHtml(t: ReportTable): string {
  const head = t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = t.rows.map((r) => `<tr>${t.columns.map((c) => cell(r[c] ?? null)).join('')}</tr>`).join('\n');
  return `<section class="table"><h2>${escapeHtml(t.title)}</h2><p class="note">${escapeHtml(t.caption)}; click a column to sort</p>
<div class="scroll"><table id="table-${t.id}" class="sortable"><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table></div></section>`;
}

/** The manifest's fields as a definition list; objects (parameters, counts) as `key: value` lines. */
function manifestHtml(m: Record<string, unknown>): string {
  const value = (v: unknown): string => {
    if (v !== null && typeof v === 'object') {
      return Object.entries(v as Record<string, unknown>)
        .map(([k, x]) => `${escapeHtml(k)}: ${x !== null && typeof x === 'object' ? escapeHtml(JSON.stringify(x)) : escapeHtml(String(x))}`)
        .join('<br>');
    }
    const s = String(v);
    return s.includes('\n') ? `<pre>${escapeHtml(s)}</pre>` : escapeHtml(s);
  };
  return `<dl id="manifest">${Object.entries(m)
    .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${value(v)}</dd>`)
    .join('')}</dl>`;
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1100px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin: 28px 0 6px; }
.note { color: #666; font-size: 12px; margin: 2px 0 8px; }
dl#manifest { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; font-size: 13px; }
dt { font-weight: 600; } dd { margin: 0; } pre { margin: 0; white-space: pre-wrap; }
figure { margin: 18px 0; } .charts { display: flex; flex-wrap: wrap; gap: 8px 32px; }
.scroll { max-height: 480px; overflow: auto; border: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 12px; } th, td { padding: 2px 8px; border-bottom: 1px solid #eee; white-space: nowrap; }
th { position: sticky; top: 0; background: #f4f4f4; cursor: pointer; text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
th.asc::after { content: ' \\25B2'; } th.desc::after { content: ' \\25BC'; }
#report-errors { color: #b00; }
`;

/** Draws each chart (SVG), makes the tables sortable; `window.reportReady` settles when every chart is drawn. */
const PAGE_SCRIPT = `
const report = JSON.parse(document.getElementById('report-data').textContent);
const failed = (id, e) => { document.getElementById('report-errors').textContent += 'chart ' + id + ': ' + e + '\\n'; throw e; };
window.reportReady = Promise.all(report.charts.map((c) => {
  const spec = Object.assign({}, c.spec, { datasets: { [c.dataset]: report.datasets[c.dataset] } });
  return vegaEmbed('#chart-' + c.id, spec, { renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false } }).catch((e) => failed(c.id, e));
}));
for (const table of document.querySelectorAll('table.sortable')) {
  table.querySelectorAll('th').forEach((th, col) => th.addEventListener('click', () => {
    const desc = th.classList.contains('asc');
    table.querySelectorAll('th').forEach((h) => h.classList.remove('asc', 'desc'));
    th.classList.add(desc ? 'desc' : 'asc');
    const key = (tr) => { const td = tr.children[col]; return td.textContent === '' ? null : td.className === 'n' ? Number(td.textContent) : td.textContent; };
    const rows = [...table.tBodies[0].rows].map((tr) => [key(tr), tr]);
    rows.sort(([a], [b]) => (a === null) - (b === null) || (a < b ? -1 : a > b ? 1 : 0) * (desc ? -1 : 1));
    table.tBodies[0].append(...rows.map(([, tr]) => tr));
  }));
}
`;

/** The whole page. */
export function reportHtml(data: ReportData, charts: Chart[]): string {
  const libs = ['vega', 'vega-lite', 'vega-embed'].map((n) => `<script>${inlineScript(browserBuild(n))}</script>`).join('\n');
  const payload = { datasets: data.datasets, charts: charts.map((c) => ({ id: c.id, dataset: c.dataset, spec: c.spec })) };
  // `<` escaped so no text in the data can close the script element
  const json = JSON.stringify(payload).replace(/</g, '\\u003c');
  const title = `barstream ${data.kind} report: ${data.results}`;
  const figures = charts
    .map((c) => `<figure><div id="chart-${c.id}" class="chart"></div><figcaption class="note">${escapeHtml(data.notes[c.dataset] ?? '')}</figcaption></figure>`)
    .join('\n');
  const restricted = data.symbols ? `<p class="note">restricted to ${data.symbols.length} symbols: ${escapeHtml(data.symbols.join(', '))}</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="generator" content="barstream report">
<style>${STYLE}</style>
${libs}
</head><body>
<h1>barstream ${data.kind} report</h1>
<p class="note">${escapeHtml(data.results)}</p>${restricted}
<pre id="report-errors"></pre>
<h2>Run</h2>
${manifestHtml(data.manifest)}
<h2>Charts</h2>
${charts.length === 0 ? '<p class="note">no rows to chart</p>' : `<div class="charts">${figures}</div>`}
${data.tables.map(tableHtml).join('\n')}
<script type="application/json" id="report-data">${json}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}
