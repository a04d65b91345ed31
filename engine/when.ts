/**
 * Points in time as options take them (`from`, `to`): a `Date`, a day `YYYY-MM-DD`, or a
 * time `YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]][Z]`, all in UTC as barstream's timestamps are.
 * A day given as `to` means the end of that day, so `--to 2020-06-30` keeps that day's
 * intraday bars; given as `from`, its start.
 */
import { invalidParam } from './errors.js';

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?Z?$/;
const US_PER_DAY = 86_400_000_000;

/**
 * Microseconds since the epoch of `value` as a `from` (start of a day) or `to` (end of a
 * day) bound.
 * @throws BarstreamError `BARSTREAM_INVALID_PARAM` naming `label` and the accepted forms.
 * @example
 * toMicros('to', '2020-06-30', 'end'); // 1593561599999999
 */
export function toMicros(label: string, value: unknown, bound: 'start' | 'end'): number {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw invalidParam(`${label} is an invalid Date`);
    return value.getTime() * 1000;
  }
  const bad = () => invalidParam(`${label} must be a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM[:SS[.ffffff]] (UTC), got ${typeof value === 'string' ? `'${value}'` : String(value)}`);
  if (typeof value !== 'string') throw bad();
  const text = value.trim();
  const d = DAY.exec(text);
  const t = d ? undefined : TIME.exec(text);
  const m = d ?? t;
  if (!m) throw bad();
  const [y, mo, da] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, da);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== da) throw bad();
  if (d) return ms * 1000 + (bound === 'end' ? US_PER_DAY - 1 : 0);
  const [h, mi, s] = [Number(t![4]), Number(t![5]), Number(t![6] ?? 0)];
  if (h > 23 || mi > 59 || s > 59) throw bad();
  const frac = Number((t![7] ?? '').padEnd(6, '0') || 0);
  return ms * 1000 + ((h * 60 + mi) * 60 + s) * 1_000_000 + frac;
}

/** A bound in microseconds as ISO text (for manifests and messages). */
export function microsText(us: number): string {
  const ms = Math.floor(us / 1000);
  const rest = us - ms * 1000;
  const iso = new Date(ms).toISOString();
  return rest === 0 ? iso : iso.replace(/Z$/, `${String(rest).padStart(3, '0')}Z`);
}
