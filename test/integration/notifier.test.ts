import { randomUUID } from 'node:crypto';
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { TierChanged } from '@tierstream/domain';
import {
  AvroCodec,
  createRedis,
  createSchemaRegistry,
  RedisKeys,
  SchemaFiles,
  startWorker,
  topicNames,
  type DeadLetter,
  type Endpoints,
  type Redis,
  type RunningWorker,
  type TopicNames,
} from '@tierstream/runtime';
import { buildNotifier, notifierGroupId } from '../../services/notifier/src/notifier-worker';
import { tierChange, newSecret } from '../../services/notifier/src/testing/fixtures';
import { WebhookReceiver } from '../../services/notifier/src/testing/webhook-receiver';
import { provisionNamespace, workerEnv } from '../support/pipeline';
import { quietLogger, readMessages, testKafka, waitFor } from '../support/test-stack';

const TIMEOUT_MS = 600;
const oldSecret = newSecret();
const currentSecret = newSecret();
const vipSecret = newSecret();

describe('notifier worker', () => {
  let namespace: string;
  let endpoints: Endpoints;
  let topics: TopicNames;
  let kafka: Kafka;
  let producer: Producer;
  let codec: AvroCodec<TierChanged>;
  let redis: Redis;
  let worker: RunningWorker;
  const receiver = new WebhookReceiver([oldSecret, currentSecret, vipSecret]);

  /** A change of a fresh customer unless told otherwise, so tests never share a chain. */
  const change = (overrides: Partial<TierChanged> = {}): TierChanged => {
    const customer = overrides.customer_id ?? `c-${randomUUID().slice(0, 8)}`;
    const dimension = overrides.dimension ?? 'value';
    const version = overrides.tier_version ?? 1;
    // silver -> platinum: outside the vip subscriber's filter unless a test says otherwise.
    return tierChange({ customer_id: customer, transition_id: `${customer}:${dimension}:${version}`, dimension, tier_version: version, from_tier: 'silver', to_tier: 'platinum', emitted_at: Date.now(), ...overrides });
  };

  /** Produces changes in one send, keyed by customer; returns the first record's bytes and coordinates. */
  const produce = async (...changes: TierChanged[]): Promise<{ value: Buffer; partition: number; offset: number }> => {
    const values = await Promise.all(changes.map((c) => codec.encode(c)));
    const [first] = await producer.send({ topic: topics.tierChanged, acks: -1, messages: changes.map((c, i) => ({ key: c.customer_id, value: values[i] ?? null })) });
    if (!first || !values[0]) throw new Error('nothing produced');
    return { value: values[0], partition: first.partition, offset: Number(first.baseOffset) };
  };

  const delivered = (id: string, path = '/hooks') => waitFor(() => receiver.requestsFor(id, path).find((r) => r.action === 200), 30_000, `delivery of ${id} to ${path}`);

  beforeAll(async () => {
    ({ namespace, endpoints } = await provisionNamespace('notifier'));
    topics = topicNames(namespace);
    await receiver.start();
    const subscribers = {
      subscribers: [
        { id: 'audit', type: 'log' },
        {
          id: 'hooks',
          type: 'webhook',
          url: receiver.url('/hooks'),
          secrets: [currentSecret, oldSecret],
          timeoutMs: TIMEOUT_MS,
          maxAttempts: 4,
          concurrency: 4,
          backoff: { initialMs: 20, maxMs: 100 },
        },
        {
          id: 'vip',
          type: 'webhook',
          url: receiver.url('/vip?token=not-logged'),
          secrets: [vipSecret],
          timeoutMs: TIMEOUT_MS,
          maxAttempts: 2,
          backoff: { initialMs: 10, maxMs: 50 },
          filter: { dimensions: ['value'], tiers: ['gold'], directions: ['UP'] },
        },
      ],
    };
    const env = workerEnv(namespace, endpoints, { NOTIFIER_SUBSCRIBERS: JSON.stringify(subscribers) });
    worker = await startWorker('notifier', env, buildNotifier(env));
    kafka = testKafka();
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    codec = new AvroCodec<TierChanged>(createSchemaRegistry(endpoints.schemaRegistryUrl), topics.tierChanged, SchemaFiles.tierChanged);
    await codec.init();
    redis = createRedis(endpoints.redisUrl, quietLogger());
  });

  afterAll(async () => {
    await worker?.close();
    await producer?.disconnect();
    await receiver.close();
    redis?.disconnect();
  });

  it('delivers a change as {type, timestamp, data}, signed so that standardwebhooks verifies it with either rotated secret', async () => {
    const c = change({ attributes: { segment: 'smb' } });
    await produce(c);
    const request = await delivered(c.transition_id);
    expect(request.verifiedWith).toEqual([true, true, false]); // old and current secret; not another subscriber's
    expect(request.headers['webhook-id']).toBe(c.transition_id);
    expect(Math.abs(Number(request.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    expect(String(request.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(request.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request.body)).toEqual({ type: 'tier.changed', timestamp: new Date(c.emitted_at).toISOString(), data: c });
    // Remembered as delivered, for the configured memory (default 168 h).
    const key = new RedisKeys(namespace).delivered('hooks', c.transition_id);
    await waitFor(async () => ((await redis.exists(key)) === 1 ? true : undefined), 10_000, 'the delivered marker');
    expect(await redis.pttl(key)).toBeGreaterThan(167 * 3_600_000);
  });

  it('retries a receiver that answers 500 twice, then delivers once, every attempt signed', async () => {
    const c = change();
    receiver.script('/hooks', c.transition_id, [500, 500]);
    await produce(c);
    await delivered(c.transition_id);
    // A later change of the same customer is delivered after it: the first one has settled.
    const next = change({ customer_id: c.customer_id, tier_version: 2 });
    await produce(next);
    await delivered(next.transition_id);
    const attempts = receiver.requestsFor(c.transition_id, '/hooks');
    expect(attempts.map((r) => r.action)).toEqual([500, 500, 200]);
    for (const r of attempts) expect(r.verifiedWith.slice(0, 2)).toEqual([true, true]);
    expect(new Set(attempts.map((r) => r.body)).size).toBe(1);
  });

  it('retries an attempt that times out and delivers when the receiver recovers', async () => {
    const c = change();
    receiver.script('/hooks', c.transition_id, ['hang']);
    await produce(c);
    const ok = await delivered(c.transition_id);
    const attempts = receiver.requestsFor(c.transition_id, '/hooks');
    expect(attempts.map((r) => r.action)).toEqual(['hang', 200]);
    // The second attempt came only after the first one's timeout.
    expect(ok.at - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
  });

  it('dead-letters a change the receiver refuses with 400, without retrying, keeping the original record', async () => {
    const c = change();
    receiver.script('/hooks', c.transition_id, [400]);
    const sent = await produce(c);
    const next = change({ customer_id: c.customer_id, tier_version: 2 });
    await produce(next);
    await delivered(next.transition_id);
    expect(receiver.requestsFor(c.transition_id, '/hooks').map((r) => r.action)).toEqual([400]);

    const registry = createSchemaRegistry(endpoints.schemaRegistryUrl);
    const dlq = await readMessages(kafka, topics.tierChangedDlq, 1);
    const letters = (await Promise.all(dlq.map(async (m) => (await registry.decode(m.value as Buffer)) as DeadLetter))).filter((l) => l.event_id === c.transition_id);
    expect(letters).toHaveLength(1);
    const [letter] = letters;
    expect(letter).toMatchObject({
      error_code: 'TS_ERR_WEBHOOK_REJECTED',
      worker: 'notifier',
      customer_id: c.customer_id,
      source_topic: topics.tierChanged,
      source_partition: sent.partition,
      source_offset: sent.offset,
    });
    expect(letter?.error_message).toMatch(new RegExp(`^subscriber hooks: POST http://127\\.0\\.0\\.1:\\d+/hooks answered 400: scripted 400$`));
    expect(Buffer.compare(letter?.original_value ?? Buffer.alloc(0), sent.value)).toBe(0);
    expect(letter?.original_key?.toString('utf8')).toBe(c.customer_id);
    expect(await redis.exists(new RedisKeys(namespace).delivered('hooks', c.transition_id))).toBe(0);
  });

  it("delivers to a filtered subscriber only the changes its filter matches", async () => {
    const customer = `c-${randomUUID().slice(0, 8)}`;
    const excluded = [
      change({ customer_id: customer, dimension: 'lifecycle', tier_version: 1, from_tier: null, to_tier: 'gold', direction: 'INITIAL' }),
      change({ customer_id: customer, tier_version: 1, from_tier: 'gold', to_tier: 'silver', direction: 'DOWN' }),
      change({ customer_id: customer, tier_version: 2, from_tier: 'silver', to_tier: 'platinum', direction: 'UP' }),
    ];
    const matching = change({ customer_id: customer, tier_version: 3, from_tier: 'silver', to_tier: 'gold', direction: 'UP' });
    await produce(...excluded, matching);
    const vip = await delivered(matching.transition_id, '/vip');
    expect(vip.verifiedWith).toEqual([false, false, true]);
    // The unfiltered subscriber got all four; the filtered one, in the same order, only the match.
    for (const c of [...excluded, matching]) await delivered(c.transition_id);
    expect(receiver.requests.filter((r) => r.path === '/vip' && r.id.startsWith(`${customer}:`)).map((r) => r.id)).toEqual([matching.transition_id]);
  });

  it('delivers a transition produced twice only once, within a batch and across batches', async () => {
    const c = change();
    await produce(c, c);
    await delivered(c.transition_id);
    await produce(c);
    const sentinel = change({ customer_id: c.customer_id, tier_version: 2 });
    await produce(sentinel);
    await delivered(sentinel.transition_id);
    expect(receiver.requestsFor(c.transition_id, '/hooks')).toHaveLength(1);
  });

  it('commits the offsets of every settled batch and exposes its metrics', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(topics.tierChanged);
      let seen = '';
      await waitFor(
        async () => {
          const [committed] = await admin.fetchOffsets({ groupId: notifierGroupId(namespace), topics: [topics.tierChanged] });
          seen = JSON.stringify({ ends: ends.map((e) => [e.partition, e.high]), committed: committed?.partitions.map((p) => [p.partition, p.offset]) });
          // A partition that got no record has nothing to commit (-1).
          const at = (partition: number): string => committed?.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
          const all = ends.every((e) => at(e.partition) === e.high || (e.high === '0' && at(e.partition) === '-1'));
          return all ? true : undefined;
        },
        30_000,
        'committed offsets at the end of the topic',
      ).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}: ${seen}`);
      });
    } finally {
      await admin.disconnect();
    }
    const metrics = await (await fetch(`http://127.0.0.1:${worker.httpPort}/metrics`)).text();
    /** The value of the sample of `name` that has all of `labels` (in any order among the others). */
    const value = (name: string, labels: Record<string, string>): number => {
      const line = metrics.split('\n').find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
      return Number(line?.split(' ').pop() ?? 'NaN');
    };
    expect(value('tierstream_notifier_deliveries_total', { subscriber: 'hooks', outcome: 'delivered' })).toBeGreaterThanOrEqual(10);
    expect(value('tierstream_notifier_deliveries_total', { subscriber: 'hooks', outcome: 'rejected' })).toBe(1);
    expect(value('tierstream_notifier_deliveries_total', { subscriber: 'hooks', outcome: 'skipped' })).toBeGreaterThanOrEqual(2);
    expect(value('tierstream_notifier_deliveries_total', { subscriber: 'vip', outcome: 'delivered' })).toBe(1);
    expect(value('tierstream_notifier_delivery_attempts_total', { subscriber: 'hooks', result: '5xx' })).toBe(2);
    expect(value('tierstream_notifier_delivery_attempts_total', { subscriber: 'hooks', result: 'timeout' })).toBe(1);
    expect(value('tierstream_dead_letters_total', { reason: 'TS_ERR_WEBHOOK_REJECTED' })).toBe(1);
    expect(value('tierstream_notifier_delivery_duration_seconds_count', { subscriber: 'hooks', outcome: 'delivered' })).toBeGreaterThanOrEqual(10);
  });
});
