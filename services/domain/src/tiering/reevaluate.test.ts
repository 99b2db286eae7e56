/**
 * Re-evaluation without an event (time passing) and the due time that says when it is
 * needed, with their properties over random histories (fast-check).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { DAY_MS, NEVER_DAYS } from '../aggregates/customer-aggregates';
import type { CustomerEvent, EventType } from '../events';
import { compilePolicy } from '../policy/compile-policy';
import type { Policy } from '../policy/policy-model';
import { applyEvent, newCustomerState, reevaluate, reevaluateInPlace, type CustomerState } from './customer-state';
import { DecisionDueCursor, nextDueTime } from './due-time';
import { evaluatePolicy } from './evaluate-policy';

const T0 = Date.UTC(2025, 0, 1);
const at = (day: number, hour = 12): number => T0 + day * DAY_MS + hour * 3_600_000;
const midnight = (day: number): number => T0 + day * DAY_MS;
const EMITTED = Date.UTC(2030, 0, 1);
const DEFAULT = compilePolicy(parse(readFileSync(path.join(__dirname, '../../../../policies/default.yaml'), 'utf8')), 'policies/default.yaml');
const policyOf = (yaml: string): Policy => compilePolicy(parse(yaml), 'test.yaml');

let seq = 0;
function event(type: EventType, time: number, extra: Partial<CustomerEvent> = {}): CustomerEvent {
  seq += 1;
  return {
    event_id: `e${seq}`, customer_id: 'c1', type, event_time: time, channel: null, region: null, customer_type: null, industry: null,
    order: null, refund: null, interaction: null, feedback: null, attributes: {}, ...extra,
  };
}
const order = (time: number, amount: number, extra: Partial<CustomerEvent> = {}): CustomerEvent =>
  event('ORDER', time, { order: { order_id: `o${seq}`, amount_minor: amount, currency: 'CNY', item_count: 1 }, ...extra });

function applyAll(events: readonly CustomerEvent[], policy: Policy, state: CustomerState = newCustomerState('c1')): CustomerState {
  for (const e of events) state = applyEvent(state, e, policy, EMITTED).state;
  return state;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

describe('reevaluate', () => {
  it('lets a customer who stops buying drift down without any event, with cause REEVALUATION', () => {
    const state = applyAll([order(at(0), 600_000)], DEFAULT);
    expect(state.tiers['value']?.tier).toBe('high');
    const { state: later, transitions } = reevaluate(state, DEFAULT, midnight(365), EMITTED);
    // Each on the day it happened: the lifecycle deadlines, then the yearly spend leaving its window.
    expect(transitions.map((t) => [t.dimension, t.from_tier, t.to_tier, t.direction, t.cause_event_time])).toEqual([
      ['lifecycle', 'new', 'active', 'LATERAL', midnight(30)],
      ['lifecycle', 'active', 'at_risk', 'DOWN', midnight(60)],
      ['lifecycle', 'at_risk', 'churned', 'DOWN', midnight(180)],
      ['value', 'high', 'low', 'DOWN', midnight(365)],
      ['rfm_segment', 'big_spender', 'hibernating', 'LATERAL', midnight(365)],
    ]);
    for (const t of transitions) expect(t).toMatchObject({ cause: 'REEVALUATION', cause_event_id: null, emitted_at: EMITTED });
    expect(transitions[3]?.reason).toBe(
      'value.low: true (score=20, spend_365d=0); left high: keep_when spend_365d >= 270000 is false, earned 365 days ago >= grace_days 30, last change 365 days ago >= min_days_between_changes 7',
    );
    expect(later.aggregates.now).toBe(midnight(365));
    expect(later.metrics).toMatchObject({ spend_365d: 0, spend_lifetime: 600_000, recency_days: 365, orders_365d: 0 });
    expect(later.tiers['value']).toMatchObject({ tier: 'low', version: 2, since: midnight(365) });
    expect(later.history[0]).toMatchObject({ dimension: 'rfm_segment', at: midnight(365) });
  });

  it('is idempotent: again at the same or an earlier time, no transitions and the same state', () => {
    const state = applyAll([order(at(0), 600_000), order(at(40), 100)], DEFAULT);
    const once = reevaluate(state, DEFAULT, midnight(200), EMITTED).state;
    const snapshot = JSON.stringify(once);
    for (const time of [midnight(200), midnight(150), at(40), 0]) {
      const again = reevaluate(once, DEFAULT, time, EMITTED + 1);
      expect(again.transitions).toEqual([]);
      expect(JSON.stringify(again.state)).toBe(snapshot);
    }
  });

  it('changes nothing before the customer time, and nothing for a customer without events', () => {
    const state = applyAll([order(at(10), 600_000)], DEFAULT);
    const before = reevaluate(state, DEFAULT, at(9), EMITTED);
    expect(before.transitions).toEqual([]);
    expect(before.state).toEqual(state);
    const empty = reevaluate(newCustomerState('c2'), DEFAULT, midnight(100), EMITTED);
    expect(empty.transitions).toEqual([]);
    expect(empty.state).toEqual(newCustomerState('c2'));
  });

  it('does not change the state passed in; the in-place variant updates the one it is given', () => {
    const state = deepFreeze(applyAll([order(at(0), 600_000)], DEFAULT));
    const snapshot = JSON.stringify(state);
    const result = reevaluate(state, DEFAULT, midnight(400), EMITTED);
    expect(JSON.stringify(state)).toBe(snapshot);
    expect(result.state).not.toBe(state);
    const owned = structuredClone(state);
    const inPlace = reevaluateInPlace(owned, DEFAULT, midnight(400), EMITTED);
    expect(inPlace.state).toBe(owned);
    expect(inPlace.transitions).toEqual(result.transitions);
    expect(owned).toEqual(result.state);
  });

  it('moves windows without adding an event: counts stay, recency grows, lifetime stays', () => {
    const state = applyAll([order(at(0), 1000), order(at(20), 2000)], DEFAULT);
    const later = reevaluate(state, DEFAULT, midnight(30), EMITTED).state;
    expect(later.metrics).toMatchObject({ spend_30d: 2000, spend_90d: 3000, orders_90d: 2, recency_days: 10, spend_lifetime: 3000 });
    expect(later.aggregates.lastSeen['ANY']).toBe(at(20));
  });

  it('treats events older than the re-evaluation time as late events, and still takes their segmentation when newer than every event', () => {
    let state = applyAll([order(at(0), 1000, { region: 'east' })], DEFAULT);
    state = reevaluate(state, DEFAULT, midnight(40), EMITTED).state;
    state = applyEvent(state, order(at(5), 2000, { region: 'west' }), DEFAULT, EMITTED).state;
    expect(state.aggregates.now).toBe(midnight(40));
    // The window ends on day 40: the day-0 order has left the 30-day window, the day-5 one too.
    expect(state.metrics).toMatchObject({ spend_30d: 0, spend_90d: 3000, recency_days: 35 });
    expect(state.profile.region).toBe('west');
  });
});

describe('nextDueTime', () => {
  const WINDOWS = policyOf(`
id: w
version: "1"
currency: CNY
metrics:
  spend_30d: { sum: order.amount, window: 30d }
  orders_7d: { count: ORDER, window: 7d }
  big_30d:   { max: order.amount, window: 30d }
  ch_10d:    { distinct: channel, window: 10d }
  spend:     { sum: order.amount }
dimensions:
  d:
    tiers:
      - { name: a, when: "spend_30d > 0" }
      - { name: b, when: "true" }
`);

  it('is undefined for a customer without events, and when nothing can change', () => {
    expect(nextDueTime(newCustomerState('c1'), DEFAULT)).toBeUndefined();
    const state = applyAll([event('PROFILE_UPDATE', at(0))], WINDOWS);
    expect(nextDueTime(state, WINDOWS)).toBeUndefined();
  });

  it('is the first day a windowed contribution leaves its window (sum, count, max, distinct)', () => {
    let state = applyAll([order(at(0), 500, { channel: 'web' }), order(at(3), 900), order(at(12), 100, { channel: 'app' })], WINDOWS);
    const dues: number[] = [];
    for (let due = nextDueTime(state, WINDOWS); due !== undefined; due = nextDueTime(state, WINDOWS)) {
      dues.push((due - T0) / DAY_MS);
      state = reevaluate(state, WINDOWS, due, EMITTED).state;
    }
    // At day 12 the 7- and 10-day windows hold only day 12: orders_7d changes on 19, ch_10d on 22;
    // spend_30d on 30, 33 and 42; big_30d (900 on day 3) on 33, then 42.
    expect(dues).toEqual([19, 22, 30, 33, 42]);
    expect(state.metrics).toEqual({ spend_30d: 0, orders_7d: 0, big_30d: 0, ch_10d: 0, spend: 1500 });
  });

  it('is the next day for a recency metric in the metrics scope; in the decisions scope only where an RFM cut-off is crossed', () => {
    const state = applyAll([order(at(0), 600_000)], DEFAULT);
    expect(nextDueTime(state, DEFAULT)).toBe(midnight(1));
    let s = state;
    const dues: number[] = [];
    for (let due = nextDueTime(s, DEFAULT, { scope: 'decisions' }); due !== undefined; due = nextDueTime(s, DEFAULT, { scope: 'decisions' })) {
      dues.push((due - T0) / DAY_MS);
      s = reevaluate(s, DEFAULT, due, EMITTED).state;
    }
    // lifecycle 30 (new ends), 60, 180; recency cuts 30/60/120/240 are crossed on 31, 61, 121, 241; 90-day windows on 90; 365-day on 365.
    expect(dues).toEqual([30, 31, 60, 61, 90, 121, 180, 241, 365]);
    expect(s.metrics['recency_days']).toBe(365);
  });

  it('includes the end of a grace period that keeps a tier, and of the min-days period', () => {
    const policy = policyOf(`
id: g
version: "1"
currency: CNY
metrics:
  spend_30d: { sum: order.amount, window: 30d }
dimensions:
  d:
    hysteresis: { grace_days: 40, min_days_between_changes: 50 }
    tiers:
      - { name: a, when: "spend_30d > 0" }
      - { name: b, when: "true" }
`);
    let state = applyAll([order(at(0), 100)], policy);
    expect(nextDueTime(state, policy)).toBe(midnight(30));
    state = reevaluate(state, policy, midnight(30), EMITTED).state;
    expect(state.tiers['d']?.tier).toBe('a'); // kept by the grace
    expect(nextDueTime(state, policy)).toBe(midnight(40));
    const atGraceEnd = reevaluate(state, policy, midnight(40), EMITTED);
    expect(atGraceEnd.transitions).toEqual([]); // the min-days rule still holds it
    expect(nextDueTime(atGraceEnd.state, policy)).toBe(midnight(50));
    expect(reevaluate(atGraceEnd.state, policy, midnight(50), EMITTED).transitions.map((t) => t.to_tier)).toEqual(['b']);
  });
});

// ---------------------------------------------------------------- properties

/** Every windowed kind and a ratio; no recency (it changes daily by definition) and no lifecycle. */
const WIDE = policyOf(`
id: wide
version: "1"
currency: CNY
metrics:
  spend_1d:     { sum: order.amount, window: 1d }
  spend_30d:    { sum: order.amount, window: 30d }
  spend_90d:    { sum: order.amount, window: 90d }
  spend_ever:   { sum: order.amount }
  refunds_30d:  { sum: refund.amount, window: 30d }
  orders_7d:    { count: ORDER, window: 7d }
  visits_45d:   { count: VISIT, window: 45d }
  any_60d:      { count: ANY, window: 60d }
  max_7d:       { max: order.amount, window: 7d }
  max_90d:      { max: order.amount, window: 90d }
  channels_20d: { distinct: channel, window: 20d }
  regions_90d:  { distinct: region, window: 90d }
  satisfaction: { last: feedback.score }
  rate_30d:     { ratio: [refunds_30d, spend_30d] }
dimensions:
  d:
    tiers:
      - { name: a, when: "spend_30d >= 1000" }
      - { name: b, when: "true" }
`);

const CHANNELS = ['web', 'app', 'store'] as const;
const arbDraft = fc
  .record({
    day: fc.integer({ min: 0, max: 200 }),
    ms: fc.integer({ min: 0, max: DAY_MS - 1 }),
    kind: fc.constantFrom('ORDER', 'ORDER', 'REFUND', 'VISIT', 'SURVEY', 'PROFILE'),
    amount: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 900_000 })),
    channel: fc.option(fc.constantFrom(...CHANNELS), { nil: null }),
    region: fc.option(fc.constantFrom('east', 'north'), { nil: null }),
  })
  .map(({ day, ms, kind, amount, channel, region }): CustomerEvent => {
    const time = T0 + day * DAY_MS + ms;
    const common = { channel, region };
    switch (kind) {
      case 'ORDER':
        return order(time, amount, common);
      case 'REFUND':
        return event('REFUND', time, { ...common, refund: { order_id: 'o', amount_minor: amount, currency: 'CNY' } });
      case 'VISIT':
        return event('INTERACTION', time, { ...common, interaction: { kind: 'VISIT', campaign_id: null } });
      case 'SURVEY':
        return event('FEEDBACK', time, { ...common, feedback: { kind: 'SATISFACTION', score: 1 + (amount % 5), comment: null } });
      default:
        return event('PROFILE_UPDATE', time, common);
    }
  });
const arbHistory = fc.array(arbDraft, { minLength: 1, maxLength: 30 });
/** Up to 8 points strictly inside (0, 1). */
const arbFractions = fc.array(fc.double({ min: 0.0001, max: 0.9999, noNaN: true }), { minLength: 1, maxLength: 8 });

const metricsAt = (state: CustomerState, policy: Policy, time: number): Record<string, number> => reevaluate(state, policy, time, EMITTED).state.metrics;

describe('properties of nextDueTime', () => {
  it('DecisionDueCursor gives what nextDueTime gives in the decisions scope at every step of a catch-up without events', () => {
    fc.assert(
      fc.property(arbHistory, fc.constantFrom(DEFAULT, WIDE), (events, policy) => {
        const state = applyAll(events, policy);
        const cursor = new DecisionDueCursor(state, policy);
        for (let step = 0; step < 40; step++) {
          const due = cursor.next();
          expect(due).toBe(nextDueTime(state, policy, { scope: 'decisions' }));
          if (due === undefined) break;
          reevaluateInPlace(state, policy, due, EMITTED);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('no metric changes between the customer time and nextDueTime (inclusive of due - 1 day and due - 1 ms); one does at the due time', () => {
    fc.assert(
      fc.property(arbHistory, arbFractions, (events, fractions) => {
        const state = applyAll(events, WIDE);
        const now = state.aggregates.now;
        const due = nextDueTime(state, WIDE);
        if (due === undefined) {
          expect(metricsAt(state, WIDE, now + 4000 * DAY_MS)).toEqual(state.metrics);
          return;
        }
        expect(due).toBeGreaterThan(now);
        expect(due % DAY_MS).toBe(0);
        const probes = [due - DAY_MS, due - 1, ...fractions.map((f) => now + Math.floor(f * (due - now)))].filter((t) => t > now && t < due);
        for (const t of probes) expect(metricsAt(state, WIDE, t)).toEqual(state.metrics);
        expect(metricsAt(state, WIDE, due)).not.toEqual(state.metrics);
      }),
      { numRuns: 300 },
    );
  });

  it('on the default policy, in both scopes: re-evaluating before the due time changes no decision and emits nothing', () => {
    fc.assert(
      fc.property(arbHistory, arbFractions, fc.constantFrom('metrics' as const, 'decisions' as const), (events, fractions, scope) => {
        let state = applyAll(events, DEFAULT);
        // Walk a few due times, checking the stretch before each.
        for (let step = 0; step < 4; step++) {
          const now = state.aggregates.now;
          const due = nextDueTime(state, DEFAULT, { scope });
          const end = due ?? now + 3000 * DAY_MS;
          const decided = evaluatePolicy(DEFAULT, state.metrics).variables;
          for (const t of [end - DAY_MS, end - 1, ...fractions.map((f) => now + Math.floor(f * (end - now)))].filter((x) => x > now && x < end)) {
            const r = reevaluate(state, DEFAULT, t, EMITTED);
            expect(r.transitions).toEqual([]);
            expect(r.state.tiers).toEqual(state.tiers);
            const v = evaluatePolicy(DEFAULT, r.state.metrics).variables;
            for (const name of ['rfm_r', 'rfm_f', 'rfm_m', 'points', 'score']) expect(v[name]).toBe(decided[name]);
            if (scope === 'metrics' && t < end) expect(r.state.metrics).toEqual(state.metrics);
          }
          if (due === undefined) break;
          state = reevaluate(state, DEFAULT, due, EMITTED).state;
        }
      }),
      { numRuns: 150 },
    );
  });

  it('re-evaluating at every due time in turn ends where one re-evaluation at the end does, for the metrics', () => {
    fc.assert(
      fc.property(arbHistory, fc.integer({ min: 1, max: 500 }), (events, days) => {
        const state = applyAll(events, WIDE);
        const end = state.aggregates.now + days * DAY_MS;
        let stepped = state;
        for (let due = nextDueTime(stepped, WIDE); due !== undefined && due <= end; due = nextDueTime(stepped, WIDE)) stepped = reevaluate(stepped, WIDE, due, EMITTED).state;
        stepped = reevaluate(stepped, WIDE, end, EMITTED).state;
        expect(stepped.metrics).toEqual(reevaluate(state, WIDE, end, EMITTED).state.metrics);
      }),
      { numRuns: 200 },
    );
  });

  it('recency reads NEVER_DAYS for a kind never seen and is not due for it', () => {
    const policy = policyOf(`
id: r
version: "1"
currency: CNY
metrics:
  since_order: { recency: ORDER }
dimensions:
  d:
    tiers:
      - { name: a, when: "since_order < 30" }
      - { name: b, when: "true" }
`);
    const state = applyAll([event('PROFILE_UPDATE', at(0))], policy);
    expect(state.metrics['since_order']).toBe(NEVER_DAYS);
    expect(nextDueTime(state, policy)).toBeUndefined();
    const ordered = applyAll([order(at(1), 1)], policy, state);
    // A rule reads it directly: every day counts, in both scopes.
    expect(nextDueTime(ordered, policy, { scope: 'decisions' })).toBe(midnight(2));
  });
});
