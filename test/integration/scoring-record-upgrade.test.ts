import path from 'node:path';
import { Partitioners } from 'kafkajs';
import Redis from 'ioredis';
import { applyEvent, newCustomerState, type CustomerEvent } from '@tierstream/domain';
import { AvroCodec, createSchemaRegistry, CustomerStore, defineLuaScripts, loadPolicyFile, RedisKeys, SchemaFiles, startWorker, topicNames, type RunningWorker } from '@tierstream/runtime';
import { ScoringWorker } from '../../services/scoring/src/scoring-worker';
import { provisionNamespace, workerEnv } from '../support/pipeline';
import { testKafka, waitFor } from '../support/test-stack';

const policy = loadPolicyFile(path.resolve(__dirname, '..', '..', 'policies', 'default.yaml'));
const DAY = 86_400_000;

const order = (id: string, customer: string, amountMinor: number, day: number): CustomerEvent => ({
  event_id: id, customer_id: customer, type: 'ORDER', event_time: Date.UTC(2026, 0, 1) + day * DAY, channel: 'web', region: 'CN-SH', customer_type: 'B2C', industry: null,
  order: { order_id: `o-${id}`, amount_minor: amountMinor, currency: 'CNY', item_count: 1 }, refund: null, interaction: null, feedback: null, attributes: {},
});

/** Issue 10: a record a release before v2 wrote (JSON) is read by the running worker and written back as v2, no replay needed. */
describe('scoring upgrades a v1 (JSON) customer record in place (real stack)', () => {
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

  it('reads the JSON record, applies the next event on top of it, and stores v2', async () => {
    // As the old release left it: two orders applied, fence at offset 1 of partition 0, written by the same Lua script.
    let state = newCustomerState('olga');
    for (const e of [order('o1', 'olga', 200_000, 0), order('o2', 'olga', 150_000, 5)]) state = applyEvent(state, e, policy, 0).state;
    const key = new RedisKeys(ns).customerState('olga');
    defineLuaScripts(redis, '1');
    const commit = (redis as unknown as Record<string, (...a: string[]) => Promise<number>>)['commitCustomer_1'];
    expect(await commit?.call(redis, key, '', '0:1', JSON.stringify({ state, pending: [] }))).toBe(1);
    expect((await redis.hgetBuffer(key, 'record'))?.[0]).toBe(0x7b);

    // Offsets 0 and 1 stand for the two applied events (skipped by the fence); offset 2 is new.
    const codec = new AvroCodec<CustomerEvent>(createSchemaRegistry(process.env['SCHEMA_REGISTRY_URL'] as string), topicNames(ns).events, SchemaFiles.customerEvent);
    const producer = testKafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const events = [order('o1', 'olga', 200_000, 0), order('o2', 'olga', 150_000, 5), order('o3', 'olga', 100_000, 9)];
    await producer.send({ topic: topicNames(ns).events, acks: -1, messages: await Promise.all(events.map(async (e) => ({ key: e.customer_id, value: await codec.encode(e), partition: 0 }))) });
    await producer.disconnect();

    const store = new CustomerStore(redis, ns);
    const loaded = await waitFor(async () => {
      const c = await store.get('olga');
      return c.fence === '0:2' ? c : undefined;
    }, 30_000, 'the third order applied');
    const stored = await redis.hgetBuffer(key, 'record');
    expect([...(stored ?? Buffer.alloc(0)).subarray(0, 2)]).toEqual([0x54, 2]);
    // Counted once each: the old record's two orders and the new one.
    expect(loaded.record?.state.aggregates.lifetime['count:ORDER']).toBe(3);
    expect(loaded.record?.state.metrics['spend_lifetime']).toBe(450_000);
    expect(loaded.record?.state.forward).toBeUndefined();
  });
});
