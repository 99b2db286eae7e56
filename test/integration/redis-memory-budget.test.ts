/**
 * Issue 10's memory budget on the real Redis (docs/scoring.md#memory-budget): what Redis holds
 * per customer at rest, its own overhead included (MEMORY USAGE of the customer's keys, and
 * its share of the partition's due index), for the demo population after a year (at most
 * 1 KB on average) and for a customer with 3 events every day for a year (at most 4 KB).
 */
import Redis from 'ioredis';
import { nextDueTime, type CustomerState } from '@tierstream/domain';
import { CustomerStore, PartitionClock, RedisKeys } from '@tierstream/runtime';
import { budgetPolicy, busyCustomer, demoPopulationAfterAYear } from '../support/budget-customers';
import { testEndpoints, uniqueName } from '../support/test-stack';

describe('Redis memory per customer at rest (real Redis)', () => {
  let redis: Redis;
  const ns = `${uniqueName('budget')}.`;
  const keys = new RedisKeys(ns);
  const topic = `${ns}customer.events.v1`;

  beforeAll(() => {
    redis = new Redis(testEndpoints().redisUrl);
  });
  afterAll(async () => {
    const found = await redis.keys(`${ns}*`);
    if (found.length > 0) await redis.del(...found);
    redis.disconnect();
  });

  const usage = async (key: string): Promise<number> => Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));

  /** Stores the customers as scoring does (record, fence, due index entry) and returns Redis's bytes per customer. */
  async function storedBytesPerCustomer(states: readonly CustomerState[], partition: number): Promise<number> {
    const store = new CustomerStore(redis, ns);
    const clock = new PartitionClock(redis, topic, ns);
    await store.commit(states.map((state, i) => ({ customerId: state.customerId, expectedFence: '', newFence: `${partition}:${1_000_000 + i}`, record: { state, pending: [] } })));
    const due = new Map(states.map((s) => [s.customerId, nextDueTime(s, budgetPolicy, { scope: 'decisions' }) ?? Date.UTC(2027, 0, 1)]));
    await clock.write({ partition, firstOffset: 0, lastOffset: states.length, watermark: 0, swept: [], due });
    let bytes = await usage(keys.dueIndex(topic, partition));
    for (const s of states) {
      expect(await redis.exists(keys.customerPending(s.customerId), keys.customerStateHash(s.customerId))).toBe(0);
      bytes += await usage(keys.customerRecord(s.customerId));
    }
    return bytes / states.length;
  }

  it('the demo population after a year: at most 1 KB per customer, record, keys and due index entry included', async () => {
    const perCustomer = await storedBytesPerCustomer(demoPopulationAfterAYear(600), 0);
    expect(perCustomer).toBeGreaterThan(300);
    expect(perCustomer).toBeLessThanOrEqual(1024);
  });

  it('a customer with 3 events every day for a year: at most 4 KB', async () => {
    const perCustomer = await storedBytesPerCustomer([busyCustomer()], 1);
    expect(perCustomer).toBeGreaterThan(2048);
    expect(perCustomer).toBeLessThanOrEqual(4096);
  });
});
