import {
  applyEventInPlace,
  newCustomerState,
  nextDueTime,
  reevaluateInPlace,
  unconvertibleCurrency,
  type CustomerEvent,
  type Policy,
  type TierChanged,
} from '@tierstream/domain';
import type { CustomerRecord, CustomerWrite, LoadedCustomer, PendingTransition } from '@tierstream/runtime';

/** One consumed record, decoded, with its offset. */
export interface ScoringInput {
  readonly offset: number;
  readonly event: CustomerEvent;
}

export type RejectionCode = 'TS_ERR_SCORING_CURRENCY' | 'TS_ERR_SCORING_LATE';

export interface Rejected {
  readonly offset: number;
  readonly code: RejectionCode;
  readonly message: string;
}

/** The partition's event time as this batch sees it. */
export interface BatchTime {
  /** Watermark before the batch (the max event time of the partition's earlier batches). */
  readonly watermarkBefore: number;
  /** Events older than the running watermark minus this are late: dead-lettered. */
  readonly allowedLatenessMs: number;
  /** Customers to re-evaluate at the batch's watermark (due, or swept by an earlier attempt). */
  readonly sweep: ReadonlySet<string>;
}

export interface BatchPlan {
  /** Records to write back (compare-and-set on their fence). */
  readonly writes: CustomerWrite[];
  /** Transitions to produce in this batch's transaction, in offset order. */
  readonly emit: TierChanged[];
  readonly rejected: Rejected[];
  /** Events skipped because the customer's fence shows them applied already. */
  readonly skipped: number;
  /** The watermark after this batch. */
  readonly watermark: number;
  /** Customers re-evaluated at the watermark. */
  readonly swept: string[];
  /** Every customer touched → its next due time (undefined: nothing due without events). */
  readonly due: Map<string, number | undefined>;
}

/**
 * The partition's watermark after `inputs` (in offset order), and which of them are late:
 * older than the running watermark minus the allowed lateness. Deterministic in the records,
 * so a replayed batch classifies them the same way.
 */
export function advanceWatermark(watermarkBefore: number, inputs: readonly ScoringInput[], allowedLatenessMs: number): { watermark: number; late: Set<number> } {
  let watermark = watermarkBefore;
  const late = new Set<number>();
  for (const input of [...inputs].sort((a, b) => a.offset - b.offset)) {
    if (input.event.event_time < watermark - allowedLatenessMs) late.add(input.offset);
    else watermark = Math.max(watermark, input.event.event_time);
  }
  return { watermark, late };
}

function rejection(input: ScoringInput, code: RejectionCode, policy: Policy, watermark: number, latenessMs: number): Rejected {
  if (code === 'TS_ERR_SCORING_LATE') {
    return {
      offset: input.offset,
      code,
      message: `event ${input.event.event_id} at ${new Date(input.event.event_time).toISOString()} is older than the watermark ${new Date(watermark).toISOString()} minus the allowed lateness of ${latenessMs / 3_600_000} h`,
    };
  }
  const currency = unconvertibleCurrency(input.event, policy) ?? '?';
  return { offset: input.offset, code, message: `event ${input.event.event_id}: no fx rate from ${currency} to the policy currency ${policy.currency}` };
}

const fenceOf = (partition: number, offset: number): string => `${partition}:${offset}`;

function parseFence(fence: string): { partition: number; offset: number } | undefined {
  const m = /^(\d+):(\d+)$/.exec(fence);
  return m ? { partition: Number(m[1]), offset: Number(m[2]) } : undefined;
}

/**
 * Plans one partition batch, without I/O: applies each customer's events in offset order
 * past its fence, re-evaluates the due customers at the batch's watermark, and decides what
 * to emit. Redelivery is harmless: events at or below the fence are skipped, and
 * transitions still pending from an earlier attempt whose offsets lie in this batch are
 * emitted again, with the same ids. Pending ones below the batch's first offset were
 * committed to Kafka already and are dropped. Re-evaluations are pending at the batch's
 * last offset.
 */
export function planBatch(
  partition: number,
  firstOffset: number,
  lastOffset: number,
  inputs: readonly ScoringInput[],
  loaded: readonly LoadedCustomer[],
  policy: Policy,
  now: number,
  time: BatchTime = { watermarkBefore: 0, allowedLatenessMs: Number.MAX_SAFE_INTEGER, sweep: new Set() },
): BatchPlan {
  const { watermark, late } = advanceWatermark(time.watermarkBefore, inputs, time.allowedLatenessMs);
  const byCustomer = new Map<string, ScoringInput[]>();
  for (const input of inputs) {
    const list = byCustomer.get(input.event.customer_id) ?? [];
    list.push(input);
    byCustomer.set(input.event.customer_id, list);
  }
  const writes: CustomerWrite[] = [];
  const emitted: PendingTransition[] = [];
  const rejected: Rejected[] = [];
  const swept: string[] = [];
  const due = new Map<string, number | undefined>();
  let skipped = 0;
  const reject = (input: ScoringInput, code: RejectionCode) => rejected.push(rejection(input, code, policy, watermark, time.allowedLatenessMs));
  const codeOf = (input: ScoringInput): RejectionCode | undefined =>
    late.has(input.offset) ? 'TS_ERR_SCORING_LATE' : unconvertibleCurrency(input.event, policy) !== undefined ? 'TS_ERR_SCORING_CURRENCY' : undefined;

  for (const current of loaded) {
    const events = (byCustomer.get(current.customerId) ?? []).sort((a, b) => a.offset - b.offset);
    const fence = parseFence(current.fence);
    let state = current.record?.state ?? newCustomerState(current.customerId);
    // Still pending and not yet in a committed transaction: this batch re-emits them.
    const kept = (current.record?.pending ?? []).filter((p) => p.partition !== partition || p.offset >= firstOffset);
    const pending: PendingTransition[] = [...kept];
    emitted.push(...kept.filter((p) => p.partition === partition && p.offset <= lastOffset));
    let lastApplied: number | undefined;
    let changed = kept.length !== (current.record?.pending.length ?? 0);
    for (const input of events) {
      const code = codeOf(input);
      if (fence && fence.partition === partition && input.offset <= fence.offset) {
        skipped++;
        // Its dead letter went into the uncommitted transaction too: send it again.
        if (code !== undefined) reject(input, code);
        continue;
      }
      lastApplied = input.offset;
      changed = true;
      if (code !== undefined) {
        reject(input, code);
        continue;
      }
      // The loaded state was parsed for this batch alone: update it in place, no copy per event.
      const result = applyEventInPlace(state, input.event, policy, now);
      state = result.state;
      const fresh = result.transitions.map((event) => ({ partition, offset: input.offset, event }));
      pending.push(...fresh);
      emitted.push(...fresh);
    }
    if (time.sweep.has(current.customerId)) {
      const result = reevaluateInPlace(state, policy, watermark, now);
      state = result.state;
      swept.push(current.customerId);
      changed = true;
      const fresh = result.transitions.map((event) => ({ partition, offset: lastOffset, event }));
      pending.push(...fresh);
      emitted.push(...fresh);
    }
    if (!changed) continue;
    due.set(current.customerId, nextDueTime(state, policy, { scope: 'decisions' }));
    const record: CustomerRecord = { state, pending };
    writes.push({
      customerId: current.customerId,
      expectedFence: current.fence,
      newFence: lastApplied === undefined ? current.fence : fenceOf(partition, lastApplied),
      record,
    });
  }
  emitted.sort((a, b) => a.offset - b.offset);
  return { writes, emit: emitted.map((p) => p.event), rejected, skipped, watermark, swept, due };
}
