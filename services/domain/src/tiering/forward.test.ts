import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { DAY_MS } from '../aggregates/customer-aggregates';
import type { CustomerEvent, TierChanged } from '../events';
import { compilePolicy } from '../policy/compile-policy';
import type { Policy } from '../policy/policy-model';
import { applyEvent, newCustomerState, reevaluate, refreshForwardSignalsInPlace, type CustomerState } from './customer-state';
import { forwardSignals, nextTierGaps } from './forward';

const T0 = Date.UTC(2025, 0, 1);
const at = (day: number, hour = 12): number => T0 + day * DAY_MS + hour * 3_600_000;
const midnight = (day: number): number => T0 + day * DAY_MS;
const DEFAULT = compilePolicy(parse(readFileSync(path.join(__dirname, '../../../../policies/default.yaml'), 'utf8')), 'policies/default.yaml');
const policyOf = (yaml: string): Policy => compilePolicy(parse(yaml), 'test.yaml');

let seq = 0;
const order = (time: number, amount: number): CustomerEvent => {
  seq += 1;
  return {
    event_id: `e${seq}`, customer_id: 'c1', type: 'ORDER', event_time: time, channel: null, region: null, customer_type: null, industry: null,
    order: { order_id: `o${seq}`, amount_minor: amount, currency: 'CNY', item_count: 1 }, refund: null, interaction: null, feedback: null, attributes: {},
  };
};

function run(events: readonly CustomerEvent[], policy: Policy = DEFAULT): { state: CustomerState; transitions: TierChanged[] } {
  let state = newCustomerState('c1');
  const transitions: TierChanged[] = [];
  for (const e of events) {
    const r = applyEvent(state, e, policy, 0);
    state = r.state;
    transitions.push(...r.transitions);
  }
  return { state, transitions };
}

const signal = (t: TierChanged | undefined) =>
  t && { next_tier: t.next_tier, next_tier_gaps: t.next_tier_gaps, next_tier_hint: t.next_tier_hint, tier_lost_at: t.tier_lost_at, tier_lost_to: t.tier_lost_to };

describe('forward signals on every transition (default policy)', () => {
  const { state, transitions } = run([order(at(0), 60_000)]);
  const byDimension = Object.fromEntries(transitions.map((t) => [t.dimension, t]));

  it('value: the gap to the next tier up in money, and the day the tier is lost', () => {
    expect(signal(byDimension['value'])).toEqual({
      next_tier: 'high',
      next_tier_gaps: { spend_365d: 240_000 },
      next_tier_hint: 'needs 2400.00 CNY more spend_365d for high',
      // The order leaves the 365-day window on day 365; keep_when, grace and min days are over by then.
      tier_lost_at: midnight(365),
      tier_lost_to: 'low',
    });
  });

  it('membership: every lower bound still missing, money and counts; the fallback tier is never lost', () => {
    expect(signal(byDimension['membership'])).toEqual({
      next_tier: 'silver',
      next_tier_gaps: { spend_365d: 40_000, orders_365d: 2 },
      next_tier_hint: 'needs 400.00 CNY more spend_365d and 2 more orders_365d for silver',
      tier_lost_at: null,
      tier_lost_to: null,
    });
  });

  it('unordered segments and lifecycle have no next tier, only when they change', () => {
    // rfm_segment `new` needs rfm_r >= 4: recency passes 60 days on day 61.
    expect(signal(byDimension['rfm_segment'])).toEqual({ next_tier: null, next_tier_gaps: {}, next_tier_hint: null, tier_lost_at: midnight(61), tier_lost_to: 'regular' });
    expect(signal(byDimension['lifecycle'])).toEqual({ next_tier: null, next_tier_gaps: {}, next_tier_hint: null, tier_lost_at: midnight(30), tier_lost_to: 'active' });
  });

  it('keeps them in the state, per dimension, as of the customer time', () => {
    expect(Object.keys(state.forward ?? {}).sort()).toEqual(['lifecycle', 'membership', 'potential', 'rfm_segment', 'value']);
    expect(state.forward?.['value']).toMatchObject({ next_tier: 'high', tier_lost_at: midnight(365), as_of: at(0) });
  });

  it('agrees with what re-evaluation actually does at that time', () => {
    const s = state;
    for (const [dimension, f] of Object.entries(s.forward ?? {})) {
      if (f.tier_lost_at === null) continue;
      const before = reevaluate(s, DEFAULT, f.tier_lost_at - 1, 0).state;
      const change = reevaluate(before, DEFAULT, f.tier_lost_at, 0).transitions.find((t) => t.dimension === dimension);
      expect([dimension, change?.to_tier]).toEqual([dimension, f.tier_lost_to]);
    }
  });
});

describe('the loss date follows hysteresis', () => {
  it('a gold member keeps gold through keep_when and the 365-day grace after last qualifying', () => {
    const { state, transitions } = run([0, 1, 2, 3, 4, 5].map((d) => order(at(d), 100_000)));
    const gold = transitions.find((t) => t.dimension === 'membership' && t.to_tier === 'gold');
    expect(gold?.cause_event_time).toBe(at(5));
    // Day 365: day 0 leaves the window, 500 000 and 5 orders (keep_when holds); day 366: keep_when
    // fails but the grace (earned on day 5) runs to day 370, when every order has left: normal.
    expect(signal(gold)).toMatchObject({ next_tier: null, tier_lost_at: midnight(370), tier_lost_to: 'normal' });
    expect(reevaluate(state, DEFAULT, midnight(369), 0).state.tiers['membership']?.tier).toBe('gold');
    expect(reevaluate(state, DEFAULT, midnight(370), 0).state.tiers['membership']?.tier).toBe('normal');
  });

  it('is not recomputed for an event without a transition; on request it is, as of the customer time', () => {
    const { state } = run([order(at(0), 60_000)]);
    const quiet = applyEvent(state, { ...order(at(1), 0), type: 'PROFILE_UPDATE', order: null }, DEFAULT, 0);
    expect(quiet.transitions).toEqual([]);
    const later = quiet.state;
    expect(later.forward?.['value']?.as_of).toBe(at(0));
    const fresh = refreshForwardSignalsInPlace(later, DEFAULT);
    expect(fresh['value']).toMatchObject({ tier_lost_at: midnight(365), as_of: at(1) });
    expect(fresh['lifecycle']).toMatchObject({ tier_lost_at: midnight(30), tier_lost_to: 'active' });
    expect(later.forward).toBe(fresh);
    expect(forwardSignals(later, DEFAULT)).toEqual(fresh);
  });
});

describe('nextTierGaps', () => {
  const policy = policyOf(`
id: g
version: "1"
currency: JPY
metrics:
  spend: { sum: order.amount }
  orders: { count: ORDER }
  rate: { ratio: [spend, orders] }
scoring:
  weights: { orders: 0.5 }
dimensions:
  d:
    tiers:
      - { name: top, when: "score > 79.5 && rate >= 1000.5" }
      - { name: gold, when: "spend >= 5000 && orders > 2.5 && spend > 4000" }
      - { name: odd, when: "spend >= 100 || orders >= 2" }
      - { name: base, when: "true" }
`);
  const dim = policy.dimensions[0];
  if (!dim) throw new Error('test bug');

  it('rounds whole-number variables up, writes money in the currency minor units (JPY has none), and takes the larger of two bounds', () => {
    expect(nextTierGaps(dim, 'odd', { spend: 1200, orders: 1, score: 0, rate: 0 }, policy)).toEqual({
      next_tier: 'gold',
      next_tier_gaps: { spend: 3800, orders: 2 },
      next_tier_hint: 'needs 3800 JPY more spend and 2 more orders for gold',
    });
  });

  it('writes strict bounds on fractional variables as "more than", and leaves out bounds already met', () => {
    expect(nextTierGaps(dim, 'gold', { spend: 9000, orders: 3, score: 70.25, rate: 2000 }, policy)).toEqual({
      next_tier: 'top',
      next_tier_gaps: { score: 9.25 },
      next_tier_hint: 'needs more than 9.25 more score for top',
    });
  });

  it('gives the next tier without gaps when its rule is not a conjunction of lower bounds, and nothing at the top', () => {
    expect(nextTierGaps(dim, 'base', { spend: 0, orders: 0, score: 0, rate: 0 }, policy)).toEqual({ next_tier: 'odd', next_tier_gaps: {}, next_tier_hint: null });
    expect(nextTierGaps(dim, 'top', { spend: 0, orders: 0, score: 0, rate: 0 }, policy)).toEqual({ next_tier: null, next_tier_gaps: {}, next_tier_hint: null });
  });
});
