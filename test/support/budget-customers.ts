/**
 * The customers the memory budgets are stated for (docs/scoring.md#memory-budget), under the
 * default policy: the demo population after a year, and a busy customer with 3 events every
 * day for a year. Shared by the record-size test and the Redis memory test.
 */
import path from 'node:path';
import { applyEventInPlace, DAY_MS, newCustomerState, unconvertibleCurrency, type CustomerEvent, type CustomerState } from '@tierstream/domain';
import { loadPolicyFile } from '@tierstream/runtime';
import { generatePopulation } from '../../services/cli/src/demo/population';

export const budgetPolicy = loadPolicyFile(path.resolve(__dirname, '..', '..', 'policies', 'default.yaml'));
const START = Date.UTC(2026, 0, 1);

function apply(customer: string, events: readonly CustomerEvent[]): CustomerState {
  const state = newCustomerState(customer);
  for (const e of events) if (unconvertibleCurrency(e, budgetPolicy) === undefined) applyEventInPlace(state, e, budgetPolicy, e.event_time);
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

/** The demo population's customers (`customers` of them) after a year of events. */
export function demoPopulationAfterAYear(customers: number): CustomerState[] {
  const population = generatePopulation({ customers, days: 365, start: START, seed: 11, idPrefix: 'b-' });
  const byCustomer = new Map<string, CustomerEvent[]>();
  for (const e of population.events) byCustomer.set(e.customer_id, [...(byCustomer.get(e.customer_id) ?? []), e]);
  return [...byCustomer].map(([customer, events]) => apply(customer, events));
}

/** A customer with 3 events every day for a year: orders, refunds, visits, support, feedback. */
export const busyCustomer = (): CustomerState => apply('busy', Array.from({ length: 365 * 3 }, (_, n) => busy(Math.floor(n / 3), n % 3)));
