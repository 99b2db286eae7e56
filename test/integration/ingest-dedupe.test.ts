import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { createKafka, createRedis, createSchemaRegistry, RedisKeys, startWorker, topicNames, type Endpoints, type Redis, type RunningWorker, type TopicNames } from '@tierstream/runtime';
import type { CustomerEvent } from '@tierstream/domain';
import { decodeSeen, ENTRY_BYTES, EventDedupe, eventDigest, IngestWorker, ingestConfigFromEnv, SETTLED_MARKER, type IngestAnswer } from '@tierstream/ingest';
import { provisionNamespace, workerEnv } from '../support/pipeline';
import { TopicCollector } from '../support/topic-collector';
import { quietLogger, uniqueName } from '../support/test-stack';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Ingest's per-customer dedupe memory (services/ingest/src/dedupe.ts, dedupe-1.lua) against
 * the real Redis, directly and through the worker.
 */
describe('ingest dedupe in the customer slot', () => {
  let redis: Redis;
  let namespace: string;
  let endpoints: Endpoints;
  let keys: RedisKeys;
  const run = uniqueName('dd');
  const id = (name: string): string => `${run}-${name}`;

  beforeAll(async () => {
    ({ namespace, endpoints } = await provisionNamespace('ingest-dedupe'));
    keys = new RedisKeys(namespace);
    redis = createRedis(endpoints.redisUrl, quietLogger());
  });

  afterAll(() => redis?.disconnect());

  const stored = async (customerId: string) => decodeSeen((await redis.getBuffer(keys.customerSeen(customerId))) ?? Buffer.alloc(0));
  const hex = (name: string): string => eventDigest(id(name)).toString('hex');

  describe('EventDedupe', () => {
    const dedupe = (options: Partial<ConstructorParameters<typeof EventDedupe>[2]> = {}): EventDedupe =>
      new EventDedupe(redis, keys, { horizonMs: 3_600_000, readLegacy: false, ...options });
    const kafkaClaim = (customerId: string, eventId: string, offset: number) => ({ customerId, eventId, marker: `${namespace}customer.events.raw:0:${offset}`, ttlMs: 3_600_000 });

    it('remembers a settled id in 18 bytes in the customer key, across a new connection, and within one batch', async () => {
      const first = dedupe();
      expect(await first.claim([kafkaClaim('c-pack', id('p1'), 1), kafkaClaim('c-pack', id('p2'), 2), kafkaClaim('c-pack', id('p1'), 3)])).toEqual([
        null,
        null,
        `${namespace}customer.events.raw:0:1`,
      ]);
      await first.settle([
        { customerId: 'c-pack', eventId: id('p1') },
        { customerId: 'c-pack', eventId: id('p2') },
      ]);
      const set = await stored('c-pack');
      expect(set.claims).toEqual([]);
      expect(set.settled.map((e) => e.digest.toString('hex'))).toEqual([hex('p1'), hex('p2')]);
      expect(await redis.strlen(keys.customerSeen('c-pack'))).toBe(4 + 2 * ENTRY_BYTES);

      const other = createRedis(endpoints.redisUrl, quietLogger());
      try {
        const again = new EventDedupe(other, keys, { horizonMs: 3_600_000, readLegacy: false });
        expect(await again.claim([kafkaClaim('c-pack', id('p2'), 9), kafkaClaim('c-pack', id('p3'), 10)])).toEqual([SETTLED_MARKER, null]);
      } finally {
        other.disconnect();
      }
    });

    it('gives a replayed record its own claim back (produce again) and another record the first claim (a duplicate)', async () => {
      const store = dedupe();
      expect(await store.claim([kafkaClaim('c-replay', id('r1'), 40)])).toEqual([null]);
      // The attempt died before its transaction committed: nothing was settled. The replay:
      expect(await store.claim([kafkaClaim('c-replay', id('r1'), 40)])).toEqual([`${namespace}customer.events.raw:0:40`]);
      expect(await store.claim([kafkaClaim('c-replay', id('r1'), 41)])).toEqual([`${namespace}customer.events.raw:0:40`]);
      const set = await stored('c-replay');
      expect(set.settled).toEqual([]);
      expect(set.claims.map((c) => [c.digest.toString('hex'), c.marker])).toEqual([[hex('r1'), `${namespace}customer.events.raw:0:40`]]);
      // Its deadline is the claim's TTL from Redis's clock (the machine's, give or take a few seconds).
      expect(Math.abs((set.claims[0]?.deadlineMs ?? 0) - (Date.now() + 3_600_000))).toBeLessThan(5000);
      expect(await redis.pttl(keys.customerSeen('c-replay'))).toBeGreaterThan(3_590_000);
    });

    it('lets an HTTP pending claim expire after its TTL, and releases only the claims of its own marker', async () => {
      const store = dedupe();
      const pending = (token: string, ttlMs: number) => ({ customerId: 'c-http', eventId: id('h1'), marker: `pending:${token}`, ttlMs });
      expect(await store.claim([pending('a', 600)])).toEqual([null]);
      expect(await store.claim([pending('b', 600)])).toEqual(['pending:a']);
      await store.release([{ customerId: 'c-http', eventId: id('h1') }], 'pending:b');
      expect(await store.claim([pending('b', 600)])).toEqual(['pending:a']);
      await sleep(800);
      expect(await store.claim([pending('b', 60_000)])).toEqual([null]);
      await store.release([{ customerId: 'c-http', eventId: id('h1') }], 'pending:b');
      expect(await redis.exists(keys.customerSeen('c-http'))).toBe(0);
    });

    it('forgets a settled id once the horizon has passed, and the key expires by itself', async () => {
      // One-second buckets and a two-second horizon: kept for at least 2 s, at most 3 s.
      const store = dedupe({ horizonMs: 2000, bucketMs: 1000 });
      expect(await store.claim([kafkaClaim('c-old', id('o1'), 1)])).toEqual([null]);
      await store.settle([
        { customerId: 'c-old', eventId: id('o1') },
        { customerId: 'c-untouched', eventId: id('u1') },
      ]);
      const ttl = await redis.pttl(keys.customerSeen('c-old'));
      expect(ttl).toBeGreaterThan(1900);
      expect(ttl).toBeLessThanOrEqual(3000);
      await sleep(1900);
      expect(await store.claim([kafkaClaim('c-old', id('o1'), 2)])).toEqual([SETTLED_MARKER]);
      await sleep(1300);
      expect(await store.claim([kafkaClaim('c-old', id('o1'), 3)])).toEqual([null]);
      // The claim pruned the expired entry: what is left is that claim.
      const set = await stored('c-old');
      expect(set.settled).toEqual([]);
      expect(set.claims.map((c) => c.marker)).toEqual([`${namespace}customer.events.raw:0:3`]);
      // A customer nobody wrote to since: its key is gone (the whole-key backstop).
      expect(await redis.exists(keys.customerSeen('c-untouched'))).toBe(0);
    });

    it('remembers ids per customer: the same id of another customer is another event', async () => {
      const store = dedupe();
      expect(await store.claim([kafkaClaim('c-one', id('same'), 1), kafkaClaim('c-two', id('same'), 2)])).toEqual([null, null]);
    });

    it('reads a legacy one-key-per-id marker while the upgrade is younger than a horizon, giving up the claim it made beside a duplicate', async () => {
      await redis.del(keys.dedupeLayoutSince());
      let now = Date.now();
      const store = dedupe({ readLegacy: true, clock: () => now });
      await store.start();
      await redis.set(keys.eventSeen(id('legacy')), 'done:old-request', 'PX', 60_000);
      await redis.set(keys.eventSeen(id('legacy-own')), `${namespace}customer.events.raw:0:7`, 'PX', 60_000);
      expect(await store.claim([kafkaClaim('c-legacy', id('legacy'), 6), kafkaClaim('c-legacy', id('legacy-own'), 7)])).toEqual([
        'done:old-request',
        `${namespace}customer.events.raw:0:7`,
      ]);
      // The duplicate's claim was given up; the replayed record keeps its claim.
      expect((await stored('c-legacy')).claims.map((c) => c.digest.toString('hex'))).toEqual([hex('legacy-own')]);

      now += 3_600_000 + 25 * 3_600_000;
      expect(store.readsLegacyKeys()).toBe(false);
      expect(await store.claim([kafkaClaim('c-legacy', id('legacy'), 8)])).toEqual([null]);
    });
  });

  describe('through the worker', () => {
    let topics: TopicNames;
    let kafka: Kafka;
    let producer: Producer;
    let events: TopicCollector<CustomerEvent>;
    let env: Record<string, string>;
    let worker: RunningWorker | undefined;
    const start = async (): Promise<RunningWorker> => startWorker('ingest', env, (ctx) => new IngestWorker(ctx, ingestConfigFromEnv(env, ctx.config.namespace)));
    const event = (name: string, customer: string) =>
      JSON.stringify({ event_id: id(name), customer_id: customer, type: 'order', occurred_at: new Date(Date.now() - 60_000).toISOString(), order_id: 'o', amount: '5.00', currency: 'EUR' });
    const produce = async (value: string, key: string, partition = 0): Promise<number> => {
      const [meta] = await producer.send({ topic: topics.raw, acks: -1, messages: [{ key, value, partition }] });
      return Number(meta?.baseOffset);
    };

    beforeAll(async () => {
      topics = topicNames(namespace);
      env = workerEnv(namespace, endpoints, {});
      kafka = createKafka({ clientId: uniqueName('ingest-dedupe'), brokers: endpoints.kafkaBrokers, logger: quietLogger() });
      producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      events = new TopicCollector<CustomerEvent>(kafka, topics.events, createSchemaRegistry(endpoints.schemaRegistryUrl));
      await events.start();
      worker = await start();
    });

    afterAll(async () => {
      await worker?.close();
      await Promise.all([events?.stop(), producer?.disconnect()]);
    });

    it('drops a duplicate sent after the worker restarted, settled in the customer key', async () => {
      await produce(event('restart', 'c-restart'), 'c-restart');
      await events.waitFor((e) => e.event_id === id('restart'), 'the first copy');
      await worker?.close();
      worker = await start();
      await produce(event('restart', 'c-restart'), 'c-restart');
      await produce(event('restart-sentinel', 'c-restart'), 'c-restart');
      await events.waitFor((e) => e.event_id === id('restart-sentinel'), 'the event after the duplicate');
      expect(events.find((e) => e.event_id === id('restart'))).toHaveLength(1);
      const set = await stored('c-restart');
      expect(set.settled.map((e) => e.digest.toString('hex'))).toEqual([hex('restart'), hex('restart-sentinel')]);
      expect(set.claims).toEqual([]);
    });

    it("produces a record whose claim an uncommitted earlier attempt left (a Kafka replay), and drops one claimed by another record", async () => {
      const admin = kafka.admin();
      await admin.connect();
      const next = async (): Promise<number> => Number((await admin.fetchTopicOffsets(topics.raw)).find((p) => p.partition === 1)?.high ?? NaN);
      try {
        const earlier = new EventDedupe(redis, keys, { horizonMs: 3_600_000, readLegacy: false });
        const own = await next();
        expect(await earlier.claim([{ customerId: 'c-kreplay', eventId: id('kr'), marker: `${topics.raw}:1:${own}`, ttlMs: 3_600_000 }])).toEqual([null]);
        expect(await produce(event('kr', 'c-kreplay'), 'c-kreplay', 1)).toBe(own);
        await events.waitFor((e) => e.event_id === id('kr'), 'the replayed event');

        const taken = await next();
        await earlier.claim([{ customerId: 'c-kreplay', eventId: id('kr-taken'), marker: `${topics.raw}:1:${taken - 1}`, ttlMs: 3_600_000 }]);
        await produce(event('kr-taken', 'c-kreplay'), 'c-kreplay', 1);
        await produce(event('kr-sentinel', 'c-kreplay'), 'c-kreplay', 1);
        await events.waitFor((e) => e.event_id === id('kr-sentinel'), 'the event after the duplicate');
        expect(events.find((e) => e.event_id === id('kr'))).toHaveLength(1);
        expect(events.find((e) => e.event_id === id('kr-taken'))).toEqual([]);
      } finally {
        await admin.disconnect();
      }
    });

    it('treats an old-format key as a duplicate on both paths', async () => {
      await redis.set(keys.eventSeen(id('old')), 'done:before-upgrade', 'PX', 60_000);
      await produce(event('old', 'c-old-format'), 'c-old-format');
      await produce(event('old-sentinel', 'c-old-format'), 'c-old-format');
      await events.waitFor((e) => e.event_id === id('old-sentinel'), 'the event after the old-format duplicate');
      expect(events.find((e) => e.event_id === id('old'))).toEqual([]);

      const res = await fetch(`http://127.0.0.1:${worker?.httpPort}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `[${event('old', 'c-old-format')}]` });
      expect(await res.json()).toEqual({ accepted: 0, duplicates: 1, rejected: [] } satisfies IngestAnswer);
      // Neither path left a claim of its own for the old-format duplicate.
      const set = await stored('c-old-format');
      expect(set.claims).toEqual([]);
      expect(set.settled.map((e) => e.digest.toString('hex'))).toEqual([hex('old-sentinel')]);
    });
  });
});
