/**
 * Manual overrides: a pin holds a tier against the rules until it ends by itself or is
 * cleared, and every step (set, clear, end) is a transition in the audit trail.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { DAY_MS } from '../aggregates/customer-aggregates';
import type { CustomerEvent, TierChanged } from '../events';
import { compilePolicy } from '../policy/compile-policy';
import { applyEvent, applyOverride, newCustomerState, reevaluate, type CustomerState } from './customer-state';
import { nextDueTime } from './due-time';
import { forwardSignals } from './forward';
import { OverrideError, type OverrideCommand } from './overrides';

const T0 = Date.UTC(2025, 0, 1);
const at = (day: number, hour = 12): number => T0 + day * DAY_MS + hour * 3_600_000;
const midnight = (day: number): number => T0 + day * DAY_MS;
const EMITTED = Date.UTC(2030, 0, 1);
const POLICY = compilePolicy(parse(readFileSync(path.join(__dirname, '../../../../policies/default.yaml'), 'utf8')), 'policies/default.yaml');

let seq = 0;
const order = (time: number, amount: number): CustomerEvent => {
  seq += 1;
  return {
    event_id: `e${seq}`, customer_id: 'c1', type: 'ORDER', event_time: time, channel: null, region: null, customer_type: null, industry: null,
    order: { order_id: `o${seq}`, amount_minor: amount, currency: 'CNY', item_count: 1 }, refund: null, interaction: null, feedback: null, attributes: {},
  };
};
const pin = (dimension: string, tier: string, until: number, extra: Partial<OverrideCommand> = {}): OverrideCommand => ({
  command_id: `cmd-${++seq}`, customer_id: 'c1', action: 'SET', dimension, tier, until, reason: 'strategic account', actor: 'alice', issued_at: at(10, 9), ...extra,
});
const clear = (dimension: string, extra: Partial<OverrideCommand> = {}): OverrideCommand => ({
  command_id: `cmd-${++seq}`, customer_id: 'c1', action: 'CLEAR', dimension, tier: null, until: null, reason: 'deal closed', actor: 'bob', issued_at: at(20, 9), ...extra,
});
const of = (ts: readonly TierChanged[], dimension: string) => ts.filter((t) => t.dimension === dimension);
const summary = (ts: readonly TierChanged[]) => ts.map((t) => [t.from_tier, t.to_tier, t.direction, t.cause]);

/** A customer at mid value (60 000 fen this year), at day 10. */
function midCustomer(): CustomerState {
  let state = newCustomerState('c1');
  for (const e of [order(at(0), 30_000), order(at(10), 30_000)]) state = applyEvent(state, e, POLICY, EMITTED).state;
  expect(state.tiers['value']?.tier).toBe('mid');
  return state;
}

describe('manual overrides', () => {
  it('pins a tier with a transition of cause OVERRIDE that names the command, its issuer, end and reason', () => {
    const { state, transitions } = applyOverride(midCustomer(), pin('value', 'vip', midnight(100)), POLICY, EMITTED);
    expect(summary(transitions)).toEqual([['mid', 'vip', 'UP', 'OVERRIDE']]);
    expect(transitions[0]).toMatchObject({
      rule: 'override.value',
      reason: `value pinned to vip by alice until ${new Date(midnight(100)).toISOString()}: strategic account`,
      cause_event_time: at(10, 9),
      transition_id: 'c1/value/3',
    });
    expect(transitions[0]?.cause_event_id).toMatch(/^cmd-/);
    expect(state.overrides?.['value']).toMatchObject({ tier: 'vip', until: midnight(100), actor: 'alice' });
    expect(state.history[0]).toMatchObject({ rule: 'override.value', to_tier: 'vip' });
  });

  it('holds the pinned tier against events and time while other dimensions move', () => {
    const pinned = applyOverride(midCustomer(), pin('value', 'low', midnight(300)), POLICY, EMITTED).state;
    const r = applyEvent(pinned, order(at(30), 900_000), POLICY, EMITTED);
    expect(of(r.transitions, 'value')).toEqual([]);
    expect(summary(of(r.transitions, 'membership'))).toEqual([['normal', 'silver', 'UP', 'EVENT']]);
    expect(r.state.tiers['value']?.tier).toBe('low');
    expect(r.state.metrics['spend_365d']).toBe(960_000);
    expect(reevaluate(r.state, POLICY, midnight(200), EMITTED).transitions.filter((t) => t.dimension === 'value')).toEqual([]);
  });

  it('ends by itself at its end time, back to the tier the rules give, with cause OVERRIDE_EXPIRED', () => {
    const pinned = applyOverride(midCustomer(), pin('value', 'vip', at(40, 15)), POLICY, EMITTED).state;
    expect(nextDueTime(pinned, POLICY, { scope: 'decisions' })).toBeLessThanOrEqual(at(40, 15));
    const r = reevaluate(pinned, POLICY, midnight(41), EMITTED);
    const value = of(r.transitions, 'value');
    expect(summary(value)).toEqual([['vip', 'mid', 'DOWN', 'OVERRIDE_EXPIRED']]);
    expect(value[0]?.cause_event_time).toBe(at(40, 15));
    expect(value[0]?.reason).toMatch(/^value pinned to vip by alice until .*: strategic account ended; value\.mid: /);
    expect(r.state.overrides).toBeUndefined();
    // Released without hysteresis: the grace of the pinned tier does not keep it.
    expect(r.state.tiers['value']).toMatchObject({ tier: 'mid', since: at(40, 15) });
  });

  it('ends on time even when no sweep came by before the next event', () => {
    const pinned = applyOverride(midCustomer(), pin('value', 'vip', midnight(40)), POLICY, EMITTED).state;
    const r = applyEvent(pinned, order(at(50), 500_000), POLICY, EMITTED);
    expect(of(r.transitions, 'value').map((t) => [t.from_tier, t.to_tier, t.cause, t.cause_event_time])).toEqual([
      ['vip', 'mid', 'OVERRIDE_EXPIRED', midnight(40)],
      ['mid', 'high', 'EVENT', at(50)],
    ]);
  });

  it('is cleared before its end, back to the tier the rules give, with cause OVERRIDE', () => {
    const pinned = applyOverride(midCustomer(), pin('value', 'vip', midnight(100)), POLICY, EMITTED).state;
    const r = applyOverride(pinned, clear('value'), POLICY, EMITTED);
    expect(summary(r.transitions)).toEqual([['vip', 'mid', 'DOWN', 'OVERRIDE']]);
    expect(r.transitions[0]?.reason).toMatch(/^value pinned to vip by alice until .* cleared by bob: deal closed; value\.mid: spend_365d >= 50000$/);
    expect(r.state.overrides).toBeUndefined();
    // Nothing is left to end later.
    expect(of(reevaluate(r.state, POLICY, midnight(101), EMITTED).transitions, 'value')).toEqual([]);
  });

  it('audits a pin to the tier already held as a LATERAL transition', () => {
    const r = applyOverride(midCustomer(), pin('value', 'mid', midnight(100)), POLICY, EMITTED);
    expect(summary(r.transitions)).toEqual([['mid', 'mid', 'LATERAL', 'OVERRIDE']]);
    expect(r.state.tiers['value']?.version).toBe(3);
  });

  it('pins a lifecycle stage against its deadlines', () => {
    const pinned = applyOverride(midCustomer(), pin('lifecycle', 'active', midnight(250)), POLICY, EMITTED).state;
    const r = reevaluate(pinned, POLICY, midnight(249), EMITTED);
    expect(of(r.transitions, 'lifecycle')).toEqual([]);
    const after = reevaluate(r.state, POLICY, midnight(250), EMITTED);
    expect(summary(of(after.transitions, 'lifecycle'))).toEqual([['active', 'churned', 'DOWN', 'OVERRIDE_EXPIRED']]);
  });

  it('puts the end of the pin in the forward signal', () => {
    const pinned = applyOverride(midCustomer(), pin('value', 'vip', midnight(100)), POLICY, EMITTED).state;
    expect(forwardSignals(pinned, POLICY)['value']).toMatchObject({ tier_lost_at: midnight(100), tier_lost_to: 'mid' });
  });

  it.each([
    ['an unknown dimension', pin('loyalty', 'gold', midnight(100)), /unknown dimension 'loyalty'/],
    ['an unknown tier', pin('value', 'platinum', midnight(100)), /unknown tier 'platinum' in value \(one of vip, high, mid, low\)/],
    ['no reason', pin('value', 'vip', midnight(100), { reason: '  ' }), /a reason is required/],
    ['an end before it is issued', pin('value', 'vip', at(10, 8)), /until must be later than the time the override is issued/],
    ['an end before the customer time', pin('value', 'vip', at(5), { issued_at: at(1) }), /is not after the customer's time/],
    ['a clear without a pin', clear('value'), /no active override in value to clear/],
  ])('rejects %s with an OverrideError, leaving the state unchanged', (_name, command, message) => {
    const state = midCustomer();
    const snapshot = JSON.stringify(state);
    expect(() => applyOverride(state, command, POLICY, EMITTED)).toThrow(OverrideError);
    expect(() => applyOverride(state, command, POLICY, EMITTED)).toThrow(message);
    expect(JSON.stringify(state)).toBe(snapshot);
  });

  it('rejects a pin for a customer without events', () => {
    expect(() => applyOverride(newCustomerState('c9'), pin('value', 'vip', midnight(100), { customer_id: 'c9' }), POLICY, EMITTED)).toThrow(/has no events yet/);
  });
});
