import {
  applyEventInPlace,
  newCustomerState,
  unconvertibleCurrency,
  type CustomerEvent,
  type Policy,
  type TierChanged,
} from '@tierstream/domain';
import type { CustomerRecord, CustomerWrite, LoadedCustomer, PendingTransition } from '@tierstream/runtime';

/** One consumed record, decoded (or not), with its coordinates. */
export interface ScoringInput {
  readonly offset: number;
  readonly event: CustomerEvent;
}

export interface Rejected {
  readonly offset: number;
  readonly code: 'TS_ERR_SCORING_CURRENCY';
  readonly message: string;
}

export interface BatchPlan {
  /** Records to write back (compare-and-set on their fence). */
  readonly writes: CustomerWrite[];
  /** Transitions to produce in this batch's transaction, in offset order. */
  readonly emit: TierChanged[];
  readonly rejected: Rejected[];
  /** Events skipped because the customer's fence shows them applied already. */
  readonly skipped: number;
}

function currencyRejection(input: ScoringInput, policy: Policy): Rejected {
  const currency = unconvertibleCurrency(input.event, policy) ?? '?';
  return { offset: input.offset, code: 'TS_ERR_SCORING_CURRENCY', message: `event ${input.event.event_id}: no fx rate from ${currency} to the policy currency ${policy.currency}` };
}

const fenceOf = (partition: number, offset: number): string => `${partition}:${offset}`;

function parseFence(fence: string): { partition: number; offset: number } | undefined {
  const m = /^(\d+):(\d+)$/.exec(fence);
  return m ? { partition: Number(m[1]), offset: Number(m[2]) } : undefined;
}

/**
 * Plans one partition batch, without I/O: applies each customer's events in offset
 * order past its fence, and decides what to emit. Redelivery is harmless: events at or
 * below the fence are skipped, and transitions still pending from an earlier attempt
 * whose offsets lie in this batch are emitted again, with the same ids. Pending ones
 * below the batch's first offset were committed to Kafka already and are dropped.
 */
export function planBatch(
  partition: number,
  firstOffset: number,
  lastOffset: number,
  inputs: readonly ScoringInput[],
  loaded: readonly LoadedCustomer[],
  policy: Policy,
  now: number,
): BatchPlan {
  const byCustomer = new Map<string, ScoringInput[]>();
  for (const input of inputs) {
    const list = byCustomer.get(input.event.customer_id) ?? [];
    list.push(input);
    byCustomer.set(input.event.customer_id, list);
  }
  const writes: CustomerWrite[] = [];
  const emitted: PendingTransition[] = [];
  const rejected: Rejected[] = [];
  let skipped = 0;
  for (const current of loaded) {
    const events = byCustomer.get(current.customerId) ?? [];
    const fence = parseFence(current.fence);
    let state = current.record?.state ?? newCustomerState(current.customerId);
    // Still pending and not yet in a committed transaction: this batch re-emits them.
    const kept = (current.record?.pending ?? []).filter((p) => p.partition !== partition || p.offset >= firstOffset);
    const pending: PendingTransition[] = [...kept];
    emitted.push(...kept.filter((p) => p.partition === partition && p.offset <= lastOffset));
    let lastApplied: number | undefined;
    for (const input of events) {
      if (fence && fence.partition === partition && input.offset <= fence.offset) {
        skipped++;
        // Its dead letter went into the uncommitted transaction too: send it again.
        const currency = unconvertibleCurrency(input.event, policy);
        if (currency !== undefined) rejected.push(currencyRejection(input, policy));
        continue;
      }
      lastApplied = input.offset;
      if (unconvertibleCurrency(input.event, policy) !== undefined) {
        rejected.push(currencyRejection(input, policy));
        continue;
      }
      // The loaded state was parsed for this batch alone: update it in place, no copy per event.
      const result = applyEventInPlace(state, input.event, policy, now);
      state = result.state;
      const fresh = result.transitions.map((event) => ({ partition, offset: input.offset, event }));
      pending.push(...fresh);
      emitted.push(...fresh);
    }
    if (lastApplied === undefined && kept.length === (current.record?.pending.length ?? 0)) continue;
    const record: CustomerRecord = { state, pending };
    writes.push({
      customerId: current.customerId,
      expectedFence: current.fence,
      newFence: lastApplied === undefined ? current.fence : fenceOf(partition, lastApplied),
      record,
    });
  }
  emitted.sort((a, b) => a.offset - b.offset);
  return { writes, emit: emitted.map((p) => p.event), rejected, skipped };
}
