/**
 * barstream: a columnar out-of-core engine for historical OHLCV bars.
 * @example
 * import { Engine, generate } from 'barstream';
 * await generate({ out: 'data/synth', symbols: 100, bars: 5000, seed: 7 });
 * const engine = await Engine.open({ dataset: 'data/synth' });
 * const { rows, symbols } = await engine.stream();
 */
export { Engine } from './engine.js';
export type { EngineOptions, StreamOptions, StreamResult, SymbolStats } from './engine.js';
export type { ScanOptions, ScanResult, ScanEntry } from './scan.js';
export type { BacktestOptions, BacktestResult, Manifest, FormulaStrategy, UpdateSummary } from './backtest.js';
export type { ScreenOptions, ScreenResult, ScreenMatch, ScreenFailure, ScreenManifest } from './screen.js';
export { update } from './daily.js';
export type { UpdateOptions, ResultsUpdate, FolderUpdate, DailyResult } from './daily.js';
export { merge } from './merge.js';
export type { MergeResult } from './merge.js';
export type { Shard, ShardRecord, SchedulerInfo } from './shard.js';
export type { TrendScanOptions, TrendScanResult, TrendEntry, MaName } from './trend.js';
export { BarstreamError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { generate } from '../datasets/generate.js';
export type { GenerateOptions, DatasetMetadata } from '../datasets/generate.js';
export { chooseBuckets, listDataFiles } from '../datasets/layout.js';
export { ingest, parseMapping, REJECT_REASONS } from '../datasets/ingest.js';
export type { IngestOptions, IngestResult, IngestCounts, IngestMetadata, BadRowPolicy, RejectReason } from '../datasets/ingest.js';
import { addon } from './native.js';

/** Versions of barstream's addon and of the DuckDB library it runs. */
export function version(): { barstream: string; duckdb: string } {
  return addon.version();
}
export { kernels } from './kernels.js';
export type { AtcParams, AtcResult, AtcColumn, MaTypeName, Stream, Bands, EquityOptions, MacdResult, StochResult, Hlc } from './kernels.js';
export type { FormulaInfo, FormulaBars, FormulaResult, FormulaStream, FormulaKind, BarField } from './formula.js';
export { query, QuerySession, listReports, reportSql } from './query.js';
export type { QueryOptions, ResultStream } from './query.js';
export { report, type ReportOptions, type ReportResult } from './report/index.js';
