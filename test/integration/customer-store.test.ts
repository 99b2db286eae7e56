// CustomerStore against the real Redis: the fence compare-and-set, the pending key apart from
// the record, settling a committed batch's pending transitions (issue 10: a customer at rest
// keeps none), and the move from the hash layout before.
import Redis from 'ioredis';
import { newCustomerState, type TierChanged } from '@tierstream/domain';
import { CustomerStore, encodeCustomerRecord, RedisKeys, type CustomerRecord } from '@tierstream/runtime';
import { encodeV3Record } from '../../services/runtime/src/testing/legacy-records';
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
    expect(await redis.exists(keys.customerPending('ann'))).toBe(0);
    expect((await redis.getBuffer(keys.customerRecord('ann')))?.subarray(0, 6).toString('latin1')).toBe('0:1|T\u0004');

    // A later batch's pending survives a late settle of the earlier batch.
    await store.commit([{ customerId: 'ann', expectedFence: '0:1', newFence: '0:5', record: record('ann', [2]) }], undefined, '0:4-5');
    expect(await store.settle(['ann'], '0:0-1')).toBe(0);
    expect((await store.get('ann')).record?.pending.map((p) => p.event.transition_id)).toEqual(['ann/value/2']);
    // A write with nothing pending removes what was there (committed already, or dropped by the planner).
    await store.commit([{ customerId: 'ann', expectedFence: '0:5', newFence: '0:6', record: record('ann', []) }], undefined, '0:6-6');
    expect(await redis.exists(keys.customerPending('ann'))).toBe(0);
  });

  it('reads a customer kept in the hash of the layout before, fences against its fence, and moves it to the record key on the first write', async () => {
    const old = record('cy', [4]);
    const stored = encodeCustomerRecord(old);
    await redis.hset(keys.customerStateHash('cy'), 'fence', '2:4', 'record', encodeV3Record(old.state), 'pending', stored.pending ?? '', 'pbatch', '2:3-4');
    const loaded = await store.get('cy');
    expect([loaded.fence, loaded.record?.pending.map((p) => p.event.transition_id)]).toEqual(['2:4', ['cy/value/4']]);
    await expect(store.commit([{ customerId: 'cy', expectedFence: '', newFence: '2:9', record: record('cy', []) }], undefined, '2:5-9')).rejects.toMatchObject({ code: 'TS_ERR_FENCE_CONFLICT' });
    expect(await redis.exists(keys.customerRecord('cy'))).toBe(0);
    await store.commit([{ customerId: 'cy', expectedFence: '2:4', newFence: '2:9', record: record('cy', [5]) }], undefined, '2:5-9');
    expect(await redis.exists(keys.customerStateHash('cy'))).toBe(0);
    const moved = await store.get('cy');
    expect([moved.fence, moved.record?.pending.map((p) => p.event.transition_id)]).toEqual(['2:9', ['cy/value/5']]);
    expect(await store.settle(['cy'], '2:5-9')).toBe(1);
    expect(await redis.exists(keys.customerPending('cy'))).toBe(0);
  });

  it('keeps a customer at rest in one string key, its fence and record (no hash, nothing pending)', async () => {
    await store.commit([{ customerId: 'di', expectedFence: '', newFence: '3:7', record: record('di', []) }], undefined, '3:0-7');
    expect(await redis.type(keys.customerRecord('di'))).toBe('string');
    expect(await redis.exists(keys.customerPending('di'), keys.customerStateHash('di'))).toBe(0);
  });

  it('refuses a write whose fence moved, writing nothing', async () => {
    await store.commit([{ customerId: 'bo', expectedFence: '', newFence: '1:3', record: record('bo', [1], 1) }], undefined, '1:0-3');
    await expect(store.commit([{ customerId: 'bo', expectedFence: '1:2', newFence: '1:9', record: record('bo', [], 1) }], undefined, '1:4-9')).rejects.toMatchObject({ code: 'TS_ERR_FENCE_CONFLICT' });
    const stored = await store.get('bo');
    expect([stored.fence, stored.record?.pending.length]).toEqual(['1:3', 1]);
  });
});
