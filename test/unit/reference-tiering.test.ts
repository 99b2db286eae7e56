// The e2e test's independent reference (test/e2e/reference-tiering.ts) against the domain, on
// the e2e population, on a two-year one, and on random histories that hover at the default
// policy's thresholds and go quiet, where margins, grace periods, min days and lifecycle
// deadlines decide: a disagreement shows here in seconds, without the stack. Both sides
// evaluate a customer at its events and as time passes (the reference at every UTC day start,
// the domain at its due times), up to a time after the last event. The reference stays
// independent: this file only compares the two (and checks the reference on a few
// hand-computed histories).
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { applyEventInPlace, compilePolicy, newCustomerState, reevaluateInPlace, type CustomerEvent, type CustomerState, type TierChanged } from '@tierstream/domain';
import { generatePopulation } from '../../services/cli/src/demo/population';
import { referenceRun, referenceTiers, type RefEvent } from '../e2e/reference-tiering';

const FX: Record<string, number> = { CNY: 1, USD: 7.1, EUR: 7.8, HKD: 0.91 };
const DIMENSIONS = new Set(['value', 'membership', 'potential', 'lifecycle']);
const policy = compilePolicy(parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'policies', 'default.yaml'), 'utf8')), 'policies/default.yaml');
const DAY = 86_400_000;

const toRef = (e: CustomerEvent): RefEvent => ({
  customerId: e.customer_id,
  eventId: e.event_id,
  type: e.type as RefEvent['type'],
  time: e.event_time,
  amount: e.order ? Math.round(e.order.amount_minor * (FX[e.order.currency] ?? NaN)) : e.refund ? Math.round(e.refund.amount_minor * (FX[e.refund.currency] ?? NaN)) : 0,
  interactionKind: e.interaction?.kind ?? null,
  feedbackKind: e.feedback?.kind ?? null,
  satisfaction: e.feedback?.score ?? null,
});

/** The domain's transitions: each customer's events in order (each catching up on the due times before it), then a re-evaluation up to `until`. */
function domainTransitions(events: readonly CustomerEvent[], until: number): string[] {
  const states = new Map<string, CustomerState>();
  const out: string[] = [];
  const collect = (transitions: readonly TierChanged[]) => {
    for (const t of transitions) if (DIMENSIONS.has(t.dimension)) out.push(`${t.customer_id}|${t.dimension}|${t.from_tier ?? '-'}|${t.to_tier}`);
  };
  for (const e of events) {
    const state = states.get(e.customer_id) ?? newCustomerState(e.customer_id);
    states.set(e.customer_id, state);
    collect(applyEventInPlace(state, e, policy, 0).transitions);
  }
  for (const state of states.values()) collect(reevaluateInPlace(state, policy, until, 0).transitions);
  return out.sort();
}

/** Transitions by the rules alone, without hysteresis, evaluated when the reference evaluates (events and day starts up to `until`). */
function plainTransitions(events: readonly RefEvent[], until: number): number {
  const byCustomer = new Map<string, RefEvent[]>();
  for (const e of events) byCustomer.set(e.customerId, [...(byCustomer.get(e.customerId) ?? []), e]);
  let n = 0;
  for (const list of byCustomer.values()) {
    let held: Record<string, string> = {};
    const evaluate = (seen: readonly RefEvent[], now: number) => {
      const tiers = referenceTiers(seen, now);
      for (const [dim, tier] of Object.entries(tiers)) if (held[dim] !== tier) n++;
      held = tiers;
    };
    let now = -Infinity;
    const daysUpTo = (t: number) => {
      for (let T = (Math.floor(now / DAY) + 1) * DAY; T <= t; T += DAY) evaluate(list.slice(0, seenCount), (now = T));
    };
    let seenCount = 0;
    for (const e of list) {
      if (seenCount > 0) daysUpTo(e.time);
      seenCount++;
      now = Math.max(now, e.time);
      evaluate(list.slice(0, seenCount), now);
    }
    daysUpTo(until);
  }
  return n;
}

const lastTime = (events: readonly { event_time: number }[]) => Math.max(...events.map((e) => e.event_time));

describe('the e2e reference agrees with the domain on the default policy', () => {
  it.each([
    ['the e2e population (one year)', 365, 11],
    ['a two-year population, where hysteresis holds tiers', 730, 12],
  ])('%s', (_name, days, seed) => {
    const { events } = generatePopulation({ customers: 120, days, start: Date.UTC(2025, 10, 1), seed, idPrefix: 'x-' });
    // 400 quiet days after the last event: everyone decays to low / normal / churned.
    const until = lastTime(events) + 400 * DAY;
    const reference = referenceRun(events.map(toRef), until);
    expect(domainTransitions(events, until)).toEqual(reference.transitions);
    if (days > 365) expect(reference.transitions.length).toBeLessThan(plainTransitions(events.map(toRef), until));
  });

  it('the comparison covers transitions made by time passing alone, in every dimension', () => {
    const { events } = generatePopulation({ customers: 120, days: 365, start: Date.UTC(2025, 10, 1), seed: 11, idPrefix: 'x-' });
    const reference = referenceRun(events.map(toRef), lastTime(events) + 400 * DAY);
    expect(reference.timeDriven).toBeGreaterThan(0);
    const timeDriven = reference.timeline.filter((t) => t.eventId === null);
    expect(timeDriven.every((t) => t.at % DAY === 0)).toBe(true);
    expect(new Set(timeDriven.map((t) => t.dimension))).toEqual(DIMENSIONS);
    for (const tiers of reference.final.values()) {
      expect([tiers.value, tiers.membership]).toEqual(['low', 'normal']);
      expect(['churned', 'prospect']).toContain(tiers.lifecycle);
    }
  });
});

describe('the reference on hand-computed histories', () => {
  const D0 = Date.UTC(2025, 0, 1);
  const at = (d: number) => D0 + d * DAY + 12 * 3_600_000; // noon of day d
  const order = (d: number, amount: number): RefEvent => ({ customerId: 'h', eventId: `o${d}`, type: 'ORDER', time: at(d), amount, interactionKind: null, feedbackKind: null, satisfaction: null });
  const visit = (d: number): RefEvent => ({ customerId: 'h', eventId: `v${d}`, type: 'INTERACTION', time: at(d), amount: 0, interactionKind: 'VISIT', feedbackKind: null, satisfaction: null });
  /** `day E|T dimension from>to` per transition, in evaluation order (E: at an event, T: at the day start). */
  const timeline = (events: RefEvent[], untilDay: number) =>
    referenceRun(events, at(untilDay)).timeline.map((t) => {
      const d = (t.at - D0) / DAY;
      return `${Math.floor(d)} ${t.eventId ? 'E' : 'T'} ${t.dimension} ${t.from ?? '-'}>${t.to}`;
    });
  const initial = (value: string, potential = 'none', lifecycle = 'new') => [`0 E value ->${value}`, '0 E membership ->normal', `0 E potential ->${potential}`, `0 E lifecycle ->${lifecycle}`];
  const lapse = ['30 T lifecycle new>active', '60 T lifecycle active>at_risk', '180 T lifecycle at_risk>churned'];

  it('one large order, then quiet: new, active, at_risk, churned; high until the order leaves the 365-day window', () => {
    expect(timeline([order(0, 600_000)], 400)).toEqual([...initial('high'), ...lapse, '365 T value high>low']);
  });

  it('an order 200 days after the previous one is a reactivation; value falls when the last order leaves the window', () => {
    expect(timeline([order(0, 100_000), order(200, 100_000)], 600)).toEqual([
      ...initial('mid'),
      ...lapse,
      '200 E lifecycle churned>reactivated',
      '230 T lifecycle reactivated>active',
      '260 T lifecycle active>at_risk',
      '380 T lifecycle at_risk>churned',
      '565 T value mid>low',
    ]);
  });

  it('a qualifying event restarts the grace; day starts do not, and the grace ends on a day start', () => {
    // Day 360: spend_365d 61 000 still gives mid (earned); day 365 the 60 000 leaves, keep_when fails, the grace holds mid to day 390.
    expect(timeline([order(0, 60_000), order(360, 1_000)], 760)).toEqual([
      ...initial('mid'),
      ...lapse,
      '360 E lifecycle churned>reactivated',
      '390 T value mid>low',
      '390 T lifecycle reactivated>active',
      '420 T lifecycle active>at_risk',
      '540 T lifecycle at_risk>churned',
    ]);
  });

  it('an upgrade reversing a day-start downgrade waits the min days, then happens at a day start', () => {
    expect(timeline([order(0, 60_000), order(368, 60_000)], 600)).toEqual([
      ...initial('mid'),
      ...lapse,
      '365 T value mid>low',
      '368 E lifecycle churned>reactivated',
      '372 T value low>mid',
      '398 T lifecycle reactivated>active',
      '428 T lifecycle active>at_risk',
      '548 T lifecycle at_risk>churned',
    ]);
  });

  it('visits only: a prospect, engaged then potential, and back as the visits leave the 90-day window', () => {
    expect(timeline([visit(0), visit(10), visit(20)], 200)).toEqual([...initial('low', 'engaged', 'prospect'), '20 E potential engaged>potential', '90 T potential potential>engaged', '110 T potential engaged>none']);
  });
});

const START = Date.UTC(2025, 0, 1);

/** One customer's events: orders around the value and membership thresholds, refunds, visits, feedback, with gaps of days, months (some around the lifecycle deadlines) or years (and the odd late event). */
const arbCustomerEvents = fc
  .array(
    fc.record({
      gap: fc.oneof(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 20, max: 200 }), fc.integer({ min: 170, max: 250 }), fc.integer({ min: 300, max: 800 })),
      late: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 20 }) }),
      kind: fc.constantFrom('ORDER', 'ORDER', 'ORDER', 'REFUND', 'VISIT', 'COMPLAINT', 'SATISFACTION'),
      amount: fc.oneof(
        fc.integer({ min: 40_000, max: 60_000 }),
        fc.integer({ min: 80_000, max: 160_000 }),
        fc.integer({ min: 250_000, max: 320_000 }),
        fc.integer({ min: 1, max: 1_200_000 }),
      ),
      score: fc.integer({ min: 1, max: 5 }),
    }),
    { minLength: 1, maxLength: 40 },
  )
  .map((steps) => {
    let day = 0;
    return steps.map(({ gap, late, kind, amount, score }, i): CustomerEvent => {
      day += gap;
      const base = {
        event_id: `r${i}`, customer_id: 'r', event_time: START + (day - late) * DAY + 43_200_000, channel: null, region: null, customer_type: null, industry: null,
        order: null, refund: null, interaction: null, feedback: null, attributes: {},
      };
      if (kind === 'ORDER') return { ...base, type: 'ORDER', order: { order_id: `o${i}`, amount_minor: amount, currency: 'CNY', item_count: 1 } };
      if (kind === 'REFUND') return { ...base, type: 'REFUND', refund: { order_id: 'o', amount_minor: Math.round(amount / 4), currency: 'CNY' } };
      if (kind === 'VISIT') return { ...base, type: 'INTERACTION', interaction: { kind: 'VISIT', campaign_id: null } };
      return { ...base, type: 'FEEDBACK', feedback: { kind: kind === 'COMPLAINT' ? 'COMPLAINT' : 'SATISFACTION', score, comment: null } };
    });
  });

it('agrees on random histories hovering at the thresholds and going quiet', () => {
  fc.assert(
    fc.property(arbCustomerEvents, fc.integer({ min: 0, max: 450 * DAY }), (events, quiet) => {
      const until = lastTime(events) + quiet;
      expect(domainTransitions(events, until)).toEqual(referenceRun(events.map(toRef), until).transitions);
    }),
    { numRuns: 500 },
  );
});
