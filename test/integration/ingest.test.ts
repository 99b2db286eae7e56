import { Partitioners, type IHeaders, type Kafka, type Producer } from 'kafkajs';
import {
  createKafka,
  createRedis,
  createSchemaRegistry,
  RedisKeys,
  registerAvroSchema,
  startWorker,
  topicNames,
  valueSubject,
  type DeadLetter,
  type Redis,
  type RunningWorker,
  type SchemaRegistry,
  type TopicNames,
} from '@tierstream/runtime';
import type { CustomerEvent } from '@tierstream/domain';
import { decodeSeen, eventDigest, IngestWorker, ingestConfigFromEnv, type IngestAnswer } from '@tierstream/ingest';
import { provisionNamespace, workerEnv } from '../support/pipeline';
import { TopicCollector } from '../support/topic-collector';
import { quietLogger, uniqueName } from '../support/test-stack';

const HORIZON_HOURS = 168;

describe('ingest worker against the real stack', () => {
  let topics: TopicNames;
  let worker: RunningWorker;
  let kafka: Kafka;
  let registry: SchemaRegistry;
  let redis: Redis;
  let keys: RedisKeys;
  let producer: Producer;
  let events: TopicCollector<CustomerEvent>;
  let dlq: TopicCollector<DeadLetter>;
  let baseUrl: string;
  const run = uniqueName('run');
  const id = (name: string): string => `${run}-${name}`;

  beforeAll(async () => {
    const { namespace, endpoints } = await provisionNamespace('ingest');
    topics = topicNames(namespace);
    keys = new RedisKeys(namespace);
    const env = workerEnv(namespace, endpoints, { INGEST_MAX_EVENT_BYTES: '4096', INGEST_MAX_BODY_BYTES: '65536', INGEST_MAX_EVENTS: '50' });
    worker = await startWorker('ingest', env, (ctx) => new IngestWorker(ctx, ingestConfigFromEnv(env, ctx.config.namespace)));
    baseUrl = `http://127.0.0.1:${worker.httpPort}`;
    kafka = createKafka({ clientId: uniqueName('ingest-test'), brokers: endpoints.kafkaBrokers, logger: quietLogger() });
    registry = createSchemaRegistry(endpoints.schemaRegistryUrl);
    redis = createRedis(endpoints.redisUrl, quietLogger());
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    events = new TopicCollector<CustomerEvent>(kafka, topics.events, registry);
    dlq = new TopicCollector<DeadLetter>(kafka, topics.eventsDlq, registry);
    await Promise.all([events.start(), dlq.start()]);
  });

  afterAll(async () => {
    await worker?.close();
    await Promise.all([events?.stop(), dlq?.stop(), producer?.disconnect()]);
    redis?.disconnect();
  });

  /** Produces one raw record and returns where it landed. */
  async function produceRaw(value: Buffer | string | null, key: string, options: { partition?: number; headers?: IHeaders } = {}): Promise<{ partition: number; offset: number }> {
    const [meta] = await producer.send({
      topic: topics.raw,
      acks: -1,
      messages: [{ key, value, ...(options.headers ? { headers: options.headers } : {}), ...(options.partition === undefined ? {} : { partition: options.partition }) }],
    });
    if (!meta) throw new Error('no record metadata');
    return { partition: meta.partition, offset: Number(meta.baseOffset) };
  }

  const now = Date.now();
  const isoMinutesAgo = (minutes: number): string => new Date(now - minutes * 60_000).toISOString();

  describe('from customer.events.raw', () => {
    it('turns a valid JSON record into the canonical Avro event, keyed by customer_id', async () => {
      const occurred = new Date(now - 3_600_000);
      const local = new Date(occurred.getTime() + 8 * 3_600_000).toISOString().slice(0, 19);
      const raw = {
        event_id: ` ${id('json')} `,
        customer_id: 'c-json',
        type: 'ORDER',
        occurred_at: `${local}+08:00`,
        amount: '1299.50',
        currency: 'cny',
        order_id: 'o-1',
        item_count: 3,
        channel: 'app',
        region: 'CN-SH',
        customer_type: 'b2c',
        attributes: { coupon: 'SPRING' },
      };
      await produceRaw(JSON.stringify(raw), 'c-json');
      const got = await events.waitFor((e) => e.event_id === id('json'), 'the canonical JSON event');
      expect(got.key).toBe('c-json');
      expect(got.value).toEqual({
        event_id: id('json'),
        customer_id: 'c-json',
        type: 'ORDER',
        event_time: Math.floor(occurred.getTime() / 1000) * 1000,
        channel: 'app',
        region: 'CN-SH',
        customer_type: 'B2C',
        industry: null,
        order: { order_id: 'o-1', amount_minor: 129_950, currency: 'CNY', item_count: 3 },
        refund: null,
        interaction: null,
        feedback: null,
        attributes: { coupon: 'SPRING' },
        override: null, // written with the current schema: commands only set it
      });
      // Confluent wire format with the id registered for <ns>customer.events.v1-value.
      const registered = await registry.getLatestSchemaId(valueSubject(topics.events));
      expect(got.raw.readUInt8(0)).toBe(0);
      expect(got.raw.readUInt32BE(1)).toBe(registered);
    });

    it('decodes an Avro record written with a registered upstream schema and normalises it like JSON', async () => {
      const upstream = {
        type: 'record',
        name: 'PosSale',
        namespace: 'com.example.pos',
        fields: [
          { name: 'event_id', type: 'string' },
          { name: 'customer_id', type: 'string' },
          { name: 'type', type: 'string' },
          { name: 'occurred_at', type: 'long' },
          { name: 'order_id', type: 'string' },
          { name: 'amount', type: 'string' },
          { name: 'currency', type: 'string' },
          { name: 'region', type: ['null', 'string'], default: null },
        ],
      };
      const { id: schemaId } = await registerAvroSchema(registry, valueSubject(topics.raw), JSON.stringify(upstream));
      const occurred = now - 7_200_000;
      const value = await registry.encode(schemaId, {
        event_id: id('avro'),
        customer_id: 'c-avro',
        type: 'order',
        occurred_at: occurred,
        order_id: 'o-avro',
        amount: '1500',
        currency: 'JPY',
        region: 'JP-13',
      });
      await produceRaw(value, 'c-avro');
      const got = await events.waitFor((e) => e.event_id === id('avro'), 'the canonical Avro event');
      expect(got.key).toBe('c-avro');
      expect(got.value).toMatchObject({
        customer_id: 'c-avro',
        type: 'ORDER',
        event_time: occurred,
        region: 'JP-13',
        order: { order_id: 'o-avro', amount_minor: 1500, currency: 'JPY', item_count: 1 },
      });
    });

    it('dead-letters every bad record with its reason code, original bytes, key, headers and coordinates, and keeps going', async () => {
      const order = (name: string, changes: Record<string, unknown>) =>
        JSON.stringify({ event_id: id(name), customer_id: `c-${name}`, type: 'order', occurred_at: isoMinutesAgo(5), order_id: 'o', amount: '10.00', currency: 'USD', ...changes });
      const unknownSchema = Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0]), Buffer.from('x')]);
      const cases: { name: string; value: Buffer | string | null; code: string; message: RegExp; eventId: string | null }[] = [
        { name: 'malformed', value: '{"event_id": "x", oops', code: 'TS_ERR_INGEST_NOT_JSON', message: /^the record is not valid JSON: /, eventId: null },
        { name: 'not-object', value: '[1, 2]', code: 'TS_ERR_INGEST_NOT_OBJECT', message: /^an event must be a JSON object, got array$/, eventId: null },
        { name: 'wrong-types', value: order('wrong-types', { amount: true, item_count: 'two' }), code: 'TS_ERR_INGEST_INVALID_FIELD', message: /^amount: must be a decimal string or a number, got boolean; item_count: /, eventId: id('wrong-types') },
        { name: 'negative', value: order('negative', { amount: '-10.00' }), code: 'TS_ERR_INGEST_NEGATIVE_AMOUNT', message: /^amount: must not be negative, got -10\.00$/, eventId: id('negative') },
        { name: 'absurd', value: order('absurd', { amount_minor: 10 ** 15, amount: undefined }), code: 'TS_ERR_INGEST_AMOUNT_TOO_LARGE', message: /above the cap of 1000000000000$/, eventId: id('absurd') },
        { name: 'currency', value: order('currency', { currency: 'xyz' }), code: 'TS_ERR_INGEST_UNKNOWN_CURRENCY', message: /^currency: 'XYZ' is not an ISO-4217 currency/, eventId: id('currency') },
        { name: 'missing-ids', value: order('missing-ids', { event_id: '  ', customer_id: undefined }), code: 'TS_ERR_INGEST_MISSING_FIELD', message: /^event_id: must not be blank; customer_id: is required$/, eventId: null },
        { name: 'future', value: order('future', { occurred_at: now + 3 * 86_400_000 }), code: 'TS_ERR_INGEST_EVENT_TIME_OUT_OF_RANGE', message: /is more than 1 day ahead of the ingest clock/, eventId: id('future') },
        { name: 'oversize', value: order('oversize', { attributes: { blob: 'x'.repeat(5000) } }), code: 'TS_ERR_INGEST_TOO_LARGE', message: /^the record is \d+ bytes; the limit is 4096 \(INGEST_MAX_EVENT_BYTES\)$/, eventId: null },
        { name: 'tombstone', value: null, code: 'TS_ERR_INGEST_EMPTY_RECORD', message: /^the record has no value \(null\)$/, eventId: null },
        { name: 'unknown-schema', value: unknownSchema, code: 'TS_ERR_INGEST_AVRO_DECODE', message: /^schema id 2147483632 is not known to the registry$/, eventId: null },
      ];
      const placed = [];
      for (const c of cases) placed.push({ ...c, at: await produceRaw(c.value, `k-${c.name}`, { headers: { source: `pos-${c.name}` } }) });
      // A good record after them on one of their partitions: the worker did not stop.
      await produceRaw(order('after-bad', {}), 'k-malformed');
      await events.waitFor((e) => e.event_id === id('after-bad'), 'the good record after the bad ones');

      for (const c of placed) {
        const letter = await dlq.waitFor((l) => l.source_partition === c.at.partition && l.source_offset === c.at.offset, `the dead letter of ${c.name}`);
        expect(letter.value).toMatchObject({
          error_code: c.code,
          source_topic: topics.raw,
          source_partition: c.at.partition,
          source_offset: c.at.offset,
          worker: 'ingest',
          event_id: c.eventId,
          original_headers: { source: Buffer.from(`pos-${c.name}`) },
        });
        expect(letter.value.error_message).toMatch(c.message);
        expect(letter.value.original_key).toEqual(Buffer.from(`k-${c.name}`));
        expect(letter.value.original_value).toEqual(c.value === null ? null : Buffer.from(c.value));
        if (c.eventId) expect(events.find((e) => e.event_id === c.eventId)).toEqual([]);
      }
    });

    it('produces a duplicate event id once and does not dead-letter it', async () => {
      const first = { event_id: id('dup'), customer_id: 'c-dup', type: 'order', occurred_at: isoMinutesAgo(10), order_id: 'o', amount: '1.00', currency: 'EUR' };
      await produceRaw(JSON.stringify(first), 'c-dup');
      await produceRaw(JSON.stringify({ ...first, amount: '2.00' }), 'c-dup');
      await produceRaw(JSON.stringify({ ...first, event_id: id('dup-sentinel') }), 'c-dup');
      await events.waitFor((e) => e.event_id === id('dup-sentinel'), 'the event after the duplicate');
      const copies = events.find((e) => e.event_id === id('dup'));
      expect(copies).toHaveLength(1);
      expect(copies[0]?.value.order?.amount_minor).toBe(100);
      expect(dlq.find((l) => l.event_id === id('dup'))).toEqual([]);
      const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
      expect(metrics).toMatch(/tierstream_ingest_duplicates_total\{[^}]*source="kafka"[^}]*\} [1-9]/);
    });

    it("produces again when the marker is the record's own coordinates (a replay after a crash before the commit), and drops it for other coordinates", async () => {
      const admin = kafka.admin();
      await admin.connect();
      const next = async (partition: number): Promise<number> => Number((await admin.fetchTopicOffsets(topics.raw)).find((p) => p.partition === partition)?.high ?? NaN);
      try {
        const partition = 1;
        const replay = { event_id: id('replay'), customer_id: 'c-replay', type: 'interaction', occurred_at: isoMinutesAgo(1), interaction_kind: 'visit' };
        const offset = await next(partition);
        await redis.set(keys.eventSeen(id('replay')), `${topics.raw}:${partition}:${offset}`, 'PX', 60_000);
        await produceRaw(JSON.stringify(replay), 'c-replay', { partition });
        await events.waitFor((e) => e.event_id === id('replay'), 'the replayed event');

        const seen = { ...replay, event_id: id('seen-elsewhere') };
        const seenOffset = await next(partition);
        await redis.set(keys.eventSeen(id('seen-elsewhere')), `${topics.raw}:${partition}:${seenOffset - 1}`, 'PX', 60_000);
        await produceRaw(JSON.stringify(seen), 'c-replay', { partition });
        await produceRaw(JSON.stringify({ ...replay, event_id: id('replay-sentinel') }), 'c-replay', { partition });
        await events.waitFor((e) => e.event_id === id('replay-sentinel'), 'the event after the duplicate');
        expect(events.find((e) => e.event_id === id('seen-elsewhere'))).toEqual([]);
        expect(events.find((e) => e.event_id === id('replay'))).toHaveLength(1);
      } finally {
        await admin.disconnect();
      }
    });

    it('waits for an HTTP request holding the event id and then drops the record as a duplicate', async () => {
      const key = keys.eventSeen(id('held'));
      await redis.set(key, 'pending:other-request', 'PX', 30_000);
      await produceRaw(JSON.stringify({ event_id: id('held'), customer_id: 'c-held', type: 'feedback', occurred_at: isoMinutesAgo(1), feedback_kind: 'complaint' }), 'c-held');
      await new Promise((r) => setTimeout(r, 1500));
      expect(events.find((e) => e.event_id === id('held'))).toEqual([]);
      await redis.set(key, 'done:other-request', 'PX', 60_000);
      await produceRaw(JSON.stringify({ event_id: id('held-sentinel'), customer_id: 'c-held', type: 'feedback', occurred_at: isoMinutesAgo(1), feedback_kind: 'complaint' }), 'c-held');
      await events.waitFor((e) => e.event_id === id('held-sentinel'), 'the event after the held one');
      expect(events.find((e) => e.event_id === id('held'))).toEqual([]);
    });
  });

  describe('POST /v1/events', () => {
    const post = (body: string | Buffer, contentType: string | null = 'application/json') =>
      fetch(`${baseUrl}/v1/events`, { method: 'POST', headers: contentType === null ? {} : { 'content-type': contentType }, body });

    const good = (name: string) => ({ event_id: id(name), customer_id: `c-${name}`, type: 'refund', occurred_at: isoMinutesAgo(30), order_id: 'o-7', amount: 12.5, currency: 'usd' });

    it('answers 202 after the accepted events are on the topic, listing each rejected one, and dead-letters those', async () => {
      const bad = { event_id: id('http-bad'), customer_id: 'c-http-bad', type: 'order', occurred_at: isoMinutesAgo(1), order_id: 'o', amount: '-3', currency: 'USD' };
      const res = await post(JSON.stringify([good('http-1'), bad, good('http-2'), 'not an event']));
      expect(res.status).toBe(202);
      const answer = (await res.json()) as IngestAnswer;
      expect(answer).toEqual({
        accepted: 2,
        duplicates: 0,
        rejected: [
          { index: 1, event_id: id('http-bad'), code: 'TS_ERR_INGEST_NEGATIVE_AMOUNT', message: 'amount: must not be negative, got -3', retriable: false },
          { index: 3, code: 'TS_ERR_INGEST_NOT_OBJECT', message: 'an event must be a JSON object, got string', retriable: false },
        ],
      });
      const refund = await events.waitFor((e) => e.event_id === id('http-1'), 'the first accepted HTTP event');
      expect(refund.key).toBe('c-http-1');
      expect(refund.value.refund).toEqual({ order_id: 'o-7', amount_minor: 1250, currency: 'USD' });
      await events.waitFor((e) => e.event_id === id('http-2'), 'the second accepted HTTP event');

      const letter = await dlq.waitFor((l) => l.event_id === id('http-bad'), 'the dead letter of the bad HTTP event');
      expect(letter.value).toMatchObject({ error_code: 'TS_ERR_INGEST_NEGATIVE_AMOUNT', source_topic: null, source_partition: null, source_offset: null, original_key: null });
      expect(JSON.parse(letter.value.original_value?.toString('utf8') ?? 'null')).toEqual(bad);
      const notObject = await dlq.waitFor((l) => l.error_code === 'TS_ERR_INGEST_NOT_OBJECT' && l.source_topic === null, 'the dead letter of the string element');
      expect(notObject.value.original_value?.toString('utf8')).toBe('"not an event"');

      // The claim is settled for the dedupe horizon once Kafka acknowledged.
      const remembered = decodeSeen((await redis.getBuffer(keys.customerSeen('c-http-1'))) ?? Buffer.alloc(0));
      expect(remembered.settled.map((e) => e.digest.toString('hex'))).toContain(eventDigest(id('http-1')).toString('hex'));
      expect(remembered.claims).toEqual([]);
      expect(await redis.pttl(keys.customerSeen('c-http-1'))).toBeGreaterThan((HORIZON_HOURS - 1) * 3_600_000);
    });

    it('counts a resent request and a repeated id in one body as duplicates, produced once', async () => {
      const first = await post(JSON.stringify([good('again')]));
      expect(((await first.json()) as IngestAnswer).accepted).toBe(1);
      const resent = await post(JSON.stringify([good('again'), good('twice'), { ...good('twice'), amount: 99 }]));
      expect(resent.status).toBe(202);
      expect(await resent.json()).toEqual({ accepted: 1, duplicates: 2, rejected: [] });
      await events.waitFor((e) => e.event_id === id('twice'), 'the event sent twice in one body');
      await produceRaw(JSON.stringify(good('again')), 'c-again');
      await produceRaw(JSON.stringify(good('again-sentinel')), 'c-again');
      await events.waitFor((e) => e.event_id === id('again-sentinel'), 'the raw record after the HTTP duplicate');
      expect(events.find((e) => e.event_id === id('again'))).toHaveLength(1);
      expect(events.find((e) => e.event_id === id('twice'))).toHaveLength(1);
      expect(events.find((e) => e.event_id === id('twice'))[0]?.value.refund?.amount_minor).toBe(1250);
    });

    it('reports an event another request is producing as a retriable error, without dead-lettering it', async () => {
      await redis.set(keys.eventSeen(id('in-flight')), 'pending:another-request', 'PX', 30_000);
      const witness = { ...good('witness'), amount: 'ten' };
      const res = await post(JSON.stringify([good('in-flight'), witness]));
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({
        accepted: 0,
        duplicates: 0,
        rejected: [
          {
            index: 0,
            event_id: id('in-flight'),
            code: 'TS_ERR_INGEST_DUPLICATE_IN_FLIGHT',
            message: `event ${id('in-flight')} is being ingested by another request; send it again shortly`,
            retriable: true,
          },
          { index: 1, event_id: id('witness'), code: 'TS_ERR_INGEST_INVALID_AMOUNT', message: 'amount: must be a decimal number such as "12.34", got "ten"', retriable: false },
        ],
      });
      // The witness went to the DLQ in the same publish: the in-flight event would be there too.
      await dlq.waitFor((l) => l.event_id === id('witness'), 'the dead letter of the witness');
      expect(dlq.find((l) => l.event_id === id('in-flight'))).toEqual([]);
      expect(await redis.get(keys.eventSeen(id('in-flight')))).toBe('pending:another-request');
    });

    it.each([
      ['malformed JSON', '[{"event_id": ', 'application/json', 400, 'TS_ERR_INGEST_MALFORMED_BODY', /^the body is not valid JSON: /],
      ['an object instead of an array', '{"event_id":"e"}', 'application/json', 400, 'TS_ERR_INGEST_MALFORMED_BODY', /^the body must be a JSON array of events, got object \(wrap a single event in \[ \]\)$/],
      ['an empty body', '', 'application/json', 400, 'TS_ERR_INGEST_MALFORMED_BODY', /^the body is empty; send a JSON array of events$/],
      ['text/plain', '[]', 'text/plain', 415, 'TS_ERR_INGEST_UNSUPPORTED_MEDIA_TYPE', /^Content-Type must be application\/json, got 'text\/plain'$/],
      ['a latin1 charset', '[]', 'application/json; charset=iso-8859-1', 415, 'TS_ERR_INGEST_UNSUPPORTED_MEDIA_TYPE', /^the charset must be utf-8, got 'iso-8859-1'$/],
      ['51 events', JSON.stringify(Array.from({ length: 51 }, () => ({}))), 'application/json', 413, 'TS_ERR_INGEST_TOO_MANY_EVENTS', /^the body holds 51 events; at most 50 are accepted per request \(INGEST_MAX_EVENTS\)$/],
      ['a body over the limit', JSON.stringify([{ blob: 'x'.repeat(70_000) }]), 'application/json', 413, 'TS_ERR_INGEST_BODY_TOO_LARGE', /^the body is 70013 bytes; the limit is 65536 \(INGEST_MAX_BODY_BYTES\)$/],
    ])('refuses %s', async (_what, body, contentType, status, code, message) => {
      const res = await post(body, contentType);
      expect(res.status).toBe(status);
      const answer = (await res.json()) as { error: { code: string; message: string } };
      expect(answer.error.code).toBe(code);
      expect(answer.error.message).toMatch(message);
    });

    it('refuses a request without a Content-Type as 415 and other methods as 405', async () => {
      const none = await post('[]', null);
      expect(none.status).toBe(415);
      const get = await fetch(`${baseUrl}/v1/events`);
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
      expect(((await get.json()) as { error: { code: string } }).error.code).toBe('TS_ERR_INGEST_METHOD_NOT_ALLOWED');
    });
  });

  describe('operations', () => {
    it('serves /healthz, /readyz and /metrics with the ingest counters', async () => {
      expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
      const ready = await fetch(`${baseUrl}/readyz`);
      expect(ready.status).toBe(200);
      const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
      expect(metrics).toContain('tierstream_events_in_total');
      expect(metrics).toMatch(new RegExp(`tierstream_events_in_total\\{[^}]*topic="${topics.raw.replace(/\./g, '\\.')}"[^}]*\\} [1-9]`));
      expect(metrics).toMatch(/tierstream_events_in_total\{[^}]*topic="http"[^}]*\} [1-9]/);
      expect(metrics).toMatch(new RegExp(`tierstream_events_out_total\\{[^}]*topic="${topics.events.replace(/\./g, '\\.')}"[^}]*\\} [1-9]`));
      expect(metrics).toMatch(/tierstream_dead_letters_total\{[^}]*reason="TS_ERR_INGEST_NOT_JSON"[^}]*\} [1-9]/);
      expect(metrics).toMatch(/tierstream_ingest_rejected_total\{[^}]*reason="TS_ERR_INGEST_DUPLICATE_IN_FLIGHT"[^}]*\} 1/);
    });
  });
});
