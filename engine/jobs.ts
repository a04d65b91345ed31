/** Runs a native job with progress polling and cancellation through an `AbortSignal`. */
import { BarstreamError, native } from './errors.js';
import { addon, Native } from './native.js';

export interface JobProgress {
  symbolsDone: number;
  /** Known up front for canonical datasets; otherwise counted by a first pass. */
  symbolsTotal: number;
  bars: number;
}

export interface JobControl {
  /** Called about every 200 ms while the job runs, and once at the end. */
  onProgress?: (p: JobProgress) => void;
  /** Aborting stops the job between batches; it then rejects with `BARSTREAM_CANCELLED`. */
  signal?: AbortSignal;
}

export async function runJob<T>(start: (job: Native.NativeJob) => Promise<unknown>, symbolsTotal: number, ctl: JobControl = {}): Promise<T> {
  if (ctl.signal?.aborted) throw new BarstreamError('BARSTREAM_CANCELLED', 'cancelled before it started');
  const job = new addon.NativeJob();
  const report = () => {
    const p = job.progress();
    ctl.onProgress?.({ symbolsDone: p.symbols, symbolsTotal: Math.max(symbolsTotal, p.symbols), bars: p.bars });
  };
  const onAbort = () => job.cancel();
  ctl.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = ctl.onProgress ? setInterval(report, 200) : undefined;
  try {
    const result = (await native(start(job))) as T;
    report();
    return result;
  } finally {
    if (timer) clearInterval(timer);
    ctl.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * The error of a job whose source gave no bars at all (an empty dataset, or SQL that selects
 * nothing): said as such, instead of a result with every count 0.
 */
export function noBars(sql: string | null | undefined, what: string): BarstreamError {
  const shown = sql ? ` (SQL: ${sql.replace(/\s+/g, ' ').trim().slice(0, 200)})` : '';
  return new BarstreamError('BARSTREAM_BAD_INPUT', `the source returned no bars${shown}: nothing to ${what}`);
}
