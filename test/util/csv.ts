/** Writes CSV files for tests from plain values (no quoting needed for the values used). */
import { writeFile } from 'node:fs/promises';

export type Cell = string | number | null;

/** Writes `header` and `rows` as CSV; `null` becomes an empty field. */
export async function writeCsv(path: string, header: string[], rows: Cell[][]): Promise<void> {
  for (const r of rows) if (r.length !== header.length) throw new Error(`row ${JSON.stringify(r)} has ${r.length} cells, header ${header.length}`);
  const line = (cells: Cell[]) => cells.map((c) => (c === null ? '' : String(c))).join(',');
  await writeFile(path, [line(header), ...rows.map(line)].join('\n') + '\n');
}
