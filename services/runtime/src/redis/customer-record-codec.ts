import { Packr } from 'msgpackr';
import type { ActiveOverride, AggregateState, CustomerState, DayBuckets, TierHolding, TransitionSummary } from '@tierstream/domain';
import { TierstreamError } from '../errors';
import type { CustomerRecord, PendingRejection, PendingTransition } from './customer-store';
import { RecordFormatError, RecordReader, RecordWriter } from './record-bytes';
import { RECORD_DICTIONARY_V4 } from './record-dictionary';

/**
 * How a customer record is laid out in Redis, in two hash fields:
 * - `record`: the state. v4 is `T`, the version, the record's own strings, then a hand-laid
 *   body (record-bytes.ts): every name by reference into a frozen dictionary
 *   (record-dictionary.ts) or the record's strings, numbers as zig-zag varints (float64 only
 *   for fractions), times as distances back from the customer's time and days from its day,
 *   day buckets delta-coded, tiers and history as positional tuples (transition ids and the
 *   usual rule id derived), no customer id (the key has it) and no forward signals, which
 *   nothing reads back (each transition carries its own). See encodeV4 for the order.
 * - `pending`: the transitions and rejections of the last batch that are maybe not yet in a
 *   committed Kafka transaction, MessagePack; absent when there are none, and removed once the
 *   batch's transaction commits (CustomerStore.settle), so a customer at rest keeps none.
 * v1 (JSON text, it starts with `{`), v2 (`T`, 2, MessagePack of the whole record, pending
 * inside) and v3 (`T`, 3, MessagePack of the state with tuples) are read as they are and
 * written back as v4 by the next batch that touches the customer: a running deployment
 * upgrades without a replay.
 */
export const RECORD_FORMAT_VERSION = 4;

const MAGIC = 0x54; // 'T': never the first byte of a JSON object
const JSON_OPEN = 0x7b; // '{'

// Plain maps, no shared structures: a record must decode alone, whoever wrote it.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true });
// Pending transitions are objects of one shape: msgpackr's records write their keys once per
// pack (the structure travels inside each message, which still decodes alone, by any reader
// of these formats): 42% fewer bytes and 40% less CPU than plain maps for a new customer's five.
const pendingPackr = new Packr({ useRecords: true, mapsAsObjects: true, variableMapSize: true });

/** The two stored fields of a record; `pending` null when nothing is pending. */
export interface StoredRecord {
  readonly record: Buffer;
  readonly pending: Buffer | null;
}

// v3, read only: tuples in MessagePack.
type HoldingTuple = [tier: string, rank: number, version: number, since: number, direction: string | null, earned: number | null];
/** `id` is the tier version when the transition id is the usual `<customer>/<dimension>/<version>`; `rule` null when it is `<dimension>.<to_tier>`. */
type SummaryTuple = [dimension: string, id: number | string, from: string | null, to: string, rule: string | null, at: number, inputs: Record<string, number>];

/** Day buckets of one series, delta-coded: `[day, value, days since the previous bucket, value, …]`, days ascending. */
type BucketRun = number[];

interface StateV3 extends Omit<CustomerState, 'tiers' | 'history' | 'forward' | 'aggregates'> {
  readonly aggregates: Omit<AggregateState, 'buckets' | 'running'> & { readonly buckets: Record<string, BucketRun>; readonly running: Record<string, [sum: number, from: number]> };
  readonly tiers: Record<string, HoldingTuple>;
  readonly history: SummaryTuple[];
}

interface PendingV3 {
  readonly p: readonly PendingTransition[];
  readonly r?: readonly PendingRejection[];
}

function holdingOf([tier, rank, version, since, direction, earned]: HoldingTuple): TierHolding {
  const h: TierHolding = { tier, rank, version, since };
  if (direction !== null) h.direction = direction as NonNullable<TierHolding['direction']>;
  if (earned !== null) h.earned = earned;
  return h;
}

function bucketsOf(run: BucketRun): DayBuckets {
  const b: DayBuckets = [];
  let day = 0;
  for (let i = 0; i + 1 < run.length; i += 2) {
    day += run[i] as number;
    b.push(day, run[i + 1] as number);
  }
  return b;
}

/** Day buckets as releases before v4 kept them in memory and in v1/v2 records: an object keyed by day. */
function bucketsOfObject(days: Readonly<Record<string, number>>): DayBuckets {
  const b: DayBuckets = [];
  for (const d of Object.keys(days).map(Number).sort((x, y) => x - y)) b.push(d, days[d] as number);
  return b;
}

function summaryOf(customerId: string, [dimension, id, from, to, rule, at, inputs]: SummaryTuple): TransitionSummary {
  return { transition_id: typeof id === 'number' ? `${customerId}/${dimension}/${id}` : id, dimension, from_tier: from, to_tier: to, rule: rule ?? `${dimension}.${to}`, inputs, at };
}

const DAY_MS = 86_400_000;
const dayOf = (ms: number): number => Math.floor(ms / DAY_MS);

const dictionaryIndex = new Map(RECORD_DICTIONARY_V4.map((s, i) => [s, i]));
const writer = new RecordWriter(dictionaryIndex, RECORD_DICTIONARY_V4.length);
const HEADER_V4 = [MAGIC, 4] as const;

const HOLDING_DIRECTION = 1;
const HOLDING_EARNED = 2;

/**
 * The body of a v4 record, in this order (t: a time as the distance back from `now`; d: a day
 * as the distance back from now's day; maps as a count, then their entries):
 * now; buckets {series, 2 × count, (d of the first, then day deltas, value)…, or 2 × the index of
 * an earlier series with the same days + 1, then the values only}; running {key, sum,
 * d(from)}; lifetime {series, value}; distinct {series, {value, d(day)}}; last {key, value,
 * t(at)}; lastSeen {kind, t}; tiers {dimension, tier, rank, version, t(since), flags,
 * [direction], [t(earned)]}; profile (region, customer type, industry, attributes {k, v});
 * score; metrics {name, value}; history [dimension, id, from, to, rule, t(at), inputs
 * {name, value}]; order times (0, or 1 and t(first), t(last), 0 | 1 + t(reactivated));
 * overrides (0 for none, else count + 1, then {dimension, tier, until, reason, actor,
 * issued_at, command id}).
 */
function encodeV4(state: CustomerState): Buffer {
  const w = writer;
  w.reset();
  const a = state.aggregates;
  const now = a.now;
  const nowDay = dayOf(now);
  w.num(now);
  const series = Object.keys(a.buckets);
  w.uint(series.length);
  for (let s = 0; s < series.length; s++) {
    const b = a.buckets[series[s] as string] as DayBuckets;
    w.ref(series[s] as string);
    // A series with the days of one written before it (an order's amount, count and max) writes its values only.
    const same = sameDaysAs(a.buckets, series, s);
    if (same >= 0) {
      w.uint(same * 2 + 1);
      for (let i = 1; i < b.length; i += 2) w.num(b[i] as number);
      continue;
    }
    w.uint((b.length >> 1) * 2);
    let previous = nowDay;
    for (let i = 0; i < b.length; i += 2) {
      const day = b[i] as number;
      w.num(i === 0 ? nowDay - day : day - previous);
      w.num(b[i + 1] as number);
      previous = day;
    }
  }
  const running = Object.keys(a.running);
  w.uint(running.length);
  for (const key of running) {
    const r = a.running[key] as { sum: number; from: number };
    w.ref(key);
    w.num(r.sum);
    w.num(nowDay - r.from);
  }
  writeNumbers(w, a.lifetime);
  const distinct = Object.keys(a.distinct);
  w.uint(distinct.length);
  for (const name of distinct) {
    const values = a.distinct[name] as Record<string, number>;
    const keys = Object.keys(values);
    w.ref(name);
    w.uint(keys.length);
    for (const v of keys) {
      w.ref(v);
      w.num(nowDay - (values[v] as number));
    }
  }
  w.uint(Object.keys(a.last).length);
  for (const key in a.last) {
    const l = a.last[key] as { value: number; at: number };
    w.ref(key);
    w.num(l.value);
    w.num(now - l.at);
  }
  w.uint(Object.keys(a.lastSeen).length);
  for (const kind in a.lastSeen) {
    w.ref(kind);
    w.num(now - (a.lastSeen[kind] as number));
  }
  w.uint(Object.keys(state.tiers).length);
  for (const d in state.tiers) {
    const h = state.tiers[d] as TierHolding;
    w.ref(d);
    w.ref(h.tier);
    w.num(h.rank);
    w.num(h.version);
    w.num(now - h.since);
    w.uint((h.direction !== undefined ? HOLDING_DIRECTION : 0) | (h.earned !== undefined ? HOLDING_EARNED : 0));
    if (h.direction !== undefined) w.ref(h.direction);
    if (h.earned !== undefined) w.num(now - h.earned);
  }
  const p = state.profile;
  w.optRef(p.region);
  w.optRef(p.customer_type);
  w.optRef(p.industry);
  w.uint(Object.keys(p.attributes).length);
  for (const k in p.attributes) {
    w.ref(k);
    w.ref(p.attributes[k] as string);
  }
  w.num(state.score);
  writeNumbers(w, state.metrics);
  w.uint(state.history.length);
  for (const h of state.history) {
    w.ref(h.dimension);
    const slash = h.transition_id.lastIndexOf('/');
    const version = Number(h.transition_id.slice(slash + 1));
    // The usual id as its version (even), any other as a string (odd mark, then the string).
    if (slash > 0 && Number.isSafeInteger(version) && version >= 0 && h.transition_id === `${state.customerId}/${h.dimension}/${version}`) w.uint(version * 2);
    else {
      w.uint(1);
      w.ref(h.transition_id);
    }
    w.optRef(h.from_tier);
    w.ref(h.to_tier);
    w.optRef(h.rule === `${h.dimension}.${h.to_tier}` ? null : h.rule);
    w.num(now - h.at);
    writeNumbers(w, h.inputs);
  }
  const o = state.orderTimes;
  if (!o) w.uint(0);
  else {
    w.uint(1);
    w.num(now - o.first);
    w.num(now - o.last);
    if (o.reactivated === null) w.uint(0);
    else {
      w.uint(1);
      w.num(now - o.reactivated);
    }
  }
  const overrides = state.overrides;
  if (!overrides) w.uint(0);
  else {
    w.uint(Object.keys(overrides).length + 1);
    for (const d in overrides) {
      const pin = overrides[d] as ActiveOverride;
      w.ref(d);
      w.ref(pin.tier);
      w.num(pin.until);
      w.ref(pin.reason);
      w.ref(pin.actor);
      w.num(pin.issued_at);
      w.ref(pin.command_id);
    }
  }
  return w.finish(HEADER_V4);
}

/** The index of the first series before `s` with exactly the days of series `s` (at least one), or -1. */
function sameDaysAs(buckets: Readonly<Record<string, DayBuckets>>, series: readonly string[], s: number): number {
  const b = buckets[series[s] as string] as DayBuckets;
  if (b.length === 0) return -1;
  next: for (let p = 0; p < s; p++) {
    const other = buckets[series[p] as string] as DayBuckets;
    if (other.length !== b.length) continue;
    for (let i = 0; i < b.length; i += 2) if (other[i] !== b[i]) continue next;
    return p;
  }
  return -1;
}

function writeNumbers(w: RecordWriter, values: Readonly<Record<string, number>>): void {
  const keys = Object.keys(values);
  w.uint(keys.length);
  for (const k of keys) {
    w.ref(k);
    w.num(values[k] as number);
  }
}

function readNumbers(r: RecordReader): Record<string, number> {
  const out: Record<string, number> = {};
  for (let n = r.uint(); n > 0; n--) {
    const k = r.ref();
    out[k] = r.num();
  }
  return out;
}

function decodeV4(customerId: string, stored: Buffer): CustomerState {
  const r = new RecordReader(stored, 2, RECORD_DICTIONARY_V4);
  const now = r.num();
  const nowDay = dayOf(now);
  const buckets: Record<string, DayBuckets> = {};
  const order: DayBuckets[] = [];
  for (let n = r.uint(); n > 0; n--) {
    const series = r.ref();
    const head = r.uint();
    let b: DayBuckets;
    if (head % 2 === 1) {
      const same = order[(head - 1) / 2];
      if (!same) throw new RecordFormatError(`series ${series} shares the days of series ${(head - 1) / 2}, which is not there`);
      b = same.slice();
      for (let i = 1; i < b.length; i += 2) b[i] = r.num();
    } else {
      const count = head / 2;
      b = new Array<number>(count * 2);
      let day = nowDay;
      for (let i = 0; i < count; i++) {
        day = i === 0 ? nowDay - r.num() : day + r.num();
        b[i * 2] = day;
        b[i * 2 + 1] = r.num();
      }
    }
    order.push(b);
    buckets[series] = b;
  }
  const running: Record<string, { sum: number; from: number }> = {};
  for (let n = r.uint(); n > 0; n--) {
    const key = r.ref();
    const sum = r.num();
    running[key] = { sum, from: nowDay - r.num() };
  }
  const lifetime = readNumbers(r);
  const distinct: Record<string, Record<string, number>> = {};
  for (let n = r.uint(); n > 0; n--) {
    const series = r.ref();
    const values: Record<string, number> = {};
    for (let count = r.uint(); count > 0; count--) {
      const v = r.ref();
      values[v] = nowDay - r.num();
    }
    distinct[series] = values;
  }
  const last: Record<string, { value: number; at: number }> = {};
  for (let n = r.uint(); n > 0; n--) {
    const key = r.ref();
    const value = r.num();
    last[key] = { value, at: now - r.num() };
  }
  const lastSeen: Record<string, number> = {};
  for (let n = r.uint(); n > 0; n--) {
    const kind = r.ref();
    lastSeen[kind] = now - r.num();
  }
  const tiers: Record<string, TierHolding> = {};
  for (let n = r.uint(); n > 0; n--) {
    const d = r.ref();
    const tier = r.ref();
    const rank = r.num();
    const version = r.num();
    const h: TierHolding = { tier, rank, version, since: now - r.num() };
    const flags = r.uint();
    if (flags & HOLDING_DIRECTION) h.direction = r.ref() as NonNullable<TierHolding['direction']>;
    if (flags & HOLDING_EARNED) h.earned = now - r.num();
    tiers[d] = h;
  }
  const region = r.optRef();
  const customerType = r.optRef() as CustomerState['profile']['customer_type'];
  const industry = r.optRef();
  const attributes: Record<string, string> = {};
  for (let n = r.uint(); n > 0; n--) {
    const k = r.ref();
    attributes[k] = r.ref();
  }
  const score = r.num();
  const metrics = readNumbers(r);
  const history: TransitionSummary[] = [];
  for (let n = r.uint(); n > 0; n--) {
    const dimension = r.ref();
    const id = r.uint();
    const transitionId = id % 2 === 0 ? `${customerId}/${dimension}/${id / 2}` : r.ref();
    const from = r.optRef();
    const to = r.ref();
    const rule = r.optRef() ?? `${dimension}.${to}`;
    const at = now - r.num();
    history.push({ transition_id: transitionId, dimension, from_tier: from, to_tier: to, rule, inputs: readNumbers(r), at });
  }
  const state: CustomerState = {
    customerId,
    aggregates: { now, buckets, running, lifetime, distinct, last, lastSeen },
    tiers,
    profile: { region, customer_type: customerType, industry, attributes },
    score,
    metrics,
    history,
  };
  if (r.uint() === 1) {
    const first = now - r.num();
    const lastOrder = now - r.num();
    state.orderTimes = { first, last: lastOrder, reactivated: r.uint() === 1 ? now - r.num() : null };
  }
  const pins = r.uint();
  if (pins > 0) {
    const overrides: Record<string, ActiveOverride> = {};
    for (let n = pins - 1; n > 0; n--) {
      const d = r.ref();
      overrides[d] = { tier: r.ref(), until: r.num(), reason: r.ref(), actor: r.ref(), issued_at: r.num(), command_id: r.ref() };
    }
    state.overrides = overrides;
  }
  r.end();
  return state;
}

/** The record as stored now (v4). */
export function encodeCustomerRecord(record: CustomerRecord): StoredRecord {
  const out = encodeV4(record.state);
  const rejections = record.rejections ?? [];
  if (record.pending.length === 0 && rejections.length === 0) return { record: out, pending: null };
  const pending: PendingV3 = rejections.length > 0 ? { p: record.pending, r: rejections } : { p: record.pending };
  return { record: out, pending: pendingPackr.pack(pending) };
}

/** Summaries as stored before v3 carried the prose reason and no inputs. */
const upgradeHistory = (history: readonly (TransitionSummary & { reason?: string })[]): TransitionSummary[] =>
  history.map(({ reason: _reason, ...h }) => ({ ...h, inputs: h.inputs ?? {} }));

function withPending(state: CustomerState, pending: Buffer | null): CustomerRecord {
  if (!pending) return { state, pending: [] };
  const p = packr.unpack(pending) as PendingV3;
  return p.r ? { state, pending: p.p, rejections: p.r } : { state, pending: p.p };
}

function decodeV3(customerId: string, stored: Buffer): CustomerState {
  const s = packr.unpack(stored.subarray(2)) as StateV3;
  const tiers: Record<string, TierHolding> = {};
  for (const d in s.tiers) tiers[d] = holdingOf(s.tiers[d] as HoldingTuple);
  const buckets: Record<string, DayBuckets> = {};
  for (const series in s.aggregates.buckets) buckets[series] = bucketsOf(s.aggregates.buckets[series] as BucketRun);
  const running: Record<string, { sum: number; from: number }> = {};
  for (const key in s.aggregates.running) {
    const [sum, from] = s.aggregates.running[key] as [number, number];
    running[key] = { sum, from };
  }
  return { ...s, aggregates: { ...s.aggregates, buckets, running }, tiers, history: s.history.map((t) => summaryOf(customerId, t)) };
}

/**
 * Any stored version of a record, from its two fields (`pending` null when absent). A format
 * it does not know is TS_ERR_STATE_FORMAT, naming the customer.
 */
export function decodeCustomerRecord(customerId: string, stored: Buffer, pending: Buffer | null = null): CustomerRecord {
  try {
    if (stored[0] === MAGIC && stored[1] === RECORD_FORMAT_VERSION) return withPending(decodeV4(customerId, stored), pending);
    if (stored[0] === MAGIC && stored[1] === 3) return withPending(decodeV3(customerId, stored), pending);
    let old: CustomerRecord | undefined;
    if (stored[0] === JSON_OPEN) old = JSON.parse(stored.toString('utf8')) as CustomerRecord;
    else if (stored[0] === MAGIC && stored[1] === 2) old = packr.unpack(stored.subarray(2)) as CustomerRecord;
    if (old) {
      const objects = old.state.aggregates.buckets as unknown as Record<string, Record<string, number>>;
      const buckets: Record<string, DayBuckets> = {};
      for (const series in objects) buckets[series] = bucketsOfObject(objects[series] as Record<string, number>);
      return { ...old, state: { ...old.state, aggregates: { ...old.state.aggregates, buckets }, history: upgradeHistory(old.state.history) } };
    }
  } catch (err) {
    throw new TierstreamError('TS_ERR_STATE_FORMAT', `the stored record of ${customerId} cannot be decoded: ${(err as Error).message}`, { cause: err, context: { customerId } });
  }
  throw new TierstreamError('TS_ERR_STATE_FORMAT', `the stored record of ${customerId} has an unknown format (first bytes ${stored.subarray(0, 2).toString('hex')})`, {
    context: { customerId },
  });
}
