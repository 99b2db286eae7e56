/**
 * The stored size of a customer (record format v4, what Redis keeps at rest: no pending
 * transitions once their batch committed) under the default policy, against the budgets
 * docs/scoring.md#memory-budget states. Sizes are of the record's bytes; Redis adds its own
 * per-key overhead (measured by `npm run bench`'s redis_bytes_per_customer), which the
 * budgets leave room for within issue 10's 1 KB and 4 KB per customer.
 */
import path from 'node:path';
import { applyEventInPlace, DAY_MS, newCustomerState, unconvertibleCurrency, type CustomerEvent, type CustomerState } from '@tierstream/domain';
import { encodeCustomerRecord, loadPolicyFile } from '@tierstream/runtime';
import { generatePopulation } from '../../services/cli/src/demo/population';

const policy = loadPolicyFile(path.resolve(__dirname, '..', '..', 'policies', 'default.yaml'));
const START = Date.UTC(2026, 0, 1);

const storedBytes = (state: CustomerState): number => encodeCustomerRecord({ state, pending: [] }).record.length;

function apply(customer: string, events: readonly CustomerEvent[]): CustomerState {
  const state = newCustomerState(customer);
  for (const e of events) if (unconvertibleCurrency(e, policy) === undefined) applyEventInPlace(state, e, policy, e.event_time);
  return state;
}

const CHANNELS = ['web', 'app', 'store'] as const;

/** Event `i` of day `day` of a busy customer: orders, refunds, visits, support, feedback, every day. */
function busy(day: number, i: number): CustomerEvent {
  const base = {
    event_id: `e${day}-${i}`, customer_id: 'busy', event_time: START + day * DAY_MS + (8 + i * 4) * 3_600_000, channel: CHANNELS[(day + i) % 3] ?? null,
    region: 'CN-SH', customer_type: 'B2C' as const, industry: null, order: null, refund: null, interaction: null, feedback: null, attributes: { city: 'Shanghai' },
  };
  switch ((day * 3 + i) % 6) {
    case 0: case 1: case 2:
      return { ...base, type: 'ORDER', order: { order_id: `o${day}-${i}`, amount_minor: 25_000 + ((day * 7919) % 90_000), currency: 'CNY', item_count: 1 + (day % 4) } };
    case 3:
      return { ...base, type: 'REFUND', refund: { order_id: `o${day}`, amount_minor: 5_000, currency: 'CNY' } };
    case 4:
      return { ...base, type: 'INTERACTION', interaction: { kind: day % 2 === 0 ? 'VISIT' : 'SUPPORT_CONTACT', campaign_id: null } };
    default:
      return { ...base, type: 'FEEDBACK', feedback: day % 2 === 0 ? { kind: 'SATISFACTION', score: 1 + (day % 5), comment: null } : { kind: 'COMPLAINT', score: 2, comment: null } };
  }
}

describe('stored customer record budget (format v4, default policy)', () => {
  it('the demo population after a year: at most 640 bytes per customer on average', () => {
    const population = generatePopulation({ customers: 600, days: 365, start: START, seed: 11, idPrefix: 'b-' });
    const byCustomer = new Map<string, CustomerEvent[]>();
    for (const e of population.events) byCustomer.set(e.customer_id, [...(byCustomer.get(e.customer_id) ?? []), e]);
    const sizes = [...byCustomer].map(([customer, events]) => storedBytes(apply(customer, events)));
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    expect(sizes.length).toBe(600);
    expect(mean).toBeGreaterThan(300); // a real state, not an empty one
    expect(mean).toBeLessThanOrEqual(640);
  });

  it('a customer with 3 events every day for a year: at most 3,900 bytes', () => {
    const events = Array.from({ length: 365 * 3 }, (_, n) => busy(Math.floor(n / 3), n % 3));
    const state = apply('busy', events);
    expect((state.aggregates.buckets['count:ORDER'] ?? []).length / 2).toBeGreaterThan(180); // orders on every other day
    expect(state.history).toHaveLength(10);
    expect(storedBytes(state)).toBeLessThanOrEqual(3900);
  });
});
