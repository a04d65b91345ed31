/**
 * Option values for the fuzz test, per command. `bad` values must be refused (issue 8 items
 * 8, 10 and 14: lengths bounded to at most 1,000,000, no NaN or empty numbers, no absurd fees,
 * decays, lambdas or minimum signals, no thread count 0, no unknown option); `edge` values may
 * be accepted or refused but must never crash; `good` values must be accepted.
 */
import { Rng } from './rng.js';

export type Command = 'ingest' | 'scan' | 'backtest' | 'trend' | 'generate' | 'query';

export interface OptionSpec {
  commands: Command[];
  bad: string[];
  edge: string[];
  good: string[];
  /** Edge values for one command instead of `edge` (generate must not be asked for a million buckets). */
  edgeFor?: Partial<Record<Command, string[]>>;
}

const STRATEGY: Command[] = ['scan', 'backtest'];
const JOBS: Command[] = ['scan', 'backtest', 'trend'];

export const OPTIONS: Record<string, OptionSpec> = {
  // 1000000000 is left out: before the fix it makes the process allocate 8 GB; 4294967296 fails at once.
  '--length': { commands: JOBS, bad: ['0', '-1', '1e9', '4294967296', '4294967297', '1.5', 'abc', '', 'NaN'], edge: ['1', '2', '5', '1000000', '2000000'], good: ['14', '28', '40'] },
  '--lambda': { commands: STRATEGY, bad: ['abc', '', 'NaN', '1e308', 'Infinity'], edge: ['0', '-5', '5', '100'], good: ['0.02', '0.05'] },
  '--decay': { commands: STRATEGY, bad: ['-5', '1e308', 'abc', '', 'NaN', '-Infinity'], edge: ['0', '1', '50', '99', '100'], good: ['0.03', '0.1'] },
  '--cutout': { commands: STRATEGY, bad: ['-1', '1.5', 'abc', ''], edge: ['30', '1000000', '4294967297'], good: ['0', '1'] },
  '--robustness': { commands: STRATEGY, bad: ['Huge', ''], edge: ['medium'], good: ['Narrow', 'Medium', 'Wide'] },
  '--hma': { commands: STRATEGY, bad: ['ema', ''], edge: [], good: ['hull', 'sma'] },
  '--min-signal': { commands: ['scan'], bad: ['2', '-1', 'abc', '', 'NaN', '1e308'], edge: ['0', '1'], good: ['0.1', '0.5'] },
  '--top': { commands: ['scan', 'trend'], bad: ['0', '-1', 'abc', '1.5', ''], edge: ['1000000', '4294967297'], good: ['1', '5'] },
  '--fee-bps': { commands: ['backtest'], bad: ['-1', 'abc', '', 'NaN', '1e6', '1e308', 'Infinity'], edge: ['100', '10000'], good: ['0', '5'] },
  '--threads': { commands: ['scan', 'backtest', 'trend', 'ingest'], bad: ['0', '-1', 'abc', '', '1.5'], edge: ['64'], good: ['1', '2'] },
  '--memory-limit': { commands: JOBS, bad: ['abc', '', '-1GB', '1 parsec'], edge: ['1KB', '1024', '100MB'], good: ['1GB'] },
  '--ma': { commands: ['trend'], bad: ['XYZ', ''], edge: ['sma'], good: ['SMA', 'EMA', 'RMA', 'WMA', 'DEMA', 'HMA', 'LSMA', 'KAMA'] },
  '--buckets': { commands: ['ingest', 'generate'], bad: ['0', '-1', 'abc', '1.5', '', '4294967297'], edge: ['1000000'], edgeFor: { generate: ['5'] }, good: ['1', '2', '3'] },
  '--on-bad-rows': { commands: ['ingest'], bad: ['bogus', ''], edge: [], good: ['error', 'skip', 'quarantine'] },
  '--format': { commands: ['ingest'], bad: ['xls', ''], edge: ['parquet'], good: ['csv'] },
  '--map': { commands: ['ingest'], bad: ['foo=bar', 'symbol=', 'symbol', 'close=A,close=B'], edge: [], good: [] },
  '--symbols': { commands: ['generate'], bad: ['0', '-1', 'abc', '1.5', ''], edge: [], good: ['1', '2', '3'] },
  '--bars': { commands: ['generate'], bad: ['0', '-1', 'abc', '1.5', ''], edge: ['1', '2'], good: ['40', '60'] },
  '--seed': { commands: ['generate'], bad: ['abc', '1.5', ''], edge: ['-1', '4294967297', '9007199254740993'], good: ['0', '7'] },
  '--start': { commands: ['generate'], bad: ['2020-13-01', 'abc', '', '2020-02-30'], edge: ['1970-01-01', '2262-04-01', '0001-01-01', '9999-12-01'], good: ['2010-06-01'] },
  '--freq': { commands: ['generate'], bad: ['abc', '0s', '-1d', ''], edge: ['1s', '1000000d'], good: ['1d', '1h', '15m'] },
  '--sql': {
    commands: JOBS,
    bad: ['SELEC * FROM bars', 'SELECT symbol, ts FROM bars', '', 'SELECT * FROM nosuch'],
    edge: ['SELECT * FROM bars UNION ALL SELECT * FROM bars', 'SELECT * FROM bars WHERE false'],
    good: ['SELECT * FROM bars -- recent', 'SELECT * FROM bars;', "SELECT * FROM bars WHERE ts >= '2000-01-01'"],
  },
  '--max-rows': { commands: ['query'], bad: ['0', '-1', 'abc', ''], edge: ['1000000000'], good: ['1', '5'] },
};

/** Options whose refusal may carry another code than BARSTREAM_INVALID_PARAM (DuckDB judges them). */
export const ANY_CODE = ['--memory-limit', '--sql'];

/** Unknown options and stray arguments: always refused. */
export const UNKNOWN = [['--bogus'], ['--lenght', '5'], ['-x'], ['--json=1'], ['stray-argument']];

export type Grade = 'bad' | 'edge' | 'good';

export interface ChosenOption {
  name: string;
  value: string;
  grade: Grade;
}

/**
 * 1-3 fuzzed options for `command` (none repeated), each bad, edge or good, plus sometimes
 * an unknown option. `exclude` are options the caller sets itself.
 */
export function fuzzOptions(rng: Rng, command: Command, exclude: string[] = []): { chosen: ChosenOption[]; unknown?: string[] } {
  const names = Object.keys(OPTIONS).filter((n) => OPTIONS[n].commands.includes(command) && !exclude.includes(n));
  const chosen: ChosenOption[] = [];
  for (const name of rng.sample(names, rng.int(1, Math.min(3, names.length)))) {
    const base = OPTIONS[name];
    const spec = { ...base, edge: base.edgeFor?.[command] ?? base.edge };
    // Bad values are where the bugs were found: draw them most often.
    const grade = rng.weighted({ bad: spec.bad.length ? 4 : 0, edge: spec.edge.length ? 2 : 0, good: spec.good.length ? 3 : 0 });
    chosen.push({ name, value: rng.pick(spec[grade]), grade });
  }
  const unknown = rng.chance(0.08) ? rng.pick(UNKNOWN) : undefined;
  return { chosen, unknown };
}

/** The option as arguments: `--name=value` for values that start with `-` (else `--name value`). */
export function optionArgs(o: ChosenOption): string[] {
  return o.value.startsWith('-') ? [`${o.name}=${o.value}`] : [o.name, o.value];
}

/** A pattern an error message naming the option matches (`--fee-bps`, `fee-bps`, `feeBps`, `fee bps`). */
export function namePattern(name: string): RegExp {
  const words = name.replace(/^-+/, '').split('-');
  return new RegExp(words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[- _]?'), 'i');
}
