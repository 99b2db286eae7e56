// The e2e test's independent reference (test/e2e/reference-tiering.ts) against the domain, on
// the e2e population, on a two-year one, and on random histories that hover at the default
// policy's thresholds and go quiet, where margins, grace periods and min days decide: a
// disagreement shows here in seconds, without the stack. The reference stays independent:
// this file only compares the two.
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { applyEventInPlace, compilePolicy, newCustomerState, type CustomerEvent, type CustomerState } from '@tierstream/domain';
import { generatePopulation } from '../../services/cli/src/demo/population';
import { referenceRun, referenceTiers, type RefEvent } from '../e2e/reference-tiering';

const FX: Record<string, number> = { CNY: 1, USD: 7.1, EUR: 7.8, HKD: 0.91 };
const DIMENSIONS = new Set(['value', 'membership', 'potential']);
const policy = compilePolicy(parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'policies', 'default.yaml'), 'utf8')), 'policies/default.yaml');

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

function domainTransitions(events: readonly CustomerEvent[]): string[] {
  const states = new Map<string, CustomerState>();
  const out: string[] = [];
  for (const e of events) {
    const state = states.get(e.customer_id) ?? newCustomerState(e.customer_id);
    states.set(e.customer_id, state);
    for (const t of applyEventInPlace(state, e, policy, 0).transitions) {
      if (DIMENSIONS.has(t.dimension)) out.push(`${t.customer_id}|${t.dimension}|${t.from_tier ?? '-'}|${t.to_tier}`);
    }
  }
  return out.sort();
}

/** Transitions by the rules alone, without hysteresis. */
function plainTransitions(events: readonly RefEvent[]): number {
  const byCustomer = new Map<string, RefEvent[]>();
  for (const e of events) byCustomer.set(e.customerId, [...(byCustomer.get(e.customerId) ?? []), e]);
  let n = 0;
  for (const list of byCustomer.values()) {
    let held: Record<string, string> = {};
    for (let i = 1; i <= list.length; i++) {
      const tiers = referenceTiers(list.slice(0, i));
      for (const [dim, tier] of Object.entries(tiers)) if (held[dim] !== tier) n++;
      held = tiers;
    }
  }
  return n;
}

describe('the e2e reference agrees with the domain on the default policy', () => {
  it.each([
    ['the e2e population (one year)', 365, 11],
    ['a two-year population, where hysteresis holds tiers', 730, 12],
  ])('%s', (_name, days, seed) => {
    const { events } = generatePopulation({ customers: 120, days, start: Date.UTC(2025, 10, 1), seed, idPrefix: 'x-' });
    const reference = referenceRun(events.map(toRef));
    expect(domainTransitions(events)).toEqual(reference.transitions);
    if (days > 365) expect(reference.transitions.length).toBeLessThan(plainTransitions(events.map(toRef)));
  });
});

const DAY = 86_400_000;
const START = Date.UTC(2025, 0, 1);

/** One customer's events: orders around the value and membership thresholds, refunds, visits, feedback, with gaps of days, months or years (and the odd late event). */
const arbCustomerEvents = fc
  .array(
    fc.record({
      gap: fc.oneof(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 20, max: 200 }), fc.integer({ min: 300, max: 800 })),
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
    fc.property(arbCustomerEvents, (events) => {
      expect(domainTransitions(events)).toEqual(referenceRun(events.map(toRef)).transitions);
    }),
    { numRuns: 500 },
  );
});
