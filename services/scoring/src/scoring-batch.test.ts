import path from 'node:path';
import type { CustomerEvent } from '@tierstream/domain';
import { loadPolicyFile, type CustomerRecord, type LoadedCustomer } from '@tierstream/runtime';
import { advanceWatermark, planBatch, planBatchSteps, scoringInputOf, type PlanStep, type ScoringInput } from './scoring-batch';

const policy = loadPolicyFile(path.resolve(__dirname, '..', '..', '..', 'policies', 'default.yaml'));
const DAY = 86_400_000;

const order = (customer: string, n: number, amount: number, currency = 'CNY'): CustomerEvent => ({
  event_id: `${customer}-e${n}`,
  customer_id: customer,
  type: 'ORDER',
  event_time: Date.UTC(2026, 0, 1) + n * DAY,
  channel: null,
  region: null,
  customer_type: null,
  industry: null,
  order: { order_id: `o${n}`, amount_minor: amount, currency, item_count: 1 },
  refund: null,
  interaction: null,
  feedback: null,
  attributes: {},
});

const fresh = (customerId: string): LoadedCustomer => ({ customerId, fence: '', record: undefined });
const stored = (customerId: string, fence: string, record: CustomerRecord): LoadedCustomer => ({ customerId, fence, record: JSON.parse(JSON.stringify(record)) as CustomerRecord });

describe('planBatch: applying a batch and redelivery', () => {
  const inputs: ScoringInput[] = [
    { offset: 10, event: order('a', 1, 60_000) },
    { offset: 11, event: order('b', 1, 10_000) },
    { offset: 12, event: order('a', 2, 300_000) },
  ];

  it('applies each customer’s events in offset order, fences at the last offset and emits the transitions', () => {
    const plan = planBatch(0, 10, 12, inputs, [fresh('a'), fresh('b')], policy, 0);
    const a = plan.writes.find((w) => w.customerId === 'a');
    expect(a?.newFence).toBe('0:12');
    expect(a?.expectedFence).toBe('');
    expect(a?.record.state.tiers['value']?.tier).toBe('high');
    expect(plan.emit.filter((t) => t.customer_id === 'a' && t.dimension === 'value').map((t) => t.transition_id)).toEqual(['a/value/1', 'a/value/2']);
    expect(plan.skipped).toBe(0);
  });

  it('after a crash between the Redis write and the Kafka commit, skips the applied events and emits the same transitions again', () => {
    const first = planBatch(0, 10, 12, inputs, [fresh('a'), fresh('b')], policy, 0);
    const afterCrash = first.writes.map((w) => stored(w.customerId, w.newFence, w.record));
    const replay = planBatch(0, 10, 12, inputs, afterCrash, policy, 0);
    expect(replay.skipped).toBe(3);
    expect(replay.emit.map((t) => t.transition_id)).toEqual(first.emit.map((t) => t.transition_id));
    // Nothing is applied twice, so there is nothing to write back.
    expect(replay.writes).toEqual([]);
  });

  it('drops pending transitions below the batch (committed already) and keeps those past its end for their own batch', () => {
    const first = planBatch(0, 10, 12, inputs, [fresh('a'), fresh('b')], policy, 0);
    const a = first.writes.find((w) => w.customerId === 'a');
    if (!a) throw new Error('no write for a');
    // The next batch starts at 13: everything pending for offsets 10..12 was committed.
    const next = planBatch(0, 13, 13, [{ offset: 13, event: order('a', 3, 1_000) }], [stored('a', a.newFence, a.record)], policy, 0);
    expect(next.writes[0]?.record.pending.every((p) => p.offset === 13)).toBe(true);
    expect(next.emit.every((t) => t.cause_event_id === 'a-e3')).toBe(true);
    // A shorter replay 10..11 re-emits only what offsets 10..11 caused.
    const shorter = planBatch(0, 10, 11, inputs.slice(0, 2), [stored('a', a.newFence, a.record)], policy, 0);
    expect(shorter.emit.map((t) => t.cause_event_id)).toEqual(expect.arrayContaining(['a-e1']));
    expect(shorter.emit.some((t) => t.cause_event_id === 'a-e2')).toBe(false);
  });

  it('rejects an amount in a currency without a rate, moves the fence past it, and rejects it again on replay', () => {
    const batch: ScoringInput[] = [{ offset: 20, event: order('c', 1, 5_000, 'XYZ') }, { offset: 21, event: order('c', 2, 60_000) }];
    const plan = planBatch(1, 20, 21, batch, [fresh('c')], policy, 0);
    expect(plan.rejected).toEqual([{ offset: 20, code: 'TS_ERR_SCORING_CURRENCY', message: expect.stringContaining('XYZ') }]);
    const write = plan.writes[0];
    expect(write?.newFence).toBe('1:21');
    expect(write?.record.state.metrics['spend_365d']).toBe(60_000);
    const replay = planBatch(1, 20, 21, batch, [stored('c', write?.newFence ?? '', write?.record as CustomerRecord)], policy, 0);
    expect(replay.rejected.map((r) => r.offset)).toEqual([20]);
  });
});

describe('planBatch: event time, late events and re-evaluation', () => {
  const time = (watermarkBefore: number, sweep: string[] = []) => ({ watermarkBefore, allowedLatenessMs: 7 * DAY, sweep: new Set(sweep), sweepTouched: true });

  it('advances the watermark with the batch and dead-letters events older than it minus the allowed lateness', () => {
    const batch: ScoringInput[] = [
      { offset: 1, event: order('a', 100, 10_000) },
      { offset: 2, event: order('b', 95, 10_000) }, // 5 days behind: allowed
      { offset: 3, event: order('c', 80, 10_000) }, // 20 days behind: late
    ];
    const plan = planBatch(0, 1, 3, batch, [fresh('a'), fresh('b'), fresh('c')], policy, 0, time(0));
    expect(plan.watermark).toBe(Date.UTC(2026, 0, 1) + 100 * DAY);
    expect(plan.rejected.map((r) => [r.offset, r.code])).toEqual([[3, 'TS_ERR_SCORING_LATE']]);
    expect(plan.writes.find((w) => w.customerId === 'c')?.newFence).toBe('0:3');
    expect(plan.writes.find((w) => w.customerId === 'c')?.record.state.metrics['spend_365d'] ?? 0).toBe(0);
    expect(plan.writes.find((w) => w.customerId === 'b')?.record.state.metrics['spend_365d']).toBe(10_000);
  });

  it('takes the watermark and the late events from the caller when it computed them already, and plans the same', () => {
    const batch: ScoringInput[] = [
      { offset: 1, event: order('a', 100, 10_000) },
      { offset: 3, event: order('c', 80, 10_000) },
    ];
    const advanced = advanceWatermark(0, batch, 7 * DAY);
    const given = planBatch(0, 1, 3, batch, [fresh('a'), fresh('c')], policy, 0, { ...time(0), advanced });
    expect(given).toEqual(planBatch(0, 1, 3, batch, [fresh('a'), fresh('c')], policy, 0, time(0)));
    // What the caller gave is what the plan uses (here: nothing late, a later watermark).
    const other = planBatch(0, 1, 3, batch, [fresh('a'), fresh('c')], policy, 0, { ...time(0), advanced: { watermark: advanced.watermark + DAY, late: new Set() } });
    expect([other.watermark, other.rejected]).toEqual([advanced.watermark + DAY, []]);
  });

  it('re-evaluates a due customer at the watermark, pending at the batch end, and a replay emits the same transition once', () => {
    const first = planBatch(0, 0, 0, [{ offset: 0, event: order('q', 1, 400_000) }], [fresh('q')], policy, 0, time(0));
    const q = first.writes[0];
    if (!q) throw new Error('no write for q');
    const due = first.due.get('q');
    expect(due).toBeDefined();
    // Another customer's event a year and a half later moves the watermark past q's window.
    const later = [{ offset: 5, event: order('z', 550, 1_000) }];
    const loaded = [stored('q', q.newFence, q.record), fresh('z')];
    const plan = planBatch(0, 5, 5, later, loaded, policy, 0, time(first.watermark, ['q']));
    const drop = plan.emit.find((t) => t.customer_id === 'q' && t.dimension === 'value');
    expect(drop).toMatchObject({ cause: 'REEVALUATION', cause_event_id: null, direction: 'DOWN' });
    expect(plan.swept).toEqual(['q']);
    const written = plan.writes.find((w) => w.customerId === 'q');
    expect(written?.newFence).toBe(q.newFence); // no event of q applied
    expect(written?.record.pending.find((p) => p.event.transition_id === drop?.transition_id)?.offset).toBe(5);

    // Crash before the Kafka commit, replay: q is re-evaluated again at the same time (no-op)
    // and its pending transition is emitted again with the same id.
    const replay = planBatch(0, 5, 5, later, [stored('q', written?.newFence ?? '', written?.record as CustomerRecord), fresh('z')], policy, 0, time(first.watermark, ['q']));
    expect(replay.emit.filter((t) => t.customer_id === 'q').map((t) => t.transition_id)).toEqual(plan.emit.filter((t) => t.customer_id === 'q').map((t) => t.transition_id));
  });
});

describe('planBatch: override commands and clock ticks', () => {
  const time = (watermarkBefore: number, sweep: string[] = []) => ({ watermarkBefore, allowedLatenessMs: 7 * DAY, sweep: new Set(sweep), sweepTouched: true });
  const T = (day: number) => Date.UTC(2026, 0, 1) + day * DAY;
  const pin = (customer: string, tier: string, until: number, id = 'cmd-1'): ScoringInput => ({
    offset: 0,
    override: { command_id: id, customer_id: customer, action: 'SET', dimension: 'value', tier, until, reason: 'strategic', actor: 'alice', issued_at: T(2) },
  });
  const at = (offset: number, input: ScoringInput): ScoringInput => ({ ...input, offset });

  it('sorts records into events, overrides and ticks, and names a malformed override', () => {
    const base = { event_id: 'x', customer_id: 'c', event_time: 5, channel: null, region: null, customer_type: null, industry: null, order: null, refund: null, interaction: null, feedback: null, attributes: {} };
    expect(scoringInputOf(1, { ...base, type: 'CLOCK_TICK' })).toEqual({ offset: 1, tick: 5 });
    const override = { action: 'CLEAR' as const, dimension: 'value', tier: null, until: null, reason: 'r', actor: 'a' };
    expect(scoringInputOf(2, { ...base, type: 'OVERRIDE', override })).toEqual({ offset: 2, override: { command_id: 'x', customer_id: 'c', ...override, issued_at: 5 } });
    expect(scoringInputOf(3, { ...base, type: 'OVERRIDE', override: null })).toBe('OVERRIDE record x without override details');
    expect(scoringInputOf(4, { ...base, type: 'INTERACTION' })).toEqual({ offset: 4, event: { ...base, type: 'INTERACTION' } });
  });

  it('moves the watermark with a tick, never late; an override neither moves it nor is late', () => {
    const { watermark, late } = advanceWatermark(T(10), [{ offset: 1, tick: T(30) }, at(2, pin('a', 'vip', T(40))), { offset: 3, tick: T(20) }], 7 * DAY);
    expect(watermark).toBe(T(30));
    expect(late.size).toBe(0);
    expect(advanceWatermark(T(10), [at(1, pin('a', 'vip', T(40)))], 7 * DAY).watermark).toBe(T(10));
  });

  it('applies an override in offset order with the customer events, emitting the OVERRIDE transition', () => {
    const batch: ScoringInput[] = [{ offset: 1, event: order('a', 1, 60_000) }, at(2, pin('a', 'vip', T(40)))];
    const plan = planBatch(0, 1, 2, batch, [fresh('a')], policy, 0, time(0));
    expect(plan.emit.filter((t) => t.dimension === 'value').map((t) => [t.to_tier, t.cause, t.cause_event_id])).toEqual([
      ['mid', 'EVENT', 'a-e1'],
      ['vip', 'OVERRIDE', 'cmd-1'],
    ]);
    expect(plan.writes[0]?.newFence).toBe('0:2');
    expect(plan.due.get('a')).toBeLessThanOrEqual(T(40));
  });

  it('dead-letters an override the state rules out, and a replay dead-letters it again even though the state moved on', () => {
    const clear: ScoringInput = { offset: 2, override: { command_id: 'cmd-c', customer_id: 'a', action: 'CLEAR', dimension: 'value', tier: null, until: null, reason: 'r', actor: 'bob', issued_at: T(2) } };
    // CLEAR before any pin: rejected; the pin after it (offset 3) applies.
    const batch: ScoringInput[] = [{ offset: 1, event: order('a', 1, 60_000) }, clear, at(3, pin('a', 'vip', T(40)))];
    const plan = planBatch(0, 1, 3, batch, [fresh('a')], policy, 0, time(0));
    expect(plan.rejected).toEqual([{ offset: 2, code: 'TS_ERR_SCORING_OVERRIDE', message: expect.stringContaining('no active override in value to clear') }]);
    const write = plan.writes[0];
    expect(write?.record.state.overrides?.['value']?.tier).toBe('vip');
    // A crash before the Kafka commit: the replay finds the pin in place (the CLEAR would now
    // apply) yet dead-letters the same command once, as the first attempt decided.
    const replay = planBatch(0, 1, 3, batch, [stored('a', write?.newFence ?? '', write?.record as CustomerRecord)], policy, 0, time(0));
    expect(replay.rejected).toEqual(plan.rejected);
    expect(replay.emit.map((t) => t.transition_id)).toEqual(plan.emit.map((t) => t.transition_id));
    // Once a later batch starts past it, the rejection is dropped from the state.
    const next = planBatch(0, 4, 4, [{ offset: 4, event: order('a', 3, 1_000) }], [stored('a', write?.newFence ?? '', write?.record as CustomerRecord)], policy, 0, time(0));
    expect(next.rejected).toEqual([]);
    expect(next.writes[0]?.record.rejections).toBeUndefined();
  });

  it('sweeps due customers when a tick alone moves the watermark past a pin end', () => {
    const first = planBatch(0, 1, 2, [{ offset: 1, event: order('a', 1, 60_000) }, at(2, pin('a', 'vip', T(40)))], [fresh('a')], policy, 0, time(0));
    const a = first.writes[0];
    if (!a) throw new Error('no write');
    const plan = planBatch(0, 3, 3, [{ offset: 3, tick: T(41) }], [stored('a', a.newFence, a.record)], policy, 0, time(first.watermark, ['a']));
    expect(plan.watermark).toBe(T(41));
    expect(plan.emit.filter((t) => t.dimension === 'value').map((t) => [t.from_tier, t.to_tier, t.cause, t.cause_event_time])).toEqual([['vip', 'mid', 'OVERRIDE_EXPIRED', T(40)]]);
  });
});

describe('planBatch: a customer whose due time the same batch creates and passes', () => {
  const T = (day: number) => Date.UTC(2026, 0, 1) + day * DAY;
  // Nobody is in the due index yet: a scoring worker started after the backlog built up.
  const time = (watermarkBefore: number, sweep: string[] = []) => ({ watermarkBefore, allowedLatenessMs: 7 * DAY, sweep: new Set(sweep), sweepTouched: true });
  // n's first order (day 1), then 31 more days of another customer's events in the same batch.
  const batch: ScoringInput[] = [{ offset: 0, event: order('n', 1, 60_000) }, ...Array.from({ length: 31 }, (_, i) => ({ offset: i + 1, event: order('z', i + 2, 1_000) }))];
  const lifecycleOf = (plan: ReturnType<typeof planBatch>, customer: string) => plan.emit.filter((t) => t.customer_id === customer && t.dimension === 'lifecycle');

  it('re-evaluates the customer at the watermark in that batch, at the due time it passed', () => {
    const plan = planBatch(0, 0, 31, batch, [fresh('n'), fresh('z')], policy, 0, time(0));
    expect(plan.watermark).toBe(T(32));
    // new_for_days 30: new on day 1, active from the start of day 31.
    expect(lifecycleOf(plan, 'n').map((t) => [t.from_tier, t.to_tier, t.cause, t.cause_event_time])).toEqual([
      [null, 'new', 'EVENT', T(1)],
      ['new', 'active', 'REEVALUATION', T(31)],
    ]);
    expect(plan.swept).toContain('n');
    // Its next due time lies past the watermark: nothing due is left behind in the index.
    for (const [customer, due] of plan.due) if (due !== undefined) expect([customer, due > plan.watermark]).toEqual([customer, true]);
    // The re-evaluation's transitions are pending at the batch's last offset, like a sweep's.
    const pending = plan.writes.find((w) => w.customerId === 'n')?.record.pending ?? [];
    expect(pending.find((p) => p.event.to_tier === 'active')?.offset).toBe(31);
  });

  it('a replay after a crash before the Kafka commit emits the same transitions with the same ids, once', () => {
    const first = planBatch(0, 0, 31, batch, [fresh('n'), fresh('z')], policy, 0, time(0));
    const afterCrash = first.writes.map((w) => stored(w.customerId, w.newFence, w.record));
    // The clock recorded the batch's sweep (swept:<last offset>): the replay sweeps those again.
    const replay = planBatch(0, 0, 31, batch, afterCrash, policy, 0, time(0, first.swept));
    expect(replay.emit.map((t) => t.transition_id)).toEqual(first.emit.map((t) => t.transition_id));
    expect(new Set(replay.emit.map((t) => t.transition_id)).size).toBe(replay.emit.length);
    // And a crash before the state was written replays from the old state to the same result.
    const fromScratch = planBatch(0, 0, 31, batch, [fresh('n'), fresh('z')], policy, 0, time(0, first.swept));
    expect(fromScratch.emit.map((t) => t.transition_id)).toEqual(first.emit.map((t) => t.transition_id));
  });

  it('leaves the customer alone with the sweep off', () => {
    const plan = planBatch(0, 0, 31, batch, [fresh('n'), fresh('z')], policy, 0, { ...time(0), sweepTouched: false });
    expect(lifecycleOf(plan, 'n').map((t) => t.to_tier)).toEqual(['new']);
  });
});

describe('planBatchSteps: a sweep bounded by its driver', () => {
  const T = (day: number) => Date.UTC(2026, 0, 1) + day * DAY;
  // Four customers, each with one order on day 1, stored as a first batch left them.
  const ids = ['d1', 'd2', 'd3', 'd4'];
  const first = planBatch(0, 0, 3, ids.map((id, i) => ({ offset: i, event: order(id, 1, 60_000) })), ids.map(fresh), policy, 0);
  const storedNow = () => first.writes.map((w) => stored(w.customerId, w.newFence, w.record));
  const time = (sweep: string[], resweep: string[] = []) => ({ watermarkBefore: T(1), allowedLatenessMs: 7 * DAY, sweep: new Set(sweep), resweep: new Set(resweep), sweepTouched: true });
  // A tick 400 days later: everyone is due.
  const tick: ScoringInput[] = [{ offset: 4, tick: T(401) }];
  /** Steps the plan, answering `stopAt(n)` to the n-th 'may-sweep'. */
  const drive = (steps: Generator<PlanStep, ReturnType<typeof planBatch>, boolean | undefined>, stopAt: (n: number) => boolean) => {
    let asked = 0;
    let reply = false;
    for (;;) {
      const next = steps.next(reply);
      if (next.done) return { plan: next.value, asked };
      reply = next.value === 'may-sweep' ? stopAt(++asked) : false;
    }
  };

  it('sweeps every due customer when the driver never stops it, as planBatch does', () => {
    const { plan, asked } = drive(planBatchSteps(0, 4, 4, tick, storedNow(), policy, 0, time(ids)), () => false);
    expect(asked).toBe(3); // before each due customer but the first
    expect(plan.swept).toEqual(ids);
    expect(plan.deferred).toBe(0);
    expect(plan.emit.map((t) => t.transition_id)).toEqual(planBatch(0, 4, 4, tick, storedNow(), policy, 0, time(ids)).emit.map((t) => t.transition_id));
  });

  it('leaves the rest of the due customers to a later batch when told to stop, unwritten', () => {
    const { plan } = drive(planBatchSteps(0, 4, 4, tick, storedNow(), policy, 0, time(ids)), (n) => n === 1);
    expect(plan.swept).toEqual(['d1']);
    expect(plan.deferred).toBe(3);
    expect(plan.writes.map((w) => w.customerId)).toEqual(['d1']);
    expect([...plan.due.keys()]).toEqual(['d1']);
  });

  it('always re-sweeps the customers an earlier attempt swept, and never defers a customer with records', () => {
    const withEvent: ScoringInput[] = [...tick, { offset: 5, event: order('d4', 401, 1_000) }];
    const { plan } = drive(planBatchSteps(0, 4, 5, withEvent, storedNow(), policy, 0, time(['d1', 'd2', 'd3'], ['d3'])), () => true);
    // d3 (an earlier attempt's) and d4 (its own event, which catches it up) come first; of the
    // due ones only the first is taken.
    expect(plan.swept.sort()).toEqual(['d1', 'd3']);
    expect(plan.writes.find((w) => w.customerId === 'd4')?.newFence).toBe('0:5');
    expect(plan.deferred).toBe(1);
  });
});
