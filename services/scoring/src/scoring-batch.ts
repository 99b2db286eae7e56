import {
  applyEventInPlace,
  applyOverrideInPlace,
  OverrideError,
  newCustomerState,
  nextDueTime,
  reevaluateInPlace,
  unconvertibleCurrency,
  type CustomerEvent,
  type CustomerEventRecord,
  type ApplyResult,
  type Assessment,
  type CustomerState,
  type OverrideCommand,
  type Policy,
  type TierChanged,
} from '@tierstream/domain';
import type { CustomerRecord, CustomerWrite, LoadedCustomer, PendingRejection, PendingTransition } from '@tierstream/runtime';

/**
 * One consumed record, decoded, with its offset: a customer event; a manual override
 * (applied at the customer's time, never late, not moving the watermark: its time is the
 * issuer's clock); or a clock tick (moves the watermark to its time, never late).
 */
export type ScoringInput =
  | { readonly offset: number; readonly event: CustomerEvent }
  | { readonly offset: number; readonly override: OverrideCommand }
  | { readonly offset: number; readonly tick: number };

/** The customer a record is for; none for a tick. */
export const customerOf = (input: ScoringInput): string | undefined =>
  'event' in input ? input.event.customer_id : 'override' in input ? input.override.customer_id : undefined;

/** Sorts a record of the events topic into what scoring does with it; a string says why it cannot be used. */
export function scoringInputOf(offset: number, record: CustomerEventRecord): ScoringInput | string {
  const { override, ...rest } = record;
  switch (rest.type) {
    case 'CLOCK_TICK':
      return { offset, tick: rest.event_time };
    case 'OVERRIDE':
      if (!override) return `OVERRIDE record ${rest.event_id} without override details`;
      return {
        offset,
        override: { command_id: rest.event_id, customer_id: rest.customer_id, ...override, issued_at: rest.event_time },
      };
    default:
      return { offset, event: { ...rest, type: rest.type } };
  }
}

export type RejectionCode = 'TS_ERR_SCORING_CURRENCY' | 'TS_ERR_SCORING_LATE' | 'TS_ERR_SCORING_OVERRIDE';

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
  /**
   * Customers due at or before the watermark, earliest first: re-evaluated there, as many as
   * the driver lets the batch take time for (see PlanStep).
   */
  readonly sweep: ReadonlySet<string>;
  /**
   * Customers an earlier attempt of this batch re-evaluated: re-evaluated again, always, so a
   * replay loads them and re-emits their pending transitions whatever the driver says.
   */
  readonly resweep?: ReadonlySet<string>;
  /**
   * Also re-evaluate at the watermark any customer of the batch whose next due time, once its
   * records are applied, is at or before the watermark: the due index read before the batch
   * cannot hold a due time the batch itself creates (true when the sweep is on).
   */
  readonly sweepTouched: boolean;
  /** advanceWatermark of the batch, when the caller computed it already (to read the due index up to it): not computed twice. */
  readonly advanced?: { readonly watermark: number; readonly late: ReadonlySet<number> };
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
  /** Due customers left for a later batch because the driver stopped the sweep (still due in the index). */
  readonly deferred: number;
}

/**
 * What the planner yields between two units of work (an event applied, a customer
 * re-evaluated), so a driver can give the event loop a turn: `'may-sweep'` before each due
 * customer the batch need not re-evaluate (not the first: a sweep always progresses), to
 * which the driver answers true to leave it and the rest to a later batch; `'step'` after
 * any other unit, whose answer is ignored.
 */
export type PlanStep = 'step' | 'may-sweep';

/**
 * The partition's watermark after `inputs` (in offset order), and which of them are late:
 * older than the running watermark minus the allowed lateness. Deterministic in the records,
 * so a replayed batch classifies them the same way.
 */
export function advanceWatermark(watermarkBefore: number, inputs: readonly ScoringInput[], allowedLatenessMs: number): { watermark: number; late: Set<number> } {
  let watermark = watermarkBefore;
  const late = new Set<number>();
  for (const input of [...inputs].sort((a, b) => a.offset - b.offset)) {
    if ('tick' in input) watermark = Math.max(watermark, input.tick);
    if (!('event' in input)) continue;
    if (input.event.event_time < watermark - allowedLatenessMs) late.add(input.offset);
    else watermark = Math.max(watermark, input.event.event_time);
  }
  return { watermark, late };
}

function rejection(input: ScoringInput, code: RejectionCode, policy: Policy, watermark: number, latenessMs: number): Rejected {
  if (!('event' in input)) return { offset: input.offset, code, message: 'not an event' };
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
 * last offset. Runs planBatchSteps to its end, sweeping every due customer.
 */
export function planBatch(...args: Parameters<typeof planBatchSteps>): BatchPlan {
  const steps = planBatchSteps(...args);
  for (;;) {
    const next = steps.next(false);
    if (next.done) return next.value;
  }
}

/**
 * planBatch as a generator, one unit of work per step (see PlanStep), so a caller can keep
 * its event loop responsive and bound the batch's sweep by time. Customers with records, or
 * re-evaluated by an earlier attempt, come first; then the due ones, earliest first.
 */
export function* planBatchSteps(
  partition: number,
  firstOffset: number,
  lastOffset: number,
  inputs: readonly ScoringInput[],
  loaded: readonly LoadedCustomer[],
  policy: Policy,
  now: number,
  time: BatchTime = { watermarkBefore: 0, allowedLatenessMs: Number.MAX_SAFE_INTEGER, sweep: new Set(), sweepTouched: false },
): Generator<PlanStep, BatchPlan, boolean | undefined> {
  const { watermark, late } = time.advanced ?? advanceWatermark(time.watermarkBefore, inputs, time.allowedLatenessMs);
  const byCustomer = new Map<string, ScoringInput[]>();
  for (const input of inputs) {
    const customer = customerOf(input);
    if (customer === undefined) continue;
    const list = byCustomer.get(customer) ?? [];
    list.push(input);
    byCustomer.set(customer, list);
  }
  const writes: CustomerWrite[] = [];
  const emitted: PendingTransition[] = [];
  const rejected: Rejected[] = [];
  const swept: string[] = [];
  const due = new Map<string, number | undefined>();
  let skipped = 0;
  const reject = (input: ScoringInput, code: RejectionCode) => rejected.push(rejection(input, code, policy, watermark, time.allowedLatenessMs));
  const codeOf = (input: ScoringInput): RejectionCode | undefined =>
    !('event' in input) ? undefined : late.has(input.offset) ? 'TS_ERR_SCORING_LATE' : unconvertibleCurrency(input.event, policy) !== undefined ? 'TS_ERR_SCORING_CURRENCY' : undefined;
  // An override that cannot apply throws before changing anything.
  const applyOne = (state: CustomerState, input: ScoringInput): ApplyResult | Rejected => {
    if ('event' in input) return applyEventInPlace(state, input.event, policy, now);
    if (!('override' in input)) return { state, transitions: [] };
    try {
      return applyOverrideInPlace(state, input.override, policy, now);
    } catch (err) {
      if (err instanceof OverrideError) return { offset: input.offset, code: 'TS_ERR_SCORING_OVERRIDE', message: err.message };
      throw err;
    }
  };

  const needed = (c: LoadedCustomer): boolean => byCustomer.has(c.customerId) || (time.resweep?.has(c.customerId) ?? false) || !time.sweep.has(c.customerId);
  const optional = loaded.filter((c) => !needed(c));
  let deferred = 0;
  let optionalSwept = 0;
  for (const current of [...loaded.filter(needed), ...optional]) {
    if (!needed(current) && optionalSwept++ > 0 && (yield 'may-sweep') === true) {
      deferred = optional.length - optionalSwept + 1;
      break;
    }
    const events = (byCustomer.get(current.customerId) ?? []).sort((a, b) => a.offset - b.offset);
    const fence = parseFence(current.fence);
    let state = current.record?.state ?? newCustomerState(current.customerId);
    // Still pending and not yet in a committed transaction: this batch re-emits them.
    const inBatch = (p: { partition: number; offset: number }) => p.partition === partition && p.offset <= lastOffset;
    const kept = (current.record?.pending ?? []).filter((p) => p.partition !== partition || p.offset >= firstOffset);
    const pending: PendingTransition[] = [...kept];
    emitted.push(...kept.filter(inBatch));
    const keptRejections = (current.record?.rejections ?? []).filter((r) => r.partition !== partition || r.offset >= firstOffset);
    const rejections: PendingRejection[] = [...keptRejections];
    rejected.push(...keptRejections.filter(inBatch).map(({ offset, code, message }) => ({ offset, code: code as RejectionCode, message })));
    let lastApplied: number | undefined;
    // The assessment of the state as the last evaluation left it, for its next due time: undefined once anything else changed it.
    let settled: Assessment | undefined;
    let changed = kept.length !== (current.record?.pending.length ?? 0) || keptRejections.length !== (current.record?.rejections?.length ?? 0);
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
      const applied = applyOne(state, input);
      if ('code' in applied) {
        rejected.push(applied);
        rejections.push({ partition, ...applied });
        continue;
      }
      settled = applied.assessment;
      const fresh = applied.transitions.map((event) => ({ partition, offset: input.offset, event }));
      pending.push(...fresh);
      emitted.push(...fresh);
      yield 'step';
    }
    const inSweep = time.sweep.has(current.customerId) || (time.resweep?.has(current.customerId) ?? false);
    let nextDue = changed && !inSweep ? nextDueTime(state, policy, settled ? { scope: 'decisions', assessment: settled } : { scope: 'decisions' }) : undefined;
    if (inSweep || (time.sweepTouched && nextDue !== undefined && nextDue <= watermark)) {
      const result = reevaluateInPlace(state, policy, watermark, now);
      state = result.state;
      swept.push(current.customerId);
      changed = true;
      const fresh = result.transitions.map((event) => ({ partition, offset: lastOffset, event }));
      pending.push(...fresh);
      emitted.push(...fresh);
      nextDue = nextDueTime(state, policy, result.assessment ? { scope: 'decisions', assessment: result.assessment } : { scope: 'decisions' });
      yield 'step';
    }
    if (!changed) continue;
    due.set(current.customerId, nextDue);
    const record: CustomerRecord = rejections.length > 0 ? { state, pending, rejections } : { state, pending };
    writes.push({
      customerId: current.customerId,
      expectedFence: current.fence,
      newFence: lastApplied === undefined ? current.fence : fenceOf(partition, lastApplied),
      record,
    });
  }
  emitted.sort((a, b) => a.offset - b.offset);
  return { writes, emit: emitted.map((p) => p.event), rejected, skipped, watermark, swept, due, deferred };
}
