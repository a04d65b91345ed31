/**
 * What a job reads: one or more inputs, each a canonical dataset folder, a folder of other
 * Parquet files, a Parquet file or a glob (DuckDB's glob syntax, `**` included).
 * Canonical datasets are read bucket by bucket without a sort; any other Parquet (which must
 * have the canonical columns) is read as one partition sorted by DuckDB, which spills to
 * disk when it must. Inputs must not overlap: no file may be reached through two inputs.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { BarstreamError, invalidParam } from '../engine/errors.js';
import { literal } from '../engine/sql.js';
import { globRoot, isPrivateBelow, quarantineOwner, readDatasetMeta } from './dataset-info.js';
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
  info?: { symbols: number; rows: number; rejectedRows: number; noVolume?: string[] };
}

function readInfo(dataset: string): Sources['info'] {
  const m = readDatasetMeta(dataset);
  // `volume: false`: ingested from a source without volume (its volume is NULL).
  const noVolume = m?.volume === false ? [resolve(dataset)] : [];
  return m && { symbols: Number(m.symbols) || 0, rows: Number(m.rows) || 0, rejectedRows: Number(m.counts?.rejected) || 0, noVolume };
}

/**
 * Files a glob or folder matches, in DuckDB's (sorted) order, less those below `root` whose
 * path passes through a `_` or `.` entry (the Hive/Spark rule: `_rejected/`, `_SUCCESS`, `.tmp`).
 */
async function globFiles(pattern: string, root: string): Promise<{ files: string[]; privates: number }> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const rows = (await conn.runAndReadAll(`SELECT file FROM glob(${literal(pattern)})`)).getRowObjects();
    const all = rows.map((r) => resolve(String(r.file)));
    const files = all.filter((f) => !isPrivateBelow(root, f));
    return { files, privates: all.length - files.length };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/**
 * A canonical dataset is a folder with `bucket=<k>` folders, or one holding a barstream
 * `metadata.json` (a dataset whose rows were all rejected has no bucket folder).
 */
function isCanonical(dir: string): boolean {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return false;
  return readdirSync(dir).some((n) => /^bucket=\d+$/.test(n)) || readDatasetMeta(dir) !== undefined;
}

/** One input resolved: the folder it names (a dataset or a folder of Parquet) and its files. */
interface Resolved {
  input: string;
  folder?: string;
  files: string[];
}

const real = (p: string): string => {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
};

/**
 * Refuses inputs that reach the same file: the same folder twice, a folder inside another,
 * or a file reached through two inputs (naming both inputs).
 */
function checkDisjoint(all: Resolved[]): void {
  for (const [j, b] of all.entries()) {
    for (const a of all.slice(0, j)) {
      if (!a.folder || !b.folder) continue;
      const [fa, fb] = [real(a.folder), real(b.folder)];
      if (fa === fb) throw invalidParam(`inputs ${a.input} and ${b.input} are the same folder (${fa}); give each input once`);
      for (const [outer, inner, fo, fi] of [[a, b, fa, fb], [b, a, fb, fa]] as const) {
        if (fi.startsWith(fo + sep)) throw invalidParam(`input ${inner.input} is inside input ${outer.input}; inputs must not overlap`);
      }
    }
  }
  const seen = new Map<string, string>();
  for (const r of all) {
    for (const f of new Set(r.files.map(real))) {
      const other = seen.get(f);
      if (other !== undefined) throw invalidParam(`inputs ${other} and ${r.input} both reach ${f}; inputs must not overlap`);
      seen.set(f, r.input);
    }
  }
}

/**
 * Resolves the inputs of a job into their files and partitions. Canonical datasets are read
 * bucket by bucket; folders and globs skip `_` and `.` entries; quarantined rows
 * (`<dataset>/_rejected/`) are refused even when named; a dataset with no bars, an input
 * matching nothing and inputs that overlap (the same file reached twice) throw, naming them.
 */
export async function resolveSources(inputs: string | string[]): Promise<Sources> {
  const list = (Array.isArray(inputs) ? inputs : [inputs]).map((i) => i.trim()).filter((i) => i !== '');
  if (list.length === 0) throw invalidParam('give at least one dataset folder, Parquet file or glob');
  const files: SourceFile[] = [];
  const infos: Sources['info'][] = [];
  const all: Resolved[] = [];
  for (const [i, input] of list.entries()) {
    const abs = resolve(input);
    if (isCanonical(abs)) {
      const found = await listDataFiles(abs);
      for (const f of found) files.push({ ...f, key: `${i}/${f.bucket}`, unordered: false, input: i });
      all.push({ input, folder: abs, files: found.map((f) => f.path) });
      infos.push(readInfo(abs));
      continue;
    }
    const isGlob = /[*?[]/.test(input);
    if (!isGlob && !existsSync(abs)) throw new BarstreamError('BARSTREAM_IO', `dataset ${input} does not exist`);
    const isFolder = !isGlob && statSync(abs).isDirectory();
    const pattern = isFolder ? join(abs, '**', '*.parquet') : abs;
    const { files: matched, privates } = await globFiles(pattern, isGlob ? globRoot(abs) : abs);
    if (matched.length === 0) {
      const note = privates > 0 ? ` (${privates} file(s) under names starting with _ or . are not read)` : '';
      throw new BarstreamError('BARSTREAM_IO', `${input} ${isGlob ? 'matches no file' : 'holds no Parquet files'}${note}`);
    }
    for (const path of matched) {
      const owner = quarantineOwner(path);
      if (owner) throw new BarstreamError('BARSTREAM_BAD_INPUT', `${path} holds the rows rejected at ingest of dataset ${owner}, not bars`);
      files.push({ path, bucket: 0, part: 0, key: 'unordered', unordered: true, input: i });
    }
    all.push({ input, folder: isFolder ? abs : undefined, files: matched });
    infos.push(undefined);
  }
  checkDisjoint(all);
  const info = infos.every((x) => x !== undefined)
    ? infos.reduce(
        (a, b) => ({
          symbols: a!.symbols + b!.symbols,
          rows: a!.rows + b!.rows,
          rejectedRows: a!.rejectedRows + b!.rejectedRows,
          noVolume: [...(a!.noVolume ?? []), ...(b!.noVolume ?? [])],
        }),
        { symbols: 0, rows: 0, rejectedRows: 0, noVolume: [] as string[] },
      )
    : undefined;
  return { inputs: all.map((r) => resolve(r.input)), files, info };
}
