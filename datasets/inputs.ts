/**
 * What a job reads: one or more inputs, each a canonical dataset folder, a folder of other
 * Parquet files, a Parquet file or a glob (DuckDB's glob syntax, `**` included).
 * Canonical datasets are read bucket by bucket without a sort; any other Parquet (which must
 * have the canonical columns) is read as one partition sorted by DuckDB, which spills to
 * disk when it must.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BarstreamError, invalidParam } from '../engine/errors.js';
import { literal } from '../engine/sql.js';
import { DataFile, listDataFiles } from './layout.js';

/** A file of the job and the partition it belongs to. */
export interface SourceFile extends DataFile {
  /** Files with the same key form one partition. */
  key: string;
  /** True for files outside a canonical layout: their partition is sorted by DuckDB. */
  unordered: boolean;
  /** Which input (index into `Sources.inputs`) the file came from. */
  input: number;
}

export interface Sources {
  /** The inputs as given, resolved. */
  inputs: string[];
  files: SourceFile[];
  /** Summed from the canonical datasets' `metadata.json` (undefined when any input has none). */
  info?: { symbols: number; rows: number; rejectedRows: number };
}

async function readInfo(dataset: string): Promise<Sources['info']> {
  try {
    const m = JSON.parse(await readFile(join(dataset, 'metadata.json'), 'utf8'));
    return { symbols: Number(m.symbols) || 0, rows: Number(m.rows) || 0, rejectedRows: Number(m.counts?.rejected) || 0 };
  } catch {
    return undefined;
  }
}

/** Files a glob or folder matches, in DuckDB's (sorted) order. */
async function globFiles(pattern: string): Promise<string[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const rows = (await conn.runAndReadAll(`SELECT file FROM glob(${literal(pattern)})`)).getRowObjects();
    return rows.map((r) => String(r.file)).filter((f) => !/(^|\/)\./.test(f.slice(f.lastIndexOf('/'))));
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** A canonical dataset is a folder with `bucket=<k>` folders. */
function isCanonical(dir: string): boolean {
  return existsSync(dir) && statSync(dir).isDirectory() && readdirSync(dir).some((n) => /^bucket=\d+$/.test(n));
}

export async function resolveSources(inputs: string | string[]): Promise<Sources> {
  const list = (Array.isArray(inputs) ? inputs : [inputs]).map((i) => i.trim()).filter((i) => i !== '');
  if (list.length === 0) throw invalidParam('give at least one dataset folder, Parquet file or glob');
  const files: SourceFile[] = [];
  const infos: Sources['info'][] = [];
  const resolved: string[] = [];
  for (const [i, input] of list.entries()) {
    const abs = resolve(input);
    resolved.push(abs);
    if (isCanonical(abs)) {
      for (const f of await listDataFiles(abs)) files.push({ ...f, key: `${i}/${f.bucket}`, unordered: false, input: i });
      infos.push(await readInfo(abs));
      continue;
    }
    const isGlob = /[*?[]/.test(input);
    if (!isGlob && !existsSync(abs)) throw new BarstreamError('BARSTREAM_IO', `dataset ${input} does not exist`);
    const pattern = !isGlob && statSync(abs).isDirectory() ? join(abs, '**', '*.parquet') : abs;
    const matched = await globFiles(pattern);
    if (matched.length === 0) {
      throw new BarstreamError('BARSTREAM_IO', isGlob ? `${input} matches no file` : `${input} holds no Parquet files`);
    }
    for (const path of matched) files.push({ path, bucket: 0, part: 0, key: 'unordered', unordered: true, input: i });
    infos.push(undefined);
  }
  const info = infos.every((x) => x !== undefined)
    ? infos.reduce((a, b) => ({ symbols: a!.symbols + b!.symbols, rows: a!.rows + b!.rows, rejectedRows: a!.rejectedRows + b!.rejectedRows }), { symbols: 0, rows: 0, rejectedRows: 0 })
    : undefined;
  return { inputs: resolved, files, info };
}
