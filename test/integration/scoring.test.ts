import path from 'node:path';
import { Partitioners } from 'kafkajs';
import Redis from 'ioredis';
import { applyEvent, newCustomerState, type CustomerEvent, type TierChanged } from '@tierstream/domain';
import {
  AvroCodec,
  CustomerStore,
  createSchemaRegistry,
  loadPolicyFile,
  SchemaFiles,
  startWorker,
  topicNames,
  type DeadLetter,
  type RunningWorker,
} from '@tierstream/runtime';
import { ScoringWorker } from '../../services/scoring/src/scoring-worker';
import { provisionNamespace, workerEnv } from '../support/pipeline';
import { readMessages, testKafka, waitFor } from '../support/test-stack';

const policy = loadPolicyFile(path.resolve(__dirname, '..', '..', 'policies', 'default.yaml'));

const order = (id: string, customer: string, amountMinor: number, day: number, currency = 'CNY'): CustomerEvent => ({
  event_id: id,
  customer_id: customer,
  type: 'ORDER',
  event_time: Date.UTC(2026, 0, 1) + day * 86_400_000,
  channel: 'web',
  region: 'CN-SH',
  customer_type: 'B2C',
  industry: null,
  order: { order_id: `o-${id}`, amount_minor: amountMinor, currency, item_count: 1 },
  refund: null,
  interaction: null,
  feedback: null,
  attributes: { city: 'Shanghai' },
});

describe('scoring worker on the real stack', () => {
  let ns: string;
  let worker: RunningWorker;
  let redis: Redis;
  const kafka = testKafka();

  beforeAll(async () => {
    const { namespace, endpoints } = await provisionNamespace('scoring');
    ns = namespace;
    redis = new Redis(endpoints.redisUrl);
    worker = await startWorker('scoring', workerEnv(ns, endpoints), (ctx) => new ScoringWorker(ctx, { policy, concurrency: 2, allowedLatenessMs: 7 * 86_400_000, sweep: true, sweepLimit: 1000, tick: undefined }));
  });
  afterAll(async () => {
    await worker.close();
    redis.disconnect();
  });

  async function produce(events: readonly CustomerEvent[], raw: { key: string; value: Buffer; headers?: Record<string, string> }[] = []): Promise<void> {
    const codec = new AvroCodec<CustomerEvent>(createSchemaRegistry(process.env['SCHEMA_REGISTRY_URL'] as string), topicNames(ns).events, SchemaFiles.customerEvent);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const messages = [...(await Promise.all(events.map(async (e) => ({ key: e.customer_id, value: await codec.encode(e) })))), ...raw];
    await producer.send({ topic: topicNames(ns).events, acks: -1, messages });
    await producer.disconnect();
  }

  it('emits explained transitions for a customer crossing value tiers, with deterministic ids, and keeps the state in Redis', async () => {
    const events = [order('a1', 'alice', 60_000, 0), order('a2', 'alice', 250_000, 10), order('a3', 'alice', 800_000, 20)];
    // What the domain says these events cause; the worker must publish exactly these.
    let state = newCustomerState('alice');
    const expected: string[] = [];
    for (const e of events) {
      const r = applyEvent(state, e, policy, 0);
      state = r.state;
      expected.push(...r.transitions.map((t) => t.transition_id));
    }
    await produce(events);
    const registry = createSchemaRegistry(process.env['SCHEMA_REGISTRY_URL'] as string);
    const messages = await readMessages(kafka, topicNames(ns).tierChanged, expected.length);
    const transitions = (await Promise.all(messages.map(async (m) => (await registry.decode(m.value as Buffer)) as TierChanged))).filter((t) => t.customer_id === 'alice');
    expect(transitions.map((t) => t.transition_id).sort()).toEqual([...expected].sort());
    const value = transitions.filter((t) => t.dimension === 'value');
    expect(value.map((t) => [t.from_tier, t.to_tier, t.direction, t.transition_id])).toEqual([
      [null, 'mid', 'INITIAL', 'alice/value/1'],
      ['mid', 'high', 'UP', 'alice/value/2'],
      ['high', 'vip', 'UP', 'alice/value/3'],
    ]);
    const up = value[1] as TierChanged;
    expect(up).toMatchObject({ rule: 'value.high', cause: 'EVENT', cause_event_id: 'a2', policy_id: 'default', policy_version: '2', region: 'CN-SH', attributes: { city: 'Shanghai' } });
    expect(up.metrics['spend_365d']).toBe(310_000);
    expect(up.reason).toContain('spend_365d=310000');

    // Once the batch's transaction has committed, its pending transitions are removed from Redis.
    const stored = await waitFor(async () => {
      const c = await new CustomerStore(redis, ns).get('alice');
      return c.record?.pending.length === 0 ? c : undefined;
    }, 10_000, 'the committed pending transitions removed');
    expect(stored.record?.state.tiers['value']?.tier).toBe('vip');
    expect(stored.fence).toMatch(/^\d+:\d+$/);
    expect(stored.record?.state.history.map((h) => h.transition_id).sort()).toEqual([...expected].sort());
    expect(stored.record?.state.metrics['spend_365d']).toBe(1_110_000);
  });

  it('sends undecodable records and unconvertible currencies to the DLQ, headers kept, and goes on', async () => {
    await produce([order('b1', 'bob', 10_000, 30, 'XYZ'), order('b2', 'bob', 70_000, 31)], [{ key: 'bob', value: Buffer.from('{"not":"avro"}'), headers: { 'trace-id': 't-42' } }]);
    const registry = createSchemaRegistry(process.env['SCHEMA_REGISTRY_URL'] as string);
    const dead = await readMessages(kafka, topicNames(ns).eventsDlq, 2);
    const letters = await Promise.all(dead.map(async (m) => (await registry.decode(m.value as Buffer)) as DeadLetter));
    expect(letters.map((l) => l.error_code).sort()).toEqual(['TS_ERR_SCORING_CURRENCY', 'TS_ERR_SCORING_DECODE']);
    const undecodable = letters.find((l) => l.error_code === 'TS_ERR_SCORING_DECODE');
    expect(undecodable?.original_value?.toString()).toBe('{"not":"avro"}');
    expect(undecodable?.original_key?.toString()).toBe('bob');
    expect(undecodable?.original_headers['trace-id']?.toString()).toBe('t-42');
    expect(letters.find((l) => l.error_code === 'TS_ERR_SCORING_CURRENCY')?.error_message).toContain('XYZ');
    // The good event after them was scored.
    await waitFor(async () => ((await new CustomerStore(redis, ns).get('bob')).record?.state.tiers['value']?.tier === 'mid' ? true : undefined), 30_000, 'bob scored');
  });
});
