/**
 * Hysteresis: keep_when margins, grace periods and the min-days rule, as seen through
 * applyEvent and reevaluate; and the property that a customer hovering at a threshold does not
 * flap, where the same sequence without hysteresis does.
 */
import fc from 'fast-check';
import { parse } from 'yaml';
import { DAY_MS } from '../aggregates/customer-aggregates';
import type { CustomerEvent, TierChanged } from '../events';
import { compilePolicy } from '../policy/compile-policy';
import type { Policy } from '../policy/policy-model';
import { applyEvent, newCustomerState, reevaluate, type CustomerState } from './customer-state';

const T0 = Date.UTC(2025, 0, 1);
const at = (day: number, hour = 12): number => T0 + day * DAY_MS + hour * 3_600_000;
const EMITTED = 1;

let seq = 0;
const order = (time: number, amount: number): CustomerEvent => {
  seq += 1;
  return {
    event_id: `e${seq}`, customer_id: 'c1', type: 'ORDER', event_time: time, channel: null, region: null, customer_type: null, industry: null,
    order: { order_id: `o${seq}`, amount_minor: amount, currency: 'CNY', item_count: 1 }, refund: null, interaction: null, feedback: null, attributes: {},
  };
};

/**
 * By default the metric is the amount of the latest order, so it goes up and down at will and
 * never changes with time alone (a windowed sum would fall to 0 on the day after each order).
 */
function policy(options: { hysteresis?: string; keep?: boolean; ordered?: boolean; window?: string } = {}): Policy {
  const keep = options.keep ?? true;
  return compilePolicy(
    parse(`
id: h
version: "1"
currency: CNY
metrics:
  spend: ${options.window ? `{ sum: order.amount, window: ${options.window} }` : '{ last: order.amount }'}
dimensions:
  value:
    ordered: ${options.ordered ?? true}
    ${options.hysteresis ? `hysteresis: ${options.hysteresis}` : ''}
    tiers:
      - { name: high, when: "spend >= 300000"${keep ? ', keep_when: "spend >= 270000"' : ''} }
      - { name: mid,  when: "spend >= 50000"${keep ? ', keep_when: "spend >= 45000"' : ''} }
      - { name: low,  when: "true" }
`),
    'h.yaml',
  );
}

function run(events: readonly CustomerEvent[], p: Policy, state: CustomerState = newCustomerState('c1')): { state: CustomerState; transitions: TierChanged[] } {
  const transitions: TierChanged[] = [];
  for (const e of events) {
    const r = applyEvent(state, e, p, EMITTED);
    state = r.state;
    transitions.push(...r.transitions);
  }
  return { state, transitions };
}

const moves = (ts: readonly TierChanged[]): string[] => ts.map((t) => `${t.from_tier ?? '-'}>${t.to_tier}`);

describe('keep_when: the downgrade margin', () => {
  it('keeps a tier while keep_when holds, and leaves it, explained, when it fails', () => {
    const p = policy();
    const { transitions } = run([order(at(0), 300_000), order(at(1), 280_000), order(at(2), 270_000), order(at(3), 269_999)], p);
    expect(moves(transitions)).toEqual(['->high', 'high>mid']);
    const down = transitions[1];
    expect(down).toMatchObject({ direction: 'DOWN', rule: 'value.mid', cause_event_time: at(3) });
    expect(down?.reason).toBe('value.mid: spend >= 50000 (spend=269999); left high: keep_when spend >= 270000 is false');
    expect(down?.metrics).toEqual({ spend: 269_999, score: 0 });
  });

  it('gives no margin to a tier without keep_when', () => {
    const { transitions } = run([order(at(0), 300_000), order(at(1), 299_999)], policy({ keep: false }));
    expect(moves(transitions)).toEqual(['->high', 'high>mid']);
  });

  it('upgrades on the tier rule, never on keep_when', () => {
    const { transitions } = run([order(at(0), 100), order(at(1), 280_000), order(at(2), 299_999), order(at(3), 300_000)], policy());
    expect(moves(transitions)).toEqual(['->low', 'low>mid', 'mid>high']);
  });
});

describe('grace_days', () => {
  it('does not lose a tier for grace_days after it was last earned by an event, then does', () => {
    const p = policy({ hysteresis: '{ grace_days: 30 }', keep: false });
    const { transitions } = run(
      [
        order(at(0), 300_000), // enters high
        order(at(10), 100), // below every margin: kept by the grace
        order(at(20), 300_000), // qualifies again after an event: the grace restarts from day 20
        order(at(49), 100), // 29 days later: kept
        order(at(51), 100), // the grace ended at the start of day 50: lost then, straight to the tier the rules give
      ],
      p,
    );
    expect(moves(transitions)).toEqual(['->high', 'high>low']);
    expect(transitions[1]).toMatchObject({ cause: 'REEVALUATION', cause_event_time: at(50, 0), direction: 'DOWN' });
    expect(transitions[1]?.reason).toBe('value.low: true (spend=100); left high: earned 30 days ago >= grace_days 30');
  });

  it('counts from the time of earning, not of re-evaluations: time passing earns nothing', () => {
    const p = policy({ hysteresis: '{ grace_days: 30 }', keep: false, window: '365d' });
    let { state } = run([order(at(0), 300_000)], p);
    // Still qualifying at day 364 (the order is in the 365-day window): no renewal.
    const still = reevaluate(state, p, at(364), EMITTED);
    expect(still.transitions).toEqual([]);
    state = still.state;
    expect(state.tiers['value']?.earned).toBe(at(0));
    const gone = reevaluate(state, p, at(365, 0), EMITTED);
    expect(moves(gone.transitions)).toEqual(['high>low']);
  });
});

describe('min_days_between_changes', () => {
  it('delays downgrades, and upgrades that reverse a downgrade, until N days after the previous transition', () => {
    const p = policy({ hysteresis: '{ min_days_between_changes: 7 }', keep: false });
    const { transitions } = run(
      [
        order(at(0), 300_000), // INITIAL high
        order(at(3), 100), // 3 days: held
        order(at(7), 100), // 7 days: down to low
        order(at(8), 300_000), // would reverse the downgrade 1 day later: held
        order(at(14), 300_000), // 7 days after it: up
        order(at(15), 60_000), // held: 1 day after the upgrade
        order(at(21), 60_000), // 7 days after: down to mid
        order(at(22), 100), // held: 1 day after
      ],
      p,
    );
    expect(transitions.map((t) => [t.from_tier, t.to_tier, t.direction, t.cause_event_time])).toEqual([
      [null, 'high', 'INITIAL', at(0)],
      ['high', 'low', 'DOWN', at(7, 0)],
      ['low', 'high', 'UP', at(14, 0)],
      ['high', 'mid', 'DOWN', at(21, 0)],
    ]);
    expect(transitions[3]?.reason).toBe('value.mid: spend >= 50000 (spend=60000); left high: last change 7 days ago >= min_days_between_changes 7');
  });

  it('never delays a climb: an upgrade after the first tier or after an upgrade is immediate', () => {
    const p = policy({ hysteresis: '{ grace_days: 30, min_days_between_changes: 7 }', keep: false });
    const { transitions } = run([order(at(0), 100), order(at(0, 13), 60_000), order(at(1), 300_000)], p);
    expect(transitions.map((t) => [t.from_tier, t.to_tier, t.direction])).toEqual([
      [null, 'low', 'INITIAL'],
      ['low', 'mid', 'UP'],
      ['mid', 'high', 'UP'],
    ]);
  });

  it('delays every change of an unordered dimension (LATERAL)', () => {
    const p = policy({ hysteresis: '{ min_days_between_changes: 7 }', keep: false, ordered: false });
    const { transitions } = run([order(at(0), 100), order(at(1), 300_000), order(at(7), 300_000), order(at(8), 60_000)], p);
    expect(transitions.map((t) => [t.from_tier, t.to_tier, t.direction, t.cause_event_time])).toEqual([
      [null, 'low', 'INITIAL', at(0)],
      ['low', 'high', 'LATERAL', at(7, 0)],
    ]);
  });

  it('keeps an unordered tier while its keep_when holds, even when an earlier tier matches', () => {
    const { transitions } = run([order(at(0), 60_000), order(at(1), 300_000), order(at(2), 40_000)], policy({ ordered: false }));
    expect(moves(transitions)).toEqual(['->mid', 'mid>low']);
  });
});

it('leaves a held tier the policy no longer lists at once, whatever the hysteresis', () => {
  const old = compilePolicy(parse(`
id: h
version: "1"
currency: CNY
metrics: { spend: { sum: order.amount } }
dimensions:
  value:
    tiers:
      - { name: platinum, when: "spend >= 1" }
      - { name: low, when: "true" }
`), 'old.yaml');
  const { state } = run([order(at(0), 100)], old);
  expect(state.tiers['value']?.tier).toBe('platinum');
  const { transitions } = run([order(at(1), 100)], policy({ hysteresis: '{ grace_days: 365, min_days_between_changes: 365 }' }), state);
  expect(moves(transitions)).toEqual(['platinum>low']);
});

describe('property: a customer hovering at a threshold does not flap', () => {
  /** Orders on increasing days, each day's spend within the high tier's margin: 270 000 to 330 000. */
  const arbHovering = fc
    .array(fc.record({ gap: fc.integer({ min: 1, max: 5 }), amount: fc.integer({ min: 270_000, max: 330_000 }) }), { minLength: 1, maxLength: 60 })
    .map((steps) => {
      let day = 0;
      return steps.map(({ gap, amount }) => order(at((day += gap)), amount));
    });

  it('makes at most 2 transitions (the first tier, one upgrade) with keep_when; without it, one per crossing', () => {
    fc.assert(
      fc.property(arbHovering, (events) => {
        const crossings = events.slice(1).filter((e, i) => (e.order?.amount_minor ?? 0) >= 300_000 !== ((events[i]?.order?.amount_minor ?? 0) >= 300_000)).length;
        const withMargin = run(events, policy()).transitions;
        const without = run(events, policy({ keep: false })).transitions;
        expect(withMargin.length).toBeLessThanOrEqual(2);
        expect(withMargin.filter((t) => t.direction === 'DOWN')).toEqual([]);
        expect(without).toHaveLength(1 + crossings);
      }),
      { numRuns: 300 },
    );
  });

  it('flaps without hysteresis on an alternating sequence, and does not with it', () => {
    const events = Array.from({ length: 20 }, (_, d) => order(at(d), d % 2 === 0 ? 300_000 : 290_000));
    expect(run(events, policy({ keep: false })).transitions).toHaveLength(20);
    expect(moves(run(events, policy()).transitions)).toEqual(['->high']);
  });

  /** Any amplitude: spend anywhere from 0 to 600 000 on increasing days. */
  const arbSwinging = fc
    .array(fc.record({ gap: fc.integer({ min: 0, max: 6 }), amount: fc.integer({ min: 0, max: 600_000 }) }), { minLength: 1, maxLength: 80 })
    .map((steps) => {
      let day = 0;
      return steps.map(({ gap, amount }) => order(at((day += gap)), amount));
    });
  const RANK: Record<string, number> = { high: 0, mid: 1, low: 2 };
  const KEEP: Record<string, number> = { high: 270_000, mid: 45_000 };
  const dayOf = (t: number): number => Math.floor(t / DAY_MS);

  it('with grace and min days, a downgrade comes only after keep_when fails, the grace since the tier was last earned, and the min days since the previous change; an upgrade waits only to reverse a recent downgrade', () => {
    const p = policy({ hysteresis: '{ grace_days: 10, min_days_between_changes: 4 }' });
    fc.assert(
      fc.property(arbSwinging, (events) => {
        let state = newCustomerState('c1');
        let earned = 0;
        let changed = 0;
        let lastDown = false;
        let downs = 0;
        const tierOf = (spend: number): string => (spend >= 300_000 ? 'high' : spend >= 50_000 ? 'mid' : 'low');
        for (const e of events) {
          // Transitions due before the event (its day start) are decided on the spend before it.
          const before = state.metrics['spend'] ?? 0;
          const r = applyEvent(state, e, p, EMITTED);
          state = r.state;
          const spend = state.metrics['spend'] ?? 0;
          const candidate = tierOf(spend);
          for (const t of r.transitions) {
            const time = t.cause_event_time;
            const decidedOn = t.cause === 'EVENT' ? spend : before;
            if (t.direction === 'DOWN' && t.from_tier) {
              downs++;
              expect(decidedOn).toBeLessThan(KEEP[t.from_tier] ?? Infinity);
              expect(dayOf(time) - dayOf(earned)).toBeGreaterThanOrEqual(10);
              expect(dayOf(time) - dayOf(changed)).toBeGreaterThanOrEqual(4);
              expect(t.to_tier).toBe(tierOf(decidedOn));
            }
            if (t.direction === 'UP') expect(RANK[t.to_tier]).toBe(RANK[tierOf(decidedOn)]);
            changed = time;
            earned = time;
            lastDown = t.direction === 'DOWN';
          }
          const now = state.tiers['value']?.tier ?? '';
          // Earned: entered, or the rules give this tier or a better one after an event.
          if (r.transitions.some((t) => t.cause === 'EVENT') || (RANK[candidate] ?? 0) <= (RANK[now] ?? 0)) earned = e.event_time;
          // Held against the rules only as hysteresis allows: never above what keep_when or the grace could justify.
          if (r.transitions.length === 0 && now !== candidate && (RANK[candidate] ?? 0) > (RANK[now] ?? 0)) {
            const kept = spend >= (KEEP[now] ?? 0) || dayOf(e.event_time) - dayOf(earned) < 10 || dayOf(e.event_time) - dayOf(changed) < 4;
            expect(kept).toBe(true);
          }
          // An upgrade waits only when it would reverse a downgrade within the min days.
          if (r.transitions.length === 0 && (RANK[candidate] ?? 0) < (RANK[now] ?? 0)) {
            expect(lastDown && dayOf(e.event_time) - dayOf(changed) < 4).toBe(true);
          }
        }
        // Downgrades are at least 4 days apart, so their number is bounded by the span.
        const span = dayOf(events.at(-1)?.event_time ?? 0) - dayOf(events[0]?.event_time ?? 0);
        expect(downs).toBeLessThanOrEqual(1 + Math.floor(span / 4));
      }),
      { numRuns: 300 },
    );
  });
});
