import { Packr } from 'msgpackr';
import type { AggregateState, CustomerState, TierHolding, TransitionSummary } from '@tierstream/domain';
import { TierstreamError } from '../errors';
import type { CustomerRecord, PendingRejection, PendingTransition } from './customer-store';

/**
 * How a customer record is laid out in Redis, in two hash fields:
 * - `record`: the state. v3 is `T`, the version, then MessagePack (msgpackr) of the state with
 *   its tiers and history as tuples (no key names repeated per holding or entry, transition
 *   ids and the usual rule id left to be derived), each series' day buckets as one
 *   delta-coded array of numbers, running sums as pairs, and without forward signals, which nothing reads back (each
 *   transition carries its own).
 * - `pending`: the transitions and rejections of the last batch that are maybe not yet in a
 *   committed Kafka transaction, MessagePack; absent when there are none, and removed once the
 *   batch's transaction commits (CustomerStore.settle), so a customer at rest keeps none.
 * v1 (JSON text, it starts with `{`) and v2 (`T`, 2, MessagePack of the whole record,
 * pending inside) are read as they are and written back as v3 by the next batch that touches
 * the customer: a running deployment upgrades without a replay.
 */
export const RECORD_FORMAT_VERSION = 3;

const MAGIC = 0x54; // 'T': never the first byte of a JSON object
const JSON_OPEN = 0x7b; // '{'

// Plain maps, no shared structures: a record must decode alone, whoever wrote it.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true });

/** The two stored fields of a record; `pending` null when nothing is pending. */
export interface StoredRecord {
  readonly record: Buffer;
  readonly pending: Buffer | null;
}

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

function holdingTuple(h: TierHolding): HoldingTuple {
  return [h.tier, h.rank, h.version, h.since, h.direction ?? null, h.earned ?? null];
}

function holdingOf([tier, rank, version, since, direction, earned]: HoldingTuple): TierHolding {
  const h: TierHolding = { tier, rank, version, since };
  if (direction !== null) h.direction = direction as NonNullable<TierHolding['direction']>;
  if (earned !== null) h.earned = earned;
  return h;
}

// Bucket keys are day numbers, array indices, so for…in visits them ascending (as the domain relies on too).
function bucketRun(buckets: Readonly<Record<string, number>>): BucketRun {
  const run: number[] = [];
  let previous = 0;
  for (const d in buckets) {
    const day = Number(d);
    run.push(day - previous, buckets[d] as number);
    previous = day;
  }
  return run;
}

function bucketsOf(run: BucketRun): Record<string, number> {
  const buckets: Record<string, number> = {};
  let day = 0;
  for (let i = 0; i + 1 < run.length; i += 2) {
    day += run[i] as number;
    buckets[day] = run[i + 1] as number;
  }
  return buckets;
}

function summaryTuple(customerId: string, h: TransitionSummary): SummaryTuple {
  const version = Number(h.transition_id.slice(h.transition_id.lastIndexOf('/') + 1));
  const id = h.transition_id === `${customerId}/${h.dimension}/${version}` ? version : h.transition_id;
  return [h.dimension, id, h.from_tier, h.to_tier, h.rule === `${h.dimension}.${h.to_tier}` ? null : h.rule, h.at, h.inputs];
}

function summaryOf(customerId: string, [dimension, id, from, to, rule, at, inputs]: SummaryTuple): TransitionSummary {
  return { transition_id: typeof id === 'number' ? `${customerId}/${dimension}/${id}` : id, dimension, from_tier: from, to_tier: to, rule: rule ?? `${dimension}.${to}`, inputs, at };
}

/** The record as stored now (v3). */
export function encodeCustomerRecord(record: CustomerRecord): StoredRecord {
  const { forward: _forward, tiers, history, aggregates, ...rest } = record.state;
  const compactTiers: Record<string, HoldingTuple> = {};
  for (const d in tiers) compactTiers[d] = holdingTuple(tiers[d] as TierHolding);
  const runs: Record<string, BucketRun> = {};
  for (const series in aggregates.buckets) runs[series] = bucketRun(aggregates.buckets[series] as Record<string, number>);
  const running: Record<string, [number, number]> = {};
  for (const key in aggregates.running) {
    const r = aggregates.running[key] as { sum: number; from: number };
    running[key] = [r.sum, r.from];
  }
  const state: StateV3 = { ...rest, aggregates: { ...aggregates, buckets: runs, running }, tiers: compactTiers, history: history.map((h) => summaryTuple(rest.customerId, h)) };
  const body = packr.pack(state);
  const out = Buffer.allocUnsafe(body.length + 2);
  out[0] = MAGIC;
  out[1] = RECORD_FORMAT_VERSION;
  body.copy(out, 2);
  const rejections = record.rejections ?? [];
  if (record.pending.length === 0 && rejections.length === 0) return { record: out, pending: null };
  const pending: PendingV3 = rejections.length > 0 ? { p: record.pending, r: rejections } : { p: record.pending };
  return { record: out, pending: packr.pack(pending) };
}

/** Summaries as stored before v3 carried the prose reason and no inputs. */
const upgradeHistory = (history: readonly (TransitionSummary & { reason?: string })[]): TransitionSummary[] =>
  history.map(({ reason: _reason, ...h }) => ({ ...h, inputs: h.inputs ?? {} }));

function decodeV3(customerId: string, stored: Buffer, pending: Buffer | null): CustomerRecord {
  const s = packr.unpack(stored.subarray(2)) as StateV3;
  const tiers: Record<string, TierHolding> = {};
  for (const d in s.tiers) tiers[d] = holdingOf(s.tiers[d] as HoldingTuple);
  const buckets: Record<string, Record<string, number>> = {};
  for (const series in s.aggregates.buckets) buckets[series] = bucketsOf(s.aggregates.buckets[series] as BucketRun);
  const running: Record<string, { sum: number; from: number }> = {};
  for (const key in s.aggregates.running) {
    const [sum, from] = s.aggregates.running[key] as [number, number];
    running[key] = { sum, from };
  }
  const state: CustomerState = { ...s, aggregates: { ...s.aggregates, buckets, running }, tiers, history: s.history.map((t) => summaryOf(customerId, t)) };
  if (!pending) return { state, pending: [] };
  const p = packr.unpack(pending) as PendingV3;
  return p.r ? { state, pending: p.p, rejections: p.r } : { state, pending: p.p };
}

/**
 * Any stored version of a record, from its two fields (`pending` null when absent). A format
 * it does not know is TS_ERR_STATE_FORMAT, naming the customer.
 */
export function decodeCustomerRecord(customerId: string, stored: Buffer, pending: Buffer | null = null): CustomerRecord {
  try {
    if (stored[0] === MAGIC && stored[1] === RECORD_FORMAT_VERSION) return decodeV3(customerId, stored, pending);
    let old: CustomerRecord | undefined;
    if (stored[0] === JSON_OPEN) old = JSON.parse(stored.toString('utf8')) as CustomerRecord;
    else if (stored[0] === MAGIC && stored[1] === 2) old = packr.unpack(stored.subarray(2)) as CustomerRecord;
    if (old) return { ...old, state: { ...old.state, history: upgradeHistory(old.state.history) } };
  } catch (err) {
    throw new TierstreamError('TS_ERR_STATE_FORMAT', `the stored record of ${customerId} cannot be decoded: ${(err as Error).message}`, { cause: err, context: { customerId } });
  }
  throw new TierstreamError('TS_ERR_STATE_FORMAT', `the stored record of ${customerId} has an unknown format (first bytes ${stored.subarray(0, 2).toString('hex')})`, {
    context: { customerId },
  });
}
