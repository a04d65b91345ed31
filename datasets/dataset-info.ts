/**
 * Recognising a barstream dataset folder by its `metadata.json`, and what a reader says of one
 * that holds no bars (every row rejected at ingest). Also the Hive/Spark rule that names
 * starting with `_` or `.` (`_rejected/`, `_SUCCESS`, `.tmp`) are not data when a folder or
 * glob is expanded.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';

/** The `format` of every barstream dataset's `metadata.json`. */
export const DATASET_FORMAT = 'barstream-dataset/1';

/** The parts of a dataset's `metadata.json` readers use (see `IngestMetadata`, `DatasetMetadata`). */
export interface DatasetMeta {
  format: typeof DATASET_FORMAT;
  symbols: number;
  rows: number;
  counts?: { read?: number; written?: number; rejected?: number };
  /** The quarantine file, relative to the dataset, when rows were quarantined. */
  rejected?: { path: string; rows: number } | null;
  source?: Record<string, unknown>;
  /** The dataset's files, relative to it (absent in hand-made folders). */
  files?: { path: string; rows: number }[];
  /** 0 for a fresh dataset, + 1 per append. */
  generation?: number;
  /** False when ingested from a source without volume (absent: the dataset has volume). */
  volume?: boolean;
}

/**
 * The `metadata.json` of the barstream dataset at `dir`, or undefined when `dir` holds none
 * or one that is not a barstream dataset's (unreadable, not JSON, another `format`).
 */
export function readDatasetMeta(dir: string): DatasetMeta | undefined {
  const path = join(dir, 'metadata.json');
  try {
    if (!statSync(path).isFile()) return undefined;
    const m = JSON.parse(readFileSync(path, 'utf8'));
    return m && typeof m === 'object' && m.format === DATASET_FORMAT ? (m as DatasetMeta) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why the dataset at `dir` (whose metadata is `meta`) holds no bars, as one line naming it:
 * e.g. `dataset /x/DS holds no bars: all 12 rows were rejected at ingest (see /x/DS/_rejected)`.
 */
export function noBarsMessage(dir: string, meta: DatasetMeta): string {
  const read = Number(meta.counts?.read) || 0;
  const rejected = Number(meta.counts?.rejected) || 0;
  let why: string;
  if (read > 0 && rejected === read) {
    const quarantine = meta.rejected ? join(dir, dirname(meta.rejected.path)) : undefined;
    const where = quarantine && existsSync(quarantine) ? `see ${quarantine}` : `dropped by --on-bad-rows ${String(meta.source?.onBadRows ?? 'skip')}`;
    why = `all ${read.toLocaleString('en-US')} rows were rejected at ingest (${where})`;
  } else {
    why = `its metadata.json counts ${Number(meta.rows) || 0} rows`;
  }
  return `dataset ${dir} holds no bars: ${why}`;
}

/** True when a name is private by the Hive/Spark convention: it starts with `_` or `.`. */
export function isPrivateName(name: string): boolean {
  return name.startsWith('_') || name.startsWith('.');
}

/** True when `file`, below `root`, passes through (or is) a `_` or `.` entry. */
export function isPrivateBelow(root: string, file: string): boolean {
  const rel = relative(resolve(root), resolve(file));
  return rel !== '' && rel.split(sep).some(isPrivateName);
}

/** The folder a glob pattern expands under: its path up to the first part holding `*`, `?` or `[`. */
export function globRoot(pattern: string): string {
  const parts = resolve(pattern).split(sep);
  const i = parts.findIndex((p) => /[*?[]/.test(p));
  return i < 0 ? dirname(resolve(pattern)) : parts.slice(0, i).join(sep) || sep;
}

/**
 * The dataset whose quarantined rows `file` is (`<dataset>/_rejected/...`, the dataset holding
 * a barstream `metadata.json`), or undefined.
 */
export function quarantineOwner(file: string): string | undefined {
  for (let dir = dirname(resolve(file)); dir !== dirname(dir); dir = dirname(dir)) {
    if (basename(dir) === '_rejected' && readDatasetMeta(dirname(dir))) return dirname(dir);
  }
  return undefined;
}
