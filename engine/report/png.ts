/**
 * The report's charts as PNG without a browser: Vega-Lite compiles each spec, a headless
 * Vega view renders it to SVG, resvg rasterises the SVG. resvg draws text only with a font
 * it can find, so a common sans-serif font file is looked up and named as `sans-serif`.
 */
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { Row } from './data.js';
import { type Chart, withData } from './specs.js';

/** Font files resvg can use for Vega's default `sans-serif`, by family, most common first. */
const FONTS: [file: string, family: string][] = [
  ['DejaVuSans.ttf', 'DejaVu Sans'],
  ['LiberationSans-Regular.ttf', 'Liberation Sans'],
  ['Arial.ttf', 'Arial'],
  ['arial.ttf', 'Arial'],
  ['Helvetica.ttc', 'Helvetica'],
  ['NotoSans-Regular.ttf', 'Noto Sans'],
];
const FONT_DIRS = ['/usr/share/fonts', '/usr/local/share/fonts', join(homedir(), '.fonts'), '/System/Library/Fonts', '/Library/Fonts', 'C:\\Windows\\Fonts'];

/** The first of {@link FONTS} found under the usual font folders (searched 4 levels deep). */
function findFont(): { file: string; family: string } | undefined {
  const wanted = new Map(FONTS);
  const found = new Map<string, string>();
  const walk = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isFile() && wanted.has(e.name) && !found.has(e.name)) found.set(e.name, join(dir, e.name));
      else if (e.isDirectory() && depth > 0) walk(join(dir, e.name), depth - 1);
    }
  };
  for (const d of FONT_DIRS) if (existsSync(d)) walk(d, 4);
  for (const [file, family] of FONTS) if (found.has(file)) return { file: found.get(file)!, family };
  return undefined;
}

let font: { file: string; family: string } | undefined | null = null;

/** resvg's font options: the font found, else the system fonts resvg finds itself (text may then be missing). */
function fontOptions(): ResvgRenderOptions['font'] {
  if (font === null) font = findFont();
  if (!font) return { loadSystemFonts: true };
  return { loadSystemFonts: true, fontFiles: [font.file], defaultFontFamily: font.family, sansSerifFamily: font.family };
}

/** One chart as SVG text, rendered by a headless Vega view. */
export async function chartSvg(c: Chart, datasets: Record<string, Row[]>): Promise<string> {
  const view = new vega.View(vega.parse(compile(withData(c, datasets) as never).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** One chart as PNG bytes (at twice the SVG's size, white background). */
export async function chartPng(c: Chart, datasets: Record<string, Row[]>): Promise<Buffer> {
  const svg = await chartSvg(c, datasets);
  return new Resvg(svg, { font: fontOptions(), background: 'white', fitTo: { mode: 'zoom', value: 2 } }).render().asPng();
}
