import { createSchemaRegistry, registerAvroSchema, valueSubject } from '@tierstream/runtime';
import type { IngestAnswer } from '@tierstream/ingest';
import { counterSample, startIngestSuite, type IngestSuite } from '../support/ingest-suite';
import { TcpProxy } from '../support/tcp-proxy';
import { RawRecordDecoder } from '../../services/ingest/src/raw-record';
import { testEndpoints, uniqueName } from '../support/test-stack';

/** Issue 9: hostile input on both ingest paths, on the real stack. */
describe('ingest against hostile input (real stack)', () => {
  let suite: IngestSuite;
  const run = uniqueName('hard');
  const id = (name: string): string => `${run}-${name}`;
  const occurredAt = new Date(Date.now() - 3_600_000).toISOString();

  beforeAll(async () => {
    suite = await startIngestSuite('ingest-hard');
  });

  afterAll(async () => {
    await suite?.close();
  });

  const post = (body: string) => fetch(`${suite.baseUrl}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const requestsCounted = (status: string) => counterSample(suite.baseUrl, 'tierstream_ingest_http_requests_total', { status });

  const good = (name: string) => JSON.stringify({ event_id: id(name), customer_id: `c-${name}`, type: 'order', occurred_at: occurredAt, order_id: 'o', amount: '1.00', currency: 'EUR' });
  /** The reproduction: a rejected event (unknown currency) with 5,000 levels of nesting. */
  const deep = (name: string) =>
    `{"event_id":"${id(name)}","customer_id":"c-${name}","type":"order","occurred_at":"${occurredAt}","order_id":"o","amount":"1.00","currency":"ZZZ","junk":${'['.repeat(5000)}${']'.repeat(5000)}}`;

  describe('an event nested 5,000 levels deep (defect 1)', () => {
    it('over HTTP: the good events of the request are ingested, the deep one rejected and dead-lettered as TS_ERR_INGEST_TOO_DEEP, the answer counted', async () => {
      const before = await requestsCounted('202');
      const res = await post(`[${good('http-before')},${deep('http-deep')},${good('http-after')}]`);
      expect(res.status).toBe(202);
      const answer = (await res.json()) as IngestAnswer;
      expect(answer.accepted).toBe(2);
      expect(answer.rejected).toEqual([
        {
          index: 1,
          event_id: id('http-deep'),
          code: 'TS_ERR_INGEST_TOO_DEEP',
          message: expect.stringMatching(/^the event is nested 5001 levels deep; at most 64 are accepted \(INGEST_MAX_EVENT_DEPTH\)/),
          retriable: false,
        },
      ]);
      await suite.events.waitFor((e) => e.event_id === id('http-before'), 'the event before the deep one');
      await suite.events.waitFor((e) => e.event_id === id('http-after'), 'the event after the deep one');
      const letter = await suite.dlq.waitFor((l) => l.event_id === id('http-deep'), 'the dead letter of the deep event');
      expect(letter.value).toMatchObject({ error_code: 'TS_ERR_INGEST_TOO_DEEP', customer_id: 'c-http-deep', source_topic: null });
      expect(letter.value.original_value?.toString('utf8')).toBe(deep('http-deep'));
      expect(await requestsCounted('202')).toBe(before + 1);
      expect((await fetch(`${suite.baseUrl}/healthz`)).status).toBe(200);
    });

    it('from customer.events.raw: the deep record is dead-lettered as TS_ERR_INGEST_TOO_DEEP with its bytes, and the worker goes on', async () => {
      const at = await suite.produceRaw(deep('raw-deep'), 'k-deep');
      await suite.produceRaw(good('raw-after'), 'k-deep');
      await suite.events.waitFor((e) => e.event_id === id('raw-after'), 'the record after the deep one');
      const letter = await suite.dlq.waitFor((l) => l.source_topic === suite.topics.raw && l.source_partition === at.partition && l.source_offset === at.offset, 'the dead letter of the deep record');
      expect(letter.value).toMatchObject({ error_code: 'TS_ERR_INGEST_TOO_DEEP', event_id: id('raw-deep'), customer_id: 'c-raw-deep' });
      expect(letter.value.error_message).toMatch(/^the event is nested 5001 levels deep; at most 64 are accepted \(INGEST_MAX_EVENT_DEPTH\)/);
      expect(letter.value.original_value?.toString('utf8')).toBe(deep('raw-deep'));
    });
  });

  describe('amounts with an exponent (defect 3)', () => {
    const withAmount = (name: string, amountJson: string) =>
      `{"event_id":"${id(name)}","customer_id":"c-${name}","type":"order","occurred_at":"${occurredAt}","order_id":"o",${amountJson},"currency":"USD"}`;
    const message = (written: string) => `amount: must be a decimal number without an exponent, such as 12.34, got ${written}`;

    it('over HTTP: 1e2, 12.5e-1 and 1e-400 are rejected as TS_ERR_INGEST_INVALID_AMOUNT, 12.50 is 1250 cents', async () => {
      const res = await post(`[${withAmount('exp-1', '"amount": 1e2')},${withAmount('exp-2', '"amount": 12.5e-1')},${withAmount('exp-3', '"amount": 1e-400')},${withAmount('plain', '"amount": 12.50')}]`);
      expect(res.status).toBe(202);
      const answer = (await res.json()) as IngestAnswer;
      expect(answer.accepted).toBe(1);
      expect(answer.rejected.map((r) => [r.index, r.code, r.message])).toEqual([
        [0, 'TS_ERR_INGEST_INVALID_AMOUNT', message('1e2')],
        [1, 'TS_ERR_INGEST_INVALID_AMOUNT', message('12.5e-1')],
        [2, 'TS_ERR_INGEST_INVALID_AMOUNT', message('1e-400')],
      ]);
      const plain = await suite.events.waitFor((e) => e.event_id === id('plain'), 'the plain amount');
      expect(plain.value.order?.amount_minor).toBe(1250);
    });

    it('from customer.events.raw: a record with amount 1e-400 is dead-lettered, not ingested as 0', async () => {
      const at = await suite.produceRaw(withAmount('raw-exp', '"amount": 1e-400'), 'k-exp');
      const letter = await suite.dlq.waitFor((l) => l.source_topic === suite.topics.raw && l.source_partition === at.partition && l.source_offset === at.offset, 'the dead letter of 1e-400');
      expect(letter.value).toMatchObject({ error_code: 'TS_ERR_INGEST_INVALID_AMOUNT', error_message: message('1e-400'), event_id: id('raw-exp') });
      expect(suite.events.find((e) => e.event_id === id('raw-exp'))).toEqual([]);
    });
  });
});

/** Issue 9, outages: the registry goes away from under a running ingest worker (a proxy is cut; the shared registry stays up). */
describe('ingest while the schema registry is unreachable (real stack)', () => {
  let suite: IngestSuite;
  let proxy: TcpProxy;
  const run = uniqueName('outage');
  const occurredAt = new Date(Date.now() - 3_600_000).toISOString();

  beforeAll(async () => {
    const registryUrl = new URL(testEndpoints().schemaRegistryUrl);
    proxy = new TcpProxy(registryUrl.hostname, Number(registryUrl.port));
    await proxy.start();
    suite = await startIngestSuite('ingest-outage', { SCHEMA_REGISTRY_URL: `${registryUrl.protocol}//${proxy.address}${registryUrl.pathname}` });
  });

  afterAll(async () => {
    await proxy?.start().catch(() => undefined);
    await suite?.close();
    await proxy?.stop();
  });

  it('retries an Avro record whose schema it cannot fetch instead of dead-lettering it, keeps serving HTTP, and ingests it once the registry is back', async () => {
    const upstream = {
      type: 'record',
      name: 'Visit',
      namespace: `com.example.${run.replace(/-/g, '_')}`,
      fields: [
        { name: 'event_id', type: 'string' },
        { name: 'customer_id', type: 'string' },
        { name: 'type', type: 'string' },
        { name: 'occurred_at', type: 'string' },
      ],
    };
    await proxy.stop();
    // Registered behind the worker's back: the worker has not cached this schema id.
    const { id: schemaId } = await registerAvroSchema(suite.registry, valueSubject(suite.topics.raw), JSON.stringify(upstream));
    const avro = await suite.registry.encode(schemaId, { event_id: `${run}-avro`, customer_id: 'c-avro', type: 'interaction', occurred_at: occurredAt });
    const avroAt = await suite.produceRaw(avro, 'c-avro', 0);
    const after = JSON.stringify({ event_id: `${run}-after`, customer_id: 'c-after', type: 'interaction', occurred_at: occurredAt });
    await suite.produceRaw(after, 'c-after', 0);

    // The schemas of the outputs were fetched at start: the HTTP path does not need the registry.
    const res = await fetch(`${suite.baseUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ event_id: `${run}-http`, customer_id: 'c-http', type: 'interaction', occurred_at: occurredAt }]),
    });
    expect(res.status).toBe(202);
    await suite.events.waitFor((e) => e.event_id === `${run}-http`, 'the HTTP event during the outage');

    await new Promise((r) => setTimeout(r, 5000));
    expect(suite.dlq.records.filter((l) => l.value.source_partition === 0)).toEqual([]);
    expect(suite.events.find((e) => e.event_id === `${run}-avro` || e.event_id === `${run}-after`)).toEqual([]);
    expect((await fetch(`${suite.baseUrl}/healthz`)).status).toBe(200);

    await proxy.start();
    await suite.events.waitFor((e) => e.event_id === `${run}-avro`, 'the Avro event after the outage', 90_000);
    await suite.events.waitFor((e) => e.event_id === `${run}-after`, 'the record behind it', 30_000);
    expect(suite.events.find((e) => e.event_id === `${run}-avro`)).toHaveLength(1);
    expect(suite.dlq.records.filter((l) => l.value.source_offset === avroAt.offset && l.value.source_partition === 0)).toEqual([]);
  });

  it('a decoder whose registry URL has nothing listening throws a retriable error for an Avro record, never a dead letter', async () => {
    const decoder = new RawRecordDecoder(createSchemaRegistry('http://127.0.0.1:1/apis/ccompat/v7'), 65_536);
    const record = Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), Buffer.from('x')]);
    await expect(decoder.decode(record)).rejects.toMatchObject({ code: 'TS_ERR_SCHEMA_REGISTRY', retriable: true });
  });
});
