import { Partitioners } from 'kafkajs';
import Redis from 'ioredis';
import type { CustomerEvent, TierChanged } from '@tierstream/domain';
import { AvroCodec, CustomerStore, createSchemaRegistry, RedisKeys, SchemaFiles, startWorker, topicNames, type Endpoints, type RunningWorker } from '@tierstream/runtime';
import { scoringSettingsFromEnv } from '../../services/scoring/src/scoring-settings';
import { ScoringWorker } from '../../services/scoring/src/scoring-worker';
import { orderEvent } from '../support/events';
import { provisionNamespace, workerEnv } from '../support/pipeline';
import { replayPolicyFile } from '../support/policies';
import { readUntilIdle, testKafka, waitFor } from '../support/test-stack';

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 10, 1);

const order = (id: string, customer: string, day: number): CustomerEvent => orderEvent(id, customer, T0 + day * DAY + 3_600_000);

describe('scoring sweeps a customer whose due time the same batch creates and passes', () => {
  let ns: string;
  let endpoints: Endpoints;
  let worker: RunningWorker | undefined;
  let redis: Redis;
  const kafka = testKafka();

  beforeAll(async () => {
    ({ namespace: ns, endpoints } = await provisionNamespace('duebatch', 1));
    redis = new Redis(endpoints.redisUrl);
  });
  afterAll(async () => {
    await worker?.close();
    redis.disconnect();
  });

  it('moves a first-time buyer new → active in the batch whose watermark passes new_for_days, with the clock tick off', async () => {
    // The backlog, before scoring runs: nina's first order, then 31 days of another
    // customer's orders in the same partition, so one fetch brings them as one batch.
    const events = [order('n1', 'nina', 0), ...Array.from({ length: 32 }, (_, d) => order(`z${d}`, 'zed', d + 1))];
    const codec = new AvroCodec<CustomerEvent>(createSchemaRegistry(endpoints.schemaRegistryUrl), topicNames(ns).events, SchemaFiles.customerEvent);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: topicNames(ns).events, acks: -1, messages: await Promise.all(events.map(async (e) => ({ key: e.customer_id, value: await codec.encode(e) }))) });
    await producer.disconnect();

    const settings = scoringSettingsFromEnv({ SCORING_POLICY_FILE: replayPolicyFile(), SCORING_CONCURRENCY: '1' });
    expect(settings.tick).toBeUndefined();
    worker = await startWorker('scoring', workerEnv(ns, endpoints), (ctx) => new ScoringWorker(ctx, settings));

    const store = new CustomerStore(redis, ns);
    await waitFor(async () => ((await store.get('zed')).fence === `0:${events.length - 1}` ? true : undefined), 60_000, 'the backlog scored');
    const registry = createSchemaRegistry(endpoints.schemaRegistryUrl);
    const transitions = await Promise.all((await readUntilIdle(kafka, topicNames(ns).tierChanged, 2000)).map(async (m) => (await registry.decode(m.value as Buffer)) as TierChanged));
    const stages = transitions.filter((t) => t.customer_id === 'nina' && t.dimension === 'lifecycle');
    // new_for_days 30: active from the start of day 30 after the first order, without waiting for another record.
    expect(stages.map((t) => [t.from_tier, t.to_tier, t.cause, t.cause_event_time])).toEqual([
      [null, 'new', 'EVENT', T0 + 3_600_000],
      ['new', 'active', 'REEVALUATION', T0 + 30 * DAY],
    ]);
    expect((await store.get('nina')).record?.state.tiers['lifecycle']?.tier).toBe('active');
    // Nothing at or before the watermark is left in the due index.
    const due = await redis.zrangebyscore(new RedisKeys(ns).dueIndex(topicNames(ns).events, 0), '-inf', T0 + 32 * DAY + 3_600_000);
    expect(due).toEqual([]);
  });
});
