import { typeName, type Problem } from './problems';

/** Events before this instant are rejected (2000-01-01T00:00:00Z). */
export const MIN_EVENT_TIME = Date.UTC(2000, 0, 1);
/** How far ahead of the ingest clock an event may be: one day, for clock skew and time zones done wrong. */
export const MAX_FUTURE_MS = 24 * 60 * 60 * 1000;

const ISO = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

type Parsed = { readonly ok: true; readonly value: number } | { readonly ok: false; readonly problem: Problem };

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const daysIn = (year: number, month: number): number => (month === 2 && isLeap(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0));

/** UTC epoch millis of a calendar instant, correct for every year 0000–9999 (Date.UTC maps 0–99 to 19xx). */
function utcMillis(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number {
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, ms);
  return date.getTime();
}

/**
 * An ISO-8601 / RFC 3339 date-time with a UTC offset (`2026-03-01T08:30:00+08:00`,
 * `…Z`, `+0800`, `+08`; seconds and fractions optional, fractions beyond milliseconds
 * truncated) in UTC epoch millis. A time without an offset is refused: it would be read
 * in whatever zone the worker runs in.
 */
export function parseIsoDateTime(text: string, field: string): Parsed {
  const invalid = (reason: string): Parsed => ({ ok: false, problem: { code: 'TS_ERR_INGEST_INVALID_FIELD', field, reason } });
  const shown = JSON.stringify(text.slice(0, 40));
  if (DATE_ONLY.test(text)) return invalid(`must be a date-time with a UTC offset, got the date alone ${shown}`);
  const m = ISO.exec(text);
  if (!m) return invalid(`must be epoch milliseconds or an ISO-8601 date-time with a UTC offset such as "2026-03-01T08:30:00+08:00", got ${shown}`);
  const [, ys = '', mos = '', ds = '', hs = '', mis = '', ss = '0', frac = '', zone] = m;
  if (zone === undefined) return invalid(`must carry a UTC offset (Z or ±hh:mm), got ${shown}`);
  const [y, mo, d, h, mi, s] = [ys, mos, ds, hs, mis, ss].map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || s > 59) return invalid(`is not a valid calendar date and time, got ${shown}`);
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return invalid(`has an invalid UTC offset ${zone}, got ${shown}`);
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (oh * 60 + om);
  }
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
  return { ok: true, value: utcMillis(y, mo, d, h, mi, s, ms) - offsetMinutes * 60_000 };
}

/** Epoch millis (a whole JSON number or a string of digits) or an ISO-8601 string, in UTC epoch millis. */
export function parseEventTime(value: unknown, field: string): Parsed {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      return { ok: false, problem: { code: 'TS_ERR_INGEST_INVALID_FIELD', field, reason: `must be whole epoch milliseconds, got ${value}` } };
    }
    return { ok: true, value };
  }
  if (typeof value === 'string') {
    const text = value.trim();
    if (text === '') return { ok: false, problem: { code: 'TS_ERR_INGEST_MISSING_FIELD', field, reason: 'must not be blank' } };
    if (/^\d+$/.test(text)) {
      const millis = Number(text);
      if (!Number.isSafeInteger(millis)) return { ok: false, problem: { code: 'TS_ERR_INGEST_INVALID_FIELD', field, reason: `must be whole epoch milliseconds, got "${text.slice(0, 40)}"` } };
      return { ok: true, value: millis };
    }
    return parseIsoDateTime(text, field);
  }
  return {
    ok: false,
    problem: { code: 'TS_ERR_INGEST_INVALID_FIELD', field, reason: `must be epoch milliseconds or an ISO-8601 string, got ${typeName(value)}` },
  };
}

const iso = (millis: number): string => {
  const d = new Date(millis);
  return Number.isNaN(d.getTime()) ? String(millis) : d.toISOString();
};

/** Rejects event times before 2000 or more than a day ahead of `now` (the ingest clock). */
export function checkEventTimeRange(millis: number, now: number, field: string): Problem | undefined {
  if (millis < MIN_EVENT_TIME) {
    // 2000-01-01 to 2286 in epoch *seconds* is 9.5e8 to 1e10: say what probably happened.
    const hint = millis >= MIN_EVENT_TIME / 1000 && millis < 1e11 ? ' (this looks like epoch seconds; the field takes milliseconds)' : '';
    return { code: 'TS_ERR_INGEST_EVENT_TIME_OUT_OF_RANGE', field, reason: `${iso(millis)} is before 2000-01-01T00:00:00.000Z${hint}` };
  }
  if (millis > now + MAX_FUTURE_MS) {
    return {
      code: 'TS_ERR_INGEST_EVENT_TIME_OUT_OF_RANGE',
      field,
      reason: `${iso(millis)} is more than 1 day ahead of the ingest clock (${iso(now)})`,
    };
  }
  return undefined;
}
