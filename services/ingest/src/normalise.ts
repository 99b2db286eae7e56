import {
  CUSTOMER_TYPES,
  EVENT_TYPES,
  FEEDBACK_KINDS,
  INTERACTION_KINDS,
  type CustomerEvent,
  type CustomerType,
  type EventType,
  type FeedbackDetails,
  type FeedbackKind,
  type InteractionDetails,
  type InteractionKind,
  type OrderDetails,
  type RefundDetails,
} from '@tierstream/domain';
import { checkEventTimeRange, parseEventTime } from './event-time';
import { pathKey, type NumberTokens } from './json-text';
import { readMoney } from './money';
import { isRecord, rejectionOf, typeName, type Problem, type Rejection } from './problems';

/**
 * Validation and normalisation of one upstream event (the JSON format of docs/ingest.md, or
 * an Avro record decoded to the same shape) into the canonical CustomerEvent. Pure: no I/O,
 * the ingest clock is a parameter. Every problem of an event is collected; the rejection's
 * code is the first one's, in field order.
 */

export const MAX_ID_LENGTH = 256;
export const MAX_ITEM_COUNT = 1_000_000;

export type NormaliseResult = { readonly ok: true; readonly event: CustomerEvent } | { readonly ok: false; readonly rejection: Rejection };

type Source = Readonly<Record<string, unknown>>;

const shown = (s: string): string => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
const absent = (v: unknown): boolean => v === undefined || v === null;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function readId(src: Source, key: string, field: string, problems: Problem[]): string | null {
  const v = src[key];
  if (absent(v)) {
    problems.push({ code: 'TS_ERR_INGEST_MISSING_FIELD', field, reason: 'is required' });
    return null;
  }
  let id: string;
  if (typeof v === 'string') id = v.trim();
  else if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) id = String(v);
  else {
    problems.push({ code: 'TS_ERR_INGEST_INVALID_FIELD', field, reason: `must be a string (or a whole number), got ${typeName(v)}${typeof v === 'number' ? ` ${v}` : ''}` });
    return null;
  }
  if (id === '') {
    problems.push({ code: 'TS_ERR_INGEST_MISSING_FIELD', field, reason: 'must not be blank' });
    return null;
  }
  if (id.length > MAX_ID_LENGTH) {
    problems.push({ code: 'TS_ERR_INGEST_INVALID_FIELD', field, reason: `must be at most ${MAX_ID_LENGTH} characters, got ${id.length}` });
    return null;
  }
  if (CONTROL.test(id)) {
    problems.push({ code: 'TS_ERR_INGEST_INVALID_FIELD', field, reason: 'must not contain control characters' });
    return null;
  }
  return id;
}

/** An optional free-text field: trimmed, blank → null. */
function readText(src: Source, key: string, field: string, problems: Problem[]): string | null {
  const v = src[key];
  if (absent(v)) return null;
  if (typeof v !== 'string') {
    problems.push({ code: 'TS_ERR_INGEST_INVALID_FIELD', field, reason: `must be a string, got ${typeName(v)}` });
    return null;
  }
  const text = v.trim();
  return text === '' ? null : text;
}

function readEnum<T extends string>(src: Source, key: string, field: string, allowed: readonly T[], required: boolean, problems: Problem[]): T | null {
  const v = src[key];
  const expected = `one of ${allowed.map((a) => a.toLowerCase()).join(', ')} (any case)`;
  if (absent(v) || (typeof v === 'string' && v.trim() === '')) {
    if (required) problems.push({ code: 'TS_ERR_INGEST_MISSING_FIELD', field, reason: `is required: ${expected}` });
    return null;
  }
  if (typeof v !== 'string') {
    problems.push({ code: 'TS_ERR_INGEST_INVALID_FIELD', field, reason: `must be ${expected}, got ${typeName(v)}` });
    return null;
  }
  const upper = v.trim().toUpperCase();
  const found = allowed.find((a) => a === upper);
  if (found === undefined) problems.push({ code: 'TS_ERR_INGEST_INVALID_FIELD', field, reason: `must be ${expected}, got ${shown(v.trim())}` });
  return found ?? null;
}

function readWholeNumber(src: Source, key: string, field: string, range: { min: number; max: number; fallback: number | null }, problems: Problem[]): number | null {
  const v = src[key];
  if (absent(v)) return range.fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < range.min || v > range.max) {
    const got = typeof v === 'number' ? String(v) : typeName(v);
    problems.push({ code: 'TS_ERR_INGEST_INVALID_FIELD', field, reason: `must be a whole number from ${range.min} to ${range.max}, got ${got}` });
    return null;
  }
  return v;
}

function readEventTime(src: Source, now: number, problems: Problem[]): number | null {
  const occurred = src['occurred_at'];
  const canonical = src['event_time'];
  if (!absent(occurred) && !absent(canonical)) {
    problems.push({ code: 'TS_ERR_INGEST_INVALID_FIELD', field: 'occurred_at', reason: 'give occurred_at or event_time, not both' });
    return null;
  }
  if (absent(occurred) && absent(canonical)) {
    problems.push({ code: 'TS_ERR_INGEST_MISSING_FIELD', field: 'occurred_at', reason: 'is required (ISO-8601 with a UTC offset, or epoch milliseconds)' });
    return null;
  }
  const field = absent(occurred) ? 'event_time' : 'occurred_at';
  const parsed = parseEventTime(absent(occurred) ? canonical : occurred, field);
  if (!parsed.ok) {
    problems.push(parsed.problem);
    return null;
  }
  const outOfRange = checkEventTimeRange(parsed.value, now, field);
  if (outOfRange) {
    problems.push(outOfRange);
    return null;
  }
  return parsed.value;
}

function readAttributes(src: Source, problems: Problem[]): Record<string, string> {
  const v = src['attributes'];
  if (absent(v)) return {};
  if (!isRecord(v)) {
    problems.push({ code: 'TS_ERR_INGEST_INVALID_FIELD', field: 'attributes', reason: `must be an object of string values, got ${typeName(v)}` });
    return {};
  }
  const entries: [string, string][] = [];
  for (const [key, value] of Object.entries(v)) {
    if (key.trim() === '') problems.push({ code: 'TS_ERR_INGEST_INVALID_FIELD', field: 'attributes', reason: 'has a blank key' });
    else if (typeof value !== 'string') problems.push({ code: 'TS_ERR_INGEST_INVALID_FIELD', field: `attributes.${key}`, reason: `must be a string, got ${typeName(value)}` });
    else entries.push([key, value]);
  }
  // fromEntries defines own properties, so a key such as "__proto__" stays plain data.
  return Object.fromEntries(entries);
}

/** A number field's token as written (json-text.ts), for the detail object read under `prefix`. */
const writtenIn =
  (numbers: NumberTokens | undefined, prefix: string) =>
  (key: string): string | undefined =>
    numbers?.get(pathKey(prefix === '' ? [key] : [prefix.slice(0, -1), key]));

/** The object a type's details are read from: the nested `order: {…}` form, or the event itself (flat form). */
function detailSource(src: Source, key: string, problems: Problem[]): { src: Source; prefix: string } | undefined {
  const nested = src[key];
  if (absent(nested)) return { src, prefix: '' };
  if (isRecord(nested)) return { src: nested, prefix: `${key}.` };
  problems.push({ code: 'TS_ERR_INGEST_INVALID_FIELD', field: key, reason: `must be an object or null, got ${typeName(nested)}` });
  return undefined;
}

function readOrder(src: Source, problems: Problem[], numbers: NumberTokens | undefined): OrderDetails | null {
  const d = detailSource(src, 'order', problems);
  if (!d) return null;
  const order_id = readId(d.src, 'order_id', `${d.prefix}order_id`, problems);
  const money = readMoney(d.src, d.prefix, { positive: false, written: writtenIn(numbers, d.prefix) });
  problems.push(...money.problems);
  const item_count = readWholeNumber(d.src, 'item_count', `${d.prefix}item_count`, { min: 1, max: MAX_ITEM_COUNT, fallback: 1 }, problems);
  return order_id !== null && money.value && item_count !== null ? { order_id, ...money.value, item_count } : null;
}

function readRefund(src: Source, problems: Problem[], numbers: NumberTokens | undefined): RefundDetails | null {
  const d = detailSource(src, 'refund', problems);
  if (!d) return null;
  const order_id = readId(d.src, 'order_id', `${d.prefix}order_id`, problems);
  const money = readMoney(d.src, d.prefix, { positive: true, written: writtenIn(numbers, d.prefix) });
  problems.push(...money.problems);
  return order_id !== null && money.value ? { order_id, ...money.value } : null;
}

function readInteraction(src: Source, problems: Problem[]): InteractionDetails | null {
  const d = detailSource(src, 'interaction', problems);
  if (!d) return null;
  const kindKey = d.prefix === '' ? 'interaction_kind' : 'kind';
  const before = problems.length;
  const kind: InteractionKind = readEnum(d.src, kindKey, `${d.prefix}${kindKey}`, INTERACTION_KINDS, false, problems) ?? 'OTHER';
  const campaign_id = readText(d.src, 'campaign_id', `${d.prefix}campaign_id`, problems);
  return problems.length === before ? { kind, campaign_id } : null;
}

function readFeedback(src: Source, problems: Problem[]): FeedbackDetails | null {
  const d = detailSource(src, 'feedback', problems);
  if (!d) return null;
  const kindKey = d.prefix === '' ? 'feedback_kind' : 'kind';
  const before = problems.length;
  const kind: FeedbackKind | null = readEnum(d.src, kindKey, `${d.prefix}${kindKey}`, FEEDBACK_KINDS, true, problems);
  const score = readWholeNumber(d.src, 'score', `${d.prefix}score`, { min: 1, max: 5, fallback: null }, problems);
  const comment = readText(d.src, 'comment', `${d.prefix}comment`, problems);
  if (kind === 'SATISFACTION' && score === null && absent(d.src['score'])) {
    problems.push({ code: 'TS_ERR_INGEST_MISSING_FIELD', field: `${d.prefix}score`, reason: 'is required for satisfaction feedback (1 to 5)' });
  }
  return problems.length === before && kind !== null ? { kind, score, comment } : null;
}

const DETAIL_KEYS: Readonly<Record<string, EventType>> = { order: 'ORDER', refund: 'REFUND', interaction: 'INTERACTION', feedback: 'FEEDBACK' };

/**
 * Validates one upstream event and returns the canonical event, or why it was rejected.
 * `numbers`: the event's number tokens as written where JSON.parse lost their form
 * (json-text.ts), so that amounts are read as written.
 */
export function normaliseEvent(input: unknown, now: number, numbers?: NumberTokens): NormaliseResult {
  if (!isRecord(input)) {
    return {
      ok: false,
      rejection: rejectionOf([{ code: 'TS_ERR_INGEST_NOT_OBJECT', field: '', reason: `an event must be a JSON object, got ${typeName(input)}` }], { event_id: null, customer_id: null }),
    };
  }
  const problems: Problem[] = [];
  const event_id = readId(input, 'event_id', 'event_id', problems);
  const customer_id = readId(input, 'customer_id', 'customer_id', problems);
  const type = readEnum(input, 'type', 'type', EVENT_TYPES, true, problems);
  const event_time = readEventTime(input, now, problems);
  const channel = readText(input, 'channel', 'channel', problems);
  const region = readText(input, 'region', 'region', problems);
  const customer_type: CustomerType | null = readEnum(input, 'customer_type', 'customer_type', CUSTOMER_TYPES, false, problems);
  const industry = readText(input, 'industry', 'industry', problems);

  const order = type === 'ORDER' ? readOrder(input, problems, numbers) : null;
  const refund = type === 'REFUND' ? readRefund(input, problems, numbers) : null;
  const interaction = type === 'INTERACTION' ? readInteraction(input, problems) : null;
  const feedback = type === 'FEEDBACK' ? readFeedback(input, problems) : null;
  if (type !== null) {
    for (const [key, owner] of Object.entries(DETAIL_KEYS)) {
      if (owner !== type && !absent(input[key])) {
        problems.push({ code: 'TS_ERR_INGEST_INVALID_FIELD', field: key, reason: `must be absent or null for a ${type.toLowerCase()} event` });
      }
    }
  }
  const attributes = readAttributes(input, problems);
  if (type === 'PROFILE_UPDATE' && Object.keys(attributes).length === 0 && !problems.some((p) => p.field.startsWith('attributes'))) {
    problems.push({ code: 'TS_ERR_INGEST_MISSING_FIELD', field: 'attributes', reason: 'a profile_update needs at least one changed field' });
  }

  const [first, ...rest] = problems;
  if (first) return { ok: false, rejection: rejectionOf([first, ...rest], { event_id, customer_id }) };
  if (event_id === null || customer_id === null || type === null || event_time === null) {
    // Unreachable: each null above came with a problem.
    throw new Error('normaliseEvent: a required field is null without a problem');
  }
  return {
    ok: true,
    event: { event_id, customer_id, type, event_time, channel, region, customer_type, industry, order, refund, interaction, feedback, attributes },
  };
}
