// CustomerStore against the real Redis: the fence compare-and-set, the pending field apart from
// the state, and settling a committed batch's pending transitions (issue 10: a customer at rest
// keeps none).
import Redis from 'ioredis';
import { newCustomerState, type TierChanged } from '@tierstream/domain';
import { CustomerStore, RedisKeys, type CustomerRecord } from '@tierstream/runtime';
import { testEndpoints, uniqueName } from '../support/test-stack';

const transition = (customer: string, version: number): TierChanged =>
  ({ transition_id: `${customer}/value/${version}`, customer_id: customer, dimension: 'value', to_tier: 'high', tier_version: version }) as TierChanged;

const record = (customer: string, versions: readonly number[], partition = 0): CustomerRecord => ({
  state: newCustomerState(customer),
  pending: versions.map((v) => ({ partition, offset: v, event: transition(customer, v) })),
});

describe('CustomerStore (real Redis)', () => {
  let redis: Redis;
  let store: CustomerStore;
  let keys: RedisKeys;
  const ns = `${uniqueName('store')}.`;

  beforeAll(() => {
    redis = new Redis(testEndpoints().redisUrl);
    store = new CustomerStore(redis, ns);
    keys = new RedisKeys(ns);
  });
  afterAll(async () => {
    const found = await redis.keys(`*${ns}*`);
    if (found.length > 0) await redis.del(...found);
    redis.disconnect();
  });

  it('keeps a batch pending transitions until that batch is settled, and leaves a later batch alone', async () => {
    await store.commit([{ customerId: 'ann', expectedFence: '', newFence: '0:1', record: record('ann', [1]) }], undefined, '0:0-1');
    expect((await store.get('ann')).record?.pending.map((p) => p.event.transition_id)).toEqual(['ann/value/1']);
    // Another batch's token removes nothing.
    expect(await store.settle(['ann'], '0:2-3')).toBe(0);
    expect((await store.get('ann')).record?.pending).toHaveLength(1);
    expect(await store.settle(['ann'], '0:0-1')).toBe(1);
    expect((await store.get('ann')).record?.pending).toEqual([]);
    expect(await redis.hkeys(keys.customerState('ann'))).toEqual(expect.not.arrayContaining(['pending', 'pbatch']));

    // A later batch's pending survives a late settle of the earlier batch.
    await store.commit([{ customerId: 'ann', expectedFence: '0:1', newFence: '0:5', record: record('ann', [2]) }], undefined, '0:4-5');
    expect(await store.settle(['ann'], '0:0-1')).toBe(0);
    expect((await store.get('ann')).record?.pending.map((p) => p.event.transition_id)).toEqual(['ann/value/2']);
    // A write with nothing pending removes what was there (committed already, or dropped by the planner).
    await store.commit([{ customerId: 'ann', expectedFence: '0:5', newFence: '0:6', record: record('ann', []) }], undefined, '0:6-6');
    expect(await redis.hexists(keys.customerState('ann'), 'pending')).toBe(0);
  });

  it('refuses a write whose fence moved, writing nothing', async () => {
    await store.commit([{ customerId: 'bo', expectedFence: '', newFence: '1:3', record: record('bo', [1], 1) }], undefined, '1:0-3');
    await expect(store.commit([{ customerId: 'bo', expectedFence: '1:2', newFence: '1:9', record: record('bo', [], 1) }], undefined, '1:4-9')).rejects.toMatchObject({ code: 'TS_ERR_FENCE_CONFLICT' });
    const stored = await store.get('bo');
    expect([stored.fence, stored.record?.pending.length]).toEqual(['1:3', 1]);
  });
});
