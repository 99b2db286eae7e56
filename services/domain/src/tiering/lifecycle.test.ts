import { parse } from 'yaml';
import { DAY_MS } from '../aggregates/customer-aggregates';
import type { CustomerEvent, EventType, TierChanged } from '../events';
import { compilePolicy } from '../policy/compile-policy';
import type { LifecycleDef } from '../policy/policy-model';
import { applyEvent, newCustomerState, reevaluate, type CustomerState } from './customer-state';
import { nextDueTime } from './due-time';
import { lifecycleStage, noteOrder, STAGE_RANK } from './lifecycle';

const T0 = Date.UTC(2025, 0, 1);
const at = (day: number, hour = 12): number => T0 + day * DAY_MS + hour * 3_600_000;
const midnight = (day: number): number => T0 + day * DAY_MS;
const DEF: LifecycleDef = { newForDays: 30, atRiskAfterDays: 60, churnedAfterDays: 180, reactivatedForDays: 30 };

const POLICY = compilePolicy(
  parse(`
id: l
version: "1"
currency: CNY
metrics:
  orders: { count: ORDER }
dimensions:
  buyer:
    tiers:
      - { name: yes, when: "orders > 0" }
      - { name: no, when: "true" }
lifecycle: { new_for_days: 30, at_risk_after_days: 60, churned_after_days: 180, reactivated_for_days: 30 }
`),
  'l.yaml',
);

let seq = 0;
function event(type: EventType, time: number): CustomerEvent {
  seq += 1;
  return {
    event_id: `e${seq}`, customer_id: 'c1', type, event_time: time, channel: null, region: null, customer_type: null, industry: null,
    order: type === 'ORDER' ? { order_id: `o${seq}`, amount_minor: 100, currency: 'CNY', item_count: 1 } : null,
    refund: null, interaction: type === 'INTERACTION' ? { kind: 'VISIT', campaign_id: null } : null, feedback: null, attributes: {},
  };
}

/** Applies events and re-evaluations (a number: the day to re-evaluate at, midnight) in order; returns the lifecycle transitions. */
function run(steps: readonly (CustomerEvent | number)[], state: CustomerState = newCustomerState('c1')): { state: CustomerState; lifecycle: TierChanged[] } {
  const lifecycle: TierChanged[] = [];
  for (const step of steps) {
    const r = typeof step === 'number' ? reevaluate(state, POLICY, midnight(step), 0) : applyEvent(state, step, POLICY, 0);
    state = r.state;
    lifecycle.push(...r.transitions.filter((t) => t.dimension === 'lifecycle'));
  }
  return { state, lifecycle };
}

const summary = (ts: readonly TierChanged[]): string[] => ts.map((t) => `${t.from_tier ?? '-'}>${t.to_tier} ${t.direction}`);

describe('lifecycle stages through events and re-evaluation', () => {
  it('goes prospect → new → active → at_risk → churned → reactivated → active, each explained', () => {
    const { lifecycle } = run([event('INTERACTION', at(0)), event('ORDER', at(2)), 32, 92, 182, 262, event('ORDER', at(300)), 330]);
    expect(summary(lifecycle)).toEqual([
      '->prospect INITIAL',
      'prospect>new UP',
      'new>active LATERAL',
      'active>at_risk DOWN',
      'at_risk>churned DOWN',
      'churned>reactivated UP',
      'reactivated>active LATERAL',
    ]);
    expect(lifecycle.map((t) => [t.rule, t.cause, t.cause_event_time])).toEqual([
      ['lifecycle.prospect', 'EVENT', at(0)],
      ['lifecycle.new', 'EVENT', at(2)],
      ['lifecycle.active', 'REEVALUATION', midnight(32)],
      // On the deadline day, not when the sweep at day 92 came by.
      ['lifecycle.at_risk', 'REEVALUATION', midnight(62)],
      ['lifecycle.churned', 'REEVALUATION', midnight(182)],
      ['lifecycle.reactivated', 'EVENT', at(300)],
      ['lifecycle.active', 'REEVALUATION', midnight(330)],
    ]);
    expect(lifecycle.map((t) => t.reason)).toEqual([
      'lifecycle.prospect: no order yet',
      'lifecycle.new: first order 0 days ago < new_for_days 30; last order 0 days ago < at_risk_after_days 60',
      'lifecycle.active: last order 30 days ago < at_risk_after_days 60',
      'lifecycle.at_risk: last order 60 days ago >= at_risk_after_days 60',
      'lifecycle.churned: last order 180 days ago >= churned_after_days 180',
      'lifecycle.reactivated: ordered again after a churn 0 days ago < reactivated_for_days 30; last order 0 days ago < at_risk_after_days 60',
      'lifecycle.active: last order 30 days ago < at_risk_after_days 60',
    ]);
    expect(lifecycle[3]?.metrics).toEqual({ days_since_last_order: 60, days_since_first_order: 60, score: 0 });
    expect(lifecycle[5]?.metrics).toEqual({ days_since_last_order: 0, days_since_first_order: 298, days_since_reactivation: 0, score: 0 });
    expect(lifecycle[3]).toMatchObject({ cause_event_id: null, transition_id: 'c1/lifecycle/4', tier_version: 4 });
  });

  it('is UP from at_risk back to active with a new order', () => {
    const { lifecycle } = run([event('ORDER', at(0)), 61, event('ORDER', at(70))]);
    expect(summary(lifecycle)).toEqual(['->new INITIAL', 'new>active LATERAL', 'active>at_risk DOWN', 'at_risk>active UP']);
  });

  it('changes on the deadline day, not the day before (whole UTC days since the last order)', () => {
    const before = run([event('ORDER', at(0, 23)), 59]);
    expect(before.state.tiers['lifecycle']?.tier).toBe('active');
    expect(summary(run([], before.state).lifecycle)).toEqual([]);
    expect(summary(run([60], before.state).lifecycle)).toEqual(['active>at_risk DOWN']);
  });

  it('passes through every stage before the next order even when no sweep came by, and recognises the reactivation', () => {
    const { lifecycle, state } = run([event('ORDER', at(0)), event('ORDER', at(200))]);
    expect(summary(lifecycle)).toEqual(['->new INITIAL', 'new>active LATERAL', 'active>at_risk DOWN', 'at_risk>churned DOWN', 'churned>reactivated UP']);
    expect(lifecycle.map((t) => t.cause)).toEqual(['EVENT', 'REEVALUATION', 'REEVALUATION', 'REEVALUATION', 'EVENT']);
    expect(state.orderTimes).toEqual({ first: at(0), last: at(200), reactivated: at(200) });
  });

  it('a late order moves the first order but makes no reactivation', () => {
    const { state } = run([event('ORDER', at(300)), event('ORDER', at(10))]);
    expect(state.orderTimes).toEqual({ first: at(10), last: at(300), reactivated: null });
    expect(state.tiers['lifecycle']?.tier).toBe('active');
  });

  it('other events do not move the stage: only orders count', () => {
    const { lifecycle } = run([event('ORDER', at(0)), event('INTERACTION', at(61)), event('REFUND', at(62))]);
    expect(summary(lifecycle)).toEqual(['->new INITIAL', 'new>active LATERAL', 'active>at_risk DOWN']);
  });

  it('derives the order times of a state stored before lifecycle existed: the first order long ago', () => {
    const { state } = run([event('ORDER', at(0))]);
    delete state.orderTimes;
    const next = run([event('ORDER', at(5))], state);
    expect(next.state.orderTimes).toEqual({ first: 0, last: at(5), reactivated: null });
    expect(next.state.tiers['lifecycle']?.tier).toBe('active');
  });
});

describe('lifecycleStage', () => {
  const times = (first: number, last: number, reactivated: number | null = null) => ({ first: at(first), last: at(last), reactivated: reactivated === null ? null : at(reactivated) });

  it.each([
    [0, 0, null, 0, 'new'],
    [0, 0, null, 29, 'new'],
    [0, 0, null, 30, 'active'],
    [0, 20, null, 79, 'active'],
    [0, 20, null, 80, 'at_risk'],
    [0, 20, null, 199, 'at_risk'],
    [0, 20, null, 200, 'churned'],
    [0, 250, 250, 250, 'reactivated'],
    [0, 250, 250, 279, 'reactivated'],
    [0, 250, 250, 280, 'active'],
    [0, 250, 250, 310, 'at_risk'],
    [0, 10, null, 15, 'new'],
  ] as const)('first order day %p, last %p, reactivated %p, at day %p: %p', (first, last, reactivated, day, stage) => {
    expect(lifecycleStage(DEF, times(first, last, reactivated), at(day)).stage).toBe(stage);
  });

  it('is prospect without an order, and disables new and reactivated at 0 days', () => {
    expect(lifecycleStage(DEF, undefined, at(0))).toMatchObject({ stage: 'prospect', ruleId: 'lifecycle.prospect', inputs: {} });
    const off = { ...DEF, newForDays: 0, reactivatedForDays: 0 };
    expect(lifecycleStage(off, times(0, 0), at(0)).stage).toBe('active');
    expect(lifecycleStage(off, times(0, 250, 250), at(250)).stage).toBe('active');
  });

  it('ranks stages so that buying again is UP and drifting away DOWN', () => {
    expect(STAGE_RANK).toEqual({ new: 0, active: 0, reactivated: 0, at_risk: 1, churned: 2, prospect: 3 });
  });

  it('noteOrder marks an order churned_after_days or more after the last one as a reactivation', () => {
    expect(noteOrder(undefined, DEF, at(0))).toEqual({ first: at(0), last: at(0), reactivated: null });
    expect(noteOrder(times(0, 10), DEF, at(189))).toEqual({ first: at(0), last: at(189), reactivated: null });
    expect(noteOrder(times(0, 10), DEF, at(190))).toEqual({ first: at(0), last: at(190), reactivated: at(190) });
    expect(noteOrder(times(0, 10), undefined, at(500))).toEqual({ first: at(0), last: at(500), reactivated: null });
  });
});

describe('lifecycle deadlines in nextDueTime', () => {
  it('is due at the next deadline: new ends, at_risk, churned, reactivated ends', () => {
    let { state } = run([event('ORDER', at(0))]);
    const dues: number[] = [];
    for (let i = 0; i < 3; i++) {
      const due = nextDueTime(state, POLICY);
      if (due === undefined) break;
      dues.push(due);
      state = reevaluate(state, POLICY, due, 0).state;
    }
    expect(dues).toEqual([midnight(30), midnight(60), midnight(180)]);
    expect(nextDueTime(state, POLICY)).toBeUndefined();
    state = applyEvent(state, event('ORDER', at(400)), POLICY, 0).state;
    expect(state.tiers['lifecycle']?.tier).toBe('reactivated');
    expect(nextDueTime(state, POLICY)).toBe(midnight(430));
  });
});
