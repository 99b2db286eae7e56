/**
 * The stored size of a customer (record format v4, what Redis keeps at rest: no pending
 * transitions once their batch committed) under the default policy, against the budgets
 * docs/scoring.md#memory-budget states. Sizes are of the record's bytes; what Redis holds for
 * them, its own overhead included, is test/integration/redis-memory-budget.test.ts's.
 */
import { encodeCustomerRecord } from '@tierstream/runtime';
import type { CustomerState } from '@tierstream/domain';
import { busyCustomer, demoPopulationAfterAYear } from '../support/budget-customers';

const storedBytes = (state: CustomerState): number => encodeCustomerRecord({ state, pending: [] }).record.length;

describe('stored customer record budget (format v4, default policy)', () => {
  it('the demo population after a year: at most 640 bytes per customer on average', () => {
    const sizes = demoPopulationAfterAYear(600).map(storedBytes);
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    expect(sizes.length).toBe(600);
    expect(mean).toBeGreaterThan(300); // a real state, not an empty one
    expect(mean).toBeLessThanOrEqual(640);
  });

  it('a customer with 3 events every day for a year: at most 3,400 bytes', () => {
    const state = busyCustomer();
    expect((state.aggregates.buckets['count:ORDER'] ?? []).length / 2).toBeGreaterThan(180); // orders on every other day
    expect(state.history).toHaveLength(10);
    expect(storedBytes(state)).toBeLessThanOrEqual(3400);
  });
});
