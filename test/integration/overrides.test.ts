import path from 'node:path';
import { Partitioners } from 'kafkajs';
import Redis from 'ioredis';
import type { CustomerEvent, CustomerEventRecord, TierChanged } from '@tierstream/domain';
import { AvroCodec, CustomerStore, createSchemaRegistry, loadPolicyFile, SchemaFiles, startWorker, topicNames, type DeadLetter, type Endpoints, type RunningWorker } from '@tierstream/runtime';
import { ScoringWorker, type ScoringSettings } from '../../services/scoring/src/scoring-worker';
import { overrideRecord } from '../../services/cli/src/override/override-record';
import { provisionNamespace, workerEnv } from '../support/pipeline';
import { readUntilIdle, testKafka, waitFor } from '../support/test-stack';

const DAY = 86_400_000;
const policy = loadPolicyFile(path.resolve(__dirname, '..', '..', 'policies', 'default.yaml'));
// Event time is the wall clock here, as in production, so the idle partition's tick is meaningful.
const settings: ScoringSettings = { policy, concurrency: 2, allowedLatenessMs: 7 * DAY, sweep: true, sweepLimit: 1000, tick: { everyMs: 1_000, idleAfterMs: 2_000 } };

const order = (id: string, customer: string, amountMinor: number, time: number): CustomerEvent => ({
  event_id: id, customer_id: customer, type: 'ORDER', event_time: time, channel: 'web', region: null, customer_type: 'B2B', industry: null,
  order: { order_id: `o-${id}`, amount_minor: amountMinor, currency: 'CNY', item_count: 1 }, refund: null, interaction: null, feedback: null, attributes: {},
});

describe('manual overrides through scoring, and the wall-clock tick of an idle partition', () => {
  let ns: string;
  let endpoints: Endpoints;
  let worker: RunningWorker | undefined;
  let redis: Redis;
  const kafka = testKafka();

  const start = async () => {
    worker = await startWorker('scoring', workerEnv(ns, endpoints), (ctx) => new ScoringWorker(ctx, settings));
  };
  const produce = async (records: readonly CustomerEventRecord[]) => {
    const codec = new AvroCodec<CustomerEventRecord>(createSchemaRegistry(endpoints.schemaRegistryUrl), topicNames(ns).events, SchemaFiles.customerEvent);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: topicNames(ns).events, acks: -1, messages: await Promise.all(records.map(async (r) => ({ key: r.customer_id, value: await codec.encode(r) }))) });
    await producer.disconnect();
  };
  const transitionsOf = async (customer: string): Promise<TierChanged[]> => {
    const registry = createSchemaRegistry(endpoints.schemaRegistryUrl);
    const all = await Promise.all((await readUntilIdle(kafka, topicNames(ns).tierChanged, 1500)).map(async (m) => (await registry.decode(m.value as Buffer)) as TierChanged));
    return all.filter((t) => t.customer_id === customer && t.dimension === 'value');
  };
  const stateOf = async (customer: string) => (await new CustomerStore(redis, ns).get(customer)).record?.state;

  beforeAll(async () => {
    ({ namespace: ns, endpoints } = await provisionNamespace('ovr', 1));
    redis = new Redis(endpoints.redisUrl);
    await start();
  });
  afterAll(async () => {
    await worker?.close();
    redis.disconnect();
  });

  it('pins a tier with an OVERRIDE transition, and the pin ends by itself on an idle partition, also across a restart', async () => {
    await produce([order('a1', 'acme', 400_000, Date.now() - DAY)]);
    await waitFor(async () => ((await stateOf('acme'))?.tiers['value']?.tier === 'high' ? true : undefined), 30_000, 'acme scored high');
    const until = Date.now() + 12_000;
    const command = overrideRecord({ action: 'SET', customerId: 'acme', dimension: 'value', tier: 'vip', until: new Date(until).toISOString(), reason: 'strategic account', actor: 'it' }, policy, Date.now());
    await produce([command]);
    const pinned = await waitFor(async () => (await transitionsOf('acme')).find((t) => t.cause === 'OVERRIDE'), 30_000, 'the OVERRIDE transition');
    expect(pinned).toMatchObject({ from_tier: 'high', to_tier: 'vip', direction: 'UP', rule: 'override.value', cause_event_id: command.event_id, cause_event_time: command.event_time });
    expect(pinned.reason).toContain('pinned to vip by it until');
    expect((await stateOf('acme'))?.overrides?.['value']).toMatchObject({ tier: 'vip', until, actor: 'it' });

    await worker?.close();
    await start();
    // No record reaches the partition any more: only the wall-clock tick can move its watermark past the end.
    const ended = await waitFor(async () => (await transitionsOf('acme')).find((t) => t.cause === 'OVERRIDE_EXPIRED'), 90_000, 'the pin to end by itself');
    expect(ended).toMatchObject({ from_tier: 'vip', to_tier: 'high', cause_event_id: null, cause_event_time: until });
    expect((await stateOf('acme'))?.overrides).toBeUndefined();
    const ids = (await transitionsOf('acme')).map((t) => t.transition_id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('clears a pin with an OVERRIDE transition back to the computed tier, and dead-letters a command the policy rules out', async () => {
    await produce([order('b1', 'beta', 60_000, Date.now() - DAY)]);
    await waitFor(async () => ((await stateOf('beta'))?.tiers['value']?.tier === 'mid' ? true : undefined), 30_000, 'beta scored mid');
    const set = overrideRecord({ action: 'SET', customerId: 'beta', dimension: 'value', tier: 'low', until: '+1h', reason: 'under review', actor: 'it' }, policy, Date.now());
    const clear = overrideRecord({ action: 'CLEAR', customerId: 'beta', dimension: 'value', reason: 'review done', actor: 'it2' }, policy, Date.now());
    // Written past tierctl's own checks, as a buggy producer could.
    const bad: CustomerEventRecord = { ...set, event_id: 'override/bad', override: { action: 'SET', dimension: 'value', tier: 'platinum', until: Date.now() + DAY, reason: 'typo', actor: 'it' } };
    await produce([set, clear, bad]);
    const moves = await waitFor(async () => {
      const ts = (await transitionsOf('beta')).filter((t) => t.cause === 'OVERRIDE');
      return ts.length >= 2 ? ts : undefined;
    }, 30_000, 'both OVERRIDE transitions');
    expect(moves.map((t) => [t.from_tier, t.to_tier, t.cause_event_id])).toEqual([
      ['mid', 'low', set.event_id],
      ['low', 'mid', clear.event_id],
    ]);
    expect(moves[1]?.reason).toContain('cleared by it2: review done');

    const registry = createSchemaRegistry(endpoints.schemaRegistryUrl);
    const letters = await waitFor(async () => {
      const all = await Promise.all((await readUntilIdle(kafka, topicNames(ns).eventsDlq, 1500).catch(() => [])).map(async (m) => (await registry.decode(m.value as Buffer)) as DeadLetter));
      return all.length > 0 ? all : undefined;
    }, 30_000, 'the dead letter');
    expect(letters.map((l) => [l.error_code, l.event_id, l.customer_id])).toEqual([['TS_ERR_SCORING_OVERRIDE', 'override/bad', 'beta']]);
    expect(letters[0]?.error_message).toContain("unknown tier 'platinum' in value");
    const state = await stateOf('beta');
    expect(state?.tiers['value']?.tier).toBe('mid');
    expect(state?.overrides).toBeUndefined();
  });
});
