import path from 'node:path';
import { Partitioners } from 'kafkajs';
import Redis from 'ioredis';
import { applyEvent, newCustomerState, type CustomerEvent, type CustomerState } from '@tierstream/domain';
import { AvroCodec, createSchemaRegistry, CustomerStore, encodeCustomerRecord, loadPolicyFile, RECORD_FORMAT_VERSION, RedisKeys, SchemaFiles, startWorker, topicNames, type PendingTransition, type RunningWorker } from '@tierstream/runtime';
import { encodeV1Record, encodeV2Record, encodeV3Record } from '../../services/runtime/src/testing/legacy-records';
import { ScoringWorker } from '../../services/scoring/src/scoring-worker';
import { provisionNamespace, workerEnv } from '../support/pipeline';
import { testKafka, waitFor } from '../support/test-stack';

const policy = loadPolicyFile(path.resolve(__dirname, '..', '..', 'policies', 'default.yaml'));
const DAY = 86_400_000;

const order = (id: string, customer: string, amountMinor: number, day: number): CustomerEvent => ({
  event_id: id, customer_id: customer, type: 'ORDER', event_time: Date.UTC(2026, 0, 1) + day * DAY, channel: 'web', region: 'CN-SH', customer_type: 'B2C', industry: null,
  order: { order_id: `o-${id}`, amount_minor: amountMinor, currency: 'CNY', item_count: 1 }, refund: null, interaction: null, feedback: null, attributes: {},
});

/**
 * Issue 10: records older releases wrote (v1 JSON, v2 MessagePack with pending transitions
 * inside, v3 MessagePack tuples) are read by the running worker and written back as v4, no
 * replay needed; the pending transitions of a committed batch are then removed from Redis.
 */
describe('scoring upgrades v1 (JSON), v2 and v3 customer records in place (real stack)', () => {
  let worker: RunningWorker;
  let redis: Redis;
  let ns: string;

  beforeAll(async () => {
    const { namespace, endpoints } = await provisionNamespace('upgrade', 1);
    ns = namespace;
    redis = new Redis(endpoints.redisUrl);
    worker = await startWorker('scoring', workerEnv(ns, endpoints), (ctx) => new ScoringWorker(ctx, { policy, concurrency: 1, allowedLatenessMs: 30 * DAY, sweep: true, sweepLimit: 1000, tick: undefined }));
  });
  afterAll(async () => {
    await worker?.close();
    redis?.disconnect();
  });

  /** The customer's first two orders applied as an old release applied them, stored with fence `0:<fenceOffset>`. */
  async function storeOld(customer: string, fenceOffset: number, encode: (record: { state: CustomerState; pending: PendingTransition[] }) => Buffer, pendingApart = false): Promise<string> {
    let state = newCustomerState(customer);
    let pending: PendingTransition[] = [];
    for (const e of [order(`${customer}-1`, customer, 200_000, 0), order(`${customer}-2`, customer, 150_000, 5)]) {
      const applied = applyEvent(state, e, policy, 0);
      state = applied.state;
      pending = applied.transitions.map((event) => ({ partition: 0, offset: fenceOffset, event }));
    }
    const key = new RedisKeys(ns).customerStateHash(customer);
    await redis.hset(key, 'fence', `0:${fenceOffset}`, 'record', encode({ state, pending }));
    // v3 kept pending transitions in a field of their own, as v4 does.
    const apart = pendingApart ? encodeCustomerRecord({ state, pending }).pending : null;
    if (apart) await redis.hset(key, 'pending', apart, 'pbatch', `0:${fenceOffset}-${fenceOffset}`);
    return key;
  }

  it('reads a v1 and a v2 record, applies the next event on top of each, stores v3, and keeps no pending transitions once committed', async () => {
    // Offsets 0-1 are olga's two applied events, 2-3 piet's, 4-5 vera's (skipped by the fences); 6, 7 and 8 are new.
    const olga = await storeOld('olga', 1, encodeV1Record);
    const piet = await storeOld('piet', 3, encodeV2Record);
    const vera = await storeOld('vera', 5, (r) => encodeV3Record(r.state), true);
    expect((await redis.hgetBuffer(olga, 'record'))?.[0]).toBe(0x7b);
    expect([...((await redis.hgetBuffer(vera, 'record')) ?? Buffer.alloc(0)).subarray(0, 2)]).toEqual([0x54, 3]);
    expect(await redis.hexists(vera, 'pending')).toBe(1);

    const codec = new AvroCodec<CustomerEvent>(createSchemaRegistry(process.env['SCHEMA_REGISTRY_URL'] as string), topicNames(ns).events, SchemaFiles.customerEvent);
    const producer = testKafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const events = [
      order('olga-1', 'olga', 200_000, 0), order('olga-2', 'olga', 150_000, 5), order('piet-1', 'piet', 200_000, 0), order('piet-2', 'piet', 150_000, 5),
      order('vera-1', 'vera', 200_000, 0), order('vera-2', 'vera', 150_000, 5),
      order('olga-3', 'olga', 100_000, 9), order('piet-3', 'piet', 900_000, 9), order('vera-3', 'vera', 300_000, 9),
    ];
    await producer.send({ topic: topicNames(ns).events, acks: -1, messages: await Promise.all(events.map(async (e) => ({ key: e.customer_id, value: await codec.encode(e), partition: 0 }))) });
    await producer.disconnect();

    const store = new CustomerStore(redis, ns);
    for (const [customer, key, fence] of [['olga', olga, '0:6'], ['piet', piet, '0:7'], ['vera', vera, '0:8']] as const) {
      const loaded = await waitFor(async () => {
        const c = await store.get(customer);
        return c.fence === fence ? c : undefined;
      }, 30_000, `the third order of ${customer} applied`);
      // Moved to the record key, `<fence>|` then the record, and the hash of the layout before is gone.
      const stored = await redis.getBuffer(new RedisKeys(ns).customerRecord(customer));
      const record = (stored ?? Buffer.alloc(0)).subarray(fence.length + 1);
      expect([customer, (stored ?? Buffer.alloc(0)).subarray(0, fence.length + 1).toString(), ...record.subarray(0, 2)]).toEqual([customer, `${fence}|`, 0x54, RECORD_FORMAT_VERSION]);
      expect(await redis.exists(key)).toBe(0);
      // Counted once each: the old record's two orders and the new one.
      expect(loaded.record?.state.aggregates.lifetime['count:ORDER']).toBe(3);
      expect(loaded.record?.state.forward).toBeUndefined();
      // The old history's entries keep their ids and rules, without the prose; the new one has its inputs.
      const history = loaded.record?.state.history ?? [];
      expect(history.some((h) => Object.keys(h.inputs).length > 0)).toBe(true);
      expect(history.every((h) => !('reason' in h))).toBe(true);
      expect(history.map((h) => h.transition_id)).toContain(`${customer}/value/1`);
      // The batch's transaction committed: its pending transitions are gone from Redis.
      await waitFor(async () => ((await redis.exists(new RedisKeys(ns).customerPending(customer))) === 0 ? true : undefined), 10_000, `${customer}'s pending transitions removed`);
    }
    expect((await store.get('piet')).record?.state.metrics['spend_lifetime']).toBe(1_250_000);
    expect((await store.get('vera')).record?.state.metrics['spend_lifetime']).toBe(650_000);
    expect(RECORD_FORMAT_VERSION).toBe(4);
  });
});
