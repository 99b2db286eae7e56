import path from 'node:path';
import { Partitioners } from 'kafkajs';
import Redis from 'ioredis';
import type { CustomerEvent, TierChanged } from '@tierstream/domain';
import { AvroCodec, CustomerStore, createSchemaRegistry, loadPolicyFile, SchemaFiles, startWorker, topicNames, type DeadLetter, type Endpoints, type RunningWorker } from '@tierstream/runtime';
import { ScoringWorker, type ScoringSettings } from '../../services/scoring/src/scoring-worker';
import { provisionNamespace, workerEnv } from '../support/pipeline';
import { readUntilIdle, testKafka, waitFor } from '../support/test-stack';

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 1);
const settings: ScoringSettings = {
  policy: loadPolicyFile(path.resolve(__dirname, '..', '..', 'policies', 'default.yaml')),
  concurrency: 1,
  allowedLatenessMs: 7 * DAY,
  sweep: true,
  sweepLimit: 1000,
  tick: undefined, // event time is 2025 here: a wall-clock tick would make every later event late
};

const order = (id: string, customer: string, amountMinor: number, day: number): CustomerEvent => ({
  event_id: id,
  customer_id: customer,
  type: 'ORDER',
  event_time: T0 + day * DAY + 3_600_000,
  channel: 'web',
  region: 'CN-SH',
  customer_type: 'B2C',
  industry: null,
  order: { order_id: `o-${id}`, amount_minor: amountMinor, currency: 'CNY', item_count: 1 },
  refund: null,
  interaction: null,
  feedback: null,
  attributes: {},
});

describe('re-evaluation without new events (one partition, so one watermark)', () => {
  let ns: string;
  let endpoints: Endpoints;
  let worker: RunningWorker | undefined;
  let redis: Redis;
  const kafka = testKafka();

  const start = async () => {
    worker = await startWorker('scoring', workerEnv(ns, endpoints), (ctx) => new ScoringWorker(ctx, settings));
  };
  const produce = async (events: readonly CustomerEvent[]) => {
    const codec = new AvroCodec<CustomerEvent>(createSchemaRegistry(endpoints.schemaRegistryUrl), topicNames(ns).events, SchemaFiles.customerEvent);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: topicNames(ns).events, acks: -1, messages: await Promise.all(events.map(async (e) => ({ key: e.customer_id, value: await codec.encode(e) }))) });
    await producer.disconnect();
  };
  const transitions = async (): Promise<TierChanged[]> => {
    const registry = createSchemaRegistry(endpoints.schemaRegistryUrl);
    return Promise.all((await readUntilIdle(kafka, topicNames(ns).tierChanged, 2000)).map(async (m) => (await registry.decode(m.value as Buffer)) as TierChanged));
  };
  const stateOf = async (customer: string) => (await new CustomerStore(redis, ns).get(customer)).record?.state;

  beforeAll(async () => {
    ({ namespace: ns, endpoints } = await provisionNamespace('reeval', 1));
    redis = new Redis(endpoints.redisUrl);
    await start();
  });
  afterAll(async () => {
    await worker?.close();
    redis.disconnect();
  });

  it('moves a customer who stopped buying down when the watermark passes his window, with cause REEVALUATION', async () => {
    await produce([order('a1', 'alice', 400_000, 0), order('b1', 'bob', 1_000, 1)]);
    await waitFor(async () => ((await stateOf('alice'))?.tiers['value'] ? true : undefined), 30_000, 'alice scored');
    const heldBefore = (await stateOf('alice'))?.tiers['value']?.tier;
    expect(['high', 'vip']).toContain(heldBefore);

    // Only bob buys, 400 days later: alice gets no event, yet her year of spend expires.
    await produce([order('b2', 'bob', 1_000, 400)]);
    const drop = await waitFor(async () => (await transitions()).find((t) => t.customer_id === 'alice' && t.dimension === 'value' && t.cause === 'REEVALUATION'), 60_000, 'alice re-evaluated');
    expect(drop.cause_event_id).toBeNull();
    // On the day her first order left the 365-day window, not when bob's event came.
    expect(drop.cause_event_time).toBe(T0 + 365 * DAY);
    expect(drop.direction).toBe('DOWN');
    expect(drop.from_tier).toBe(heldBefore);
    expect((await stateOf('alice'))?.metrics['spend_365d']).toBe(0);
  });

  it('dead-letters an event older than the watermark minus the allowed lateness, and still counts one within it', async () => {
    await produce([order('c-late', 'carol', 50_000, 100), order('b3', 'bob', 2_000, 398)]);
    const registry = createSchemaRegistry(endpoints.schemaRegistryUrl);
    const letters = await waitFor(async () => {
      const all = await Promise.all((await readUntilIdle(kafka, topicNames(ns).eventsDlq, 1500).catch(() => [])).map(async (m) => (await registry.decode(m.value as Buffer)) as DeadLetter));
      return all.length > 0 ? all : undefined;
    }, 60_000, 'a dead letter');
    expect(letters.map((l) => [l.error_code, l.event_id])).toEqual([['TS_ERR_SCORING_LATE', 'c-late']]);
    // bob's event 2 days behind the watermark is within the 7 days allowed: counted (his
    // day-1 order has left the 365-day window by day 400, so two orders remain).
    await waitFor(async () => ((await stateOf('bob'))?.metrics['orders_365d'] === 2 ? true : undefined), 30_000, "bob's late-but-allowed order counted");
    // carol's only event was late: her fence moved past it (so a replay dead-letters it
    // again rather than applying it), and nothing of it was counted.
    expect((await stateOf('carol'))?.tiers).toEqual({});
    expect((await new CustomerStore(redis, ns).get('carol')).fence).toMatch(/^0:\d+$/);
  });

  it('keeps the due-time index across a restart of the scoring worker', async () => {
    await produce([order('e1', 'erin', 80_000, 410)]);
    await waitFor(async () => ((await stateOf('erin'))?.tiers['value']?.tier === 'mid' ? true : undefined), 30_000, 'erin scored');
    await worker?.close();
    await start();
    await produce([order('b4', 'bob', 1_000, 900)]);
    const drop = await waitFor(async () => (await transitions()).find((t) => t.customer_id === 'erin' && t.dimension === 'value' && t.cause === 'REEVALUATION'), 60_000, 'erin re-evaluated after the restart');
    expect(drop.to_tier).toBe('low');
  });
});
