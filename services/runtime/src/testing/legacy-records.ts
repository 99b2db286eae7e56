/**
 * Customer records as earlier releases wrote them, for tests of the upgrade path: the
 * writers those releases had, kept apart from the codec, which only reads these formats.
 */
import { Packr } from 'msgpackr';
import type { CustomerState, TierHolding, TransitionSummary } from '@tierstream/domain';

const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true });

/** The state as releases before v3 kept it: day buckets as objects keyed by day, history with a prose reason and no inputs. */
export const withProseHistory = (state: CustomerState): object => ({
  ...state,
  aggregates: { ...state.aggregates, buckets: objectBuckets(state.aggregates.buckets) },
  history: state.history.map(({ inputs: _inputs, ...h }) => ({ ...h, reason: `${h.rule}: as an old release explained it` })),
});

function objectBuckets(buckets: CustomerState['aggregates']['buckets']): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [series, b] of Object.entries(buckets)) {
    const days: Record<string, number> = {};
    for (let i = 0; i < b.length; i += 2) days[b[i] as number] = b[i + 1] as number;
    out[series] = days;
  }
  return out;
}

/** v1: JSON text of the record, pending transitions inside. */
export const encodeV1Record = (record: { state: CustomerState; pending: readonly object[] }): Buffer =>
  Buffer.from(JSON.stringify({ ...record, state: withProseHistory(record.state) }));

/** v2: `T`, 2, MessagePack of the whole record, pending inside. */
export const encodeV2Record = (record: { state: CustomerState; pending: readonly object[] }): Buffer =>
  Buffer.concat([Buffer.from([0x54, 2]), packr.pack({ ...record, state: withProseHistory(record.state) })]);

/** v3: `T`, 3, MessagePack of the state with tiers and history as tuples and day buckets delta-coded; pending in its own field. */
export function encodeV3Record(state: CustomerState): Buffer {
  const { forward: _forward, tiers, history, aggregates, ...rest } = state;
  const compactTiers: Record<string, unknown[]> = {};
  for (const d in tiers) {
    const h = tiers[d] as TierHolding;
    compactTiers[d] = [h.tier, h.rank, h.version, h.since, h.direction ?? null, h.earned ?? null];
  }
  const runs: Record<string, number[]> = {};
  for (const [series, b] of Object.entries(aggregates.buckets)) {
    const run: number[] = [];
    let previous = 0;
    for (let i = 0; i < b.length; i += 2) {
      run.push((b[i] as number) - previous, b[i + 1] as number);
      previous = b[i] as number;
    }
    runs[series] = run;
  }
  const running: Record<string, [number, number]> = {};
  for (const [key, r] of Object.entries(aggregates.running)) running[key] = [r.sum, r.from];
  const summary = (h: TransitionSummary): unknown[] => {
    const version = Number(h.transition_id.slice(h.transition_id.lastIndexOf('/') + 1));
    const id = h.transition_id === `${rest.customerId}/${h.dimension}/${version}` ? version : h.transition_id;
    return [h.dimension, id, h.from_tier, h.to_tier, h.rule === `${h.dimension}.${h.to_tier}` ? null : h.rule, h.at, h.inputs];
  };
  const body = packr.pack({ ...rest, aggregates: { ...aggregates, buckets: runs, running }, tiers: compactTiers, history: history.map(summary) });
  return Buffer.concat([Buffer.from([0x54, 3]), body]);
}
