import { Partitioners } from 'kafkajs';
import Redis from 'ioredis';
import type { CustomerEvent, CustomerEventRecord, TierChanged } from '@tierstream/domain';
import {
  AvroCodec,
  CustomerStore,
  createSchemaRegistry,
  readAvroSchema,
  registerAvroSchema,
  SchemaFiles,
  startWorker,
  topicNames,
  valueSubject,
  type Endpoints,
  type RunningWorker,
} from '@tierstream/runtime';
import { decodeInput } from '../../services/scoring/src/decode-input';
import { scoringSettingsFromEnv } from '../../services/scoring/src/scoring-settings';
import { ScoringWorker } from '../../services/scoring/src/scoring-worker';
import { endOffsets, sum } from '../../services/cli/src/demo/consumer-lag';
import { orderEvent } from '../support/events';
import { provisionNamespace, workerEnv } from '../support/pipeline';
import { replayPolicyFile } from '../support/policies';
import { TcpProxy } from '../support/tcp-proxy';
import { readUntilIdle, testKafka, waitFor } from '../support/test-stack';

const order = (id: string, customer: string, time: number): CustomerEvent => orderEvent(id, customer, time, 80_000);

/** Issue 9, outages: scoring must retry, never dead-letter, the records it cannot decode for want of a registry. */
describe('scoring while the schema registry is unreachable', () => {
  let ns: string;
  let endpoints: Endpoints;
  let proxy: TcpProxy;
  let worker: RunningWorker | undefined;
  let redis: Redis;
  const kafka = testKafka();

  beforeAll(async () => {
    ({ namespace: ns, endpoints } = await provisionNamespace('scoreout', 1));
    redis = new Redis(endpoints.redisUrl);
    const registryUrl = new URL(endpoints.schemaRegistryUrl);
    proxy = new TcpProxy(registryUrl.hostname, Number(registryUrl.port));
    await proxy.start();
  });
  afterAll(async () => {
    await proxy?.start().catch(() => undefined);
    await worker?.close();
    await proxy?.stop();
    redis.disconnect();
  });

  it('a decode whose registry has nothing listening throws a retriable TS_ERR_SCHEMA_REGISTRY; bytes the registry cannot explain are a dead letter', async () => {
    const record = Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), Buffer.from('x')]);
    const unreachable = new AvroCodec<CustomerEventRecord>(createSchemaRegistry('http://127.0.0.1:1/apis/ccompat/v7'), topicNames(ns).events, SchemaFiles.customerEvent);
    await expect(decodeInput(unreachable, 0, 7, record)).rejects.toMatchObject({ code: 'TS_ERR_SCHEMA_REGISTRY', retriable: true, context: { partition: 0, offset: 7 } });
    const reachable = new AvroCodec<CustomerEventRecord>(createSchemaRegistry(endpoints.schemaRegistryUrl), topicNames(ns).events, SchemaFiles.customerEvent);
    await expect(decodeInput(reachable, 0, 7, Buffer.from('not avro'))).resolves.toEqual(expect.any(String));
    await expect(decodeInput(reachable, 0, 7, null)).resolves.toBe('empty value');
  });

  it('holds an event it cannot decode during the outage, without a dead letter, and scores it once the registry is back', async () => {
    const settings = scoringSettingsFromEnv({ SCORING_POLICY_FILE: replayPolicyFile(), SCORING_CONCURRENCY: '1' });
    const registryUrl = new URL(endpoints.schemaRegistryUrl);
    worker = await startWorker('scoring', workerEnv(ns, endpoints, { SCHEMA_REGISTRY_URL: `${registryUrl.protocol}//${proxy.address}${registryUrl.pathname}` }), (ctx) => new ScoringWorker(ctx, settings));
    const registry = createSchemaRegistry(endpoints.schemaRegistryUrl);
    const events = topicNames(ns).events;
    const codec = new AvroCodec<CustomerEvent>(registry, events, SchemaFiles.customerEvent);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    const admin = kafka.admin();
    await Promise.all([producer.connect(), admin.connect()]);
    // The DLQ's end offset: dead letters are written in transactions, so it counts their markers too.
    const dlqEnd = async () => sum(await endOffsets(admin, topicNames(ns).eventsDlq));
    const store = new CustomerStore(redis, ns);
    try {
      // A running worker: it has decoded an event, emitted transitions and dead-lettered
      // bytes without framing, so every schema it uses is in its cache.
      await producer.send({ topic: events, acks: -1, messages: [{ key: 'wanda', value: await codec.encode(order('w1', 'wanda', Date.UTC(2025, 5, 1))) }, { key: 'x', value: Buffer.from('no framing') }] });
      await waitFor(async () => ((await store.get('wanda')).record && (await dlqEnd()) > 0 ? true : undefined), 60_000, 'wanda scored and the unframed record dead-lettered');
      const dlqBefore = await dlqEnd();

      await proxy.stop();
      // An upstream change the worker has not seen: a compatible new version of the schema.
      const source = JSON.parse(readAvroSchema(SchemaFiles.customerEvent)) as { fields: unknown[] };
      const newer = { ...source, fields: [...source.fields, { name: 'test_note', type: ['null', 'string'], default: null }] };
      const { id } = await registerAvroSchema(registry, valueSubject(events), JSON.stringify(newer));
      await producer.send({ topic: events, acks: -1, messages: [{ key: 'olga', value: await registry.encode(id, { ...order('o1', 'olga', Date.UTC(2025, 5, 2)), test_note: null }) }] });

      await new Promise((r) => setTimeout(r, 8000));
      expect(await dlqEnd()).toBe(dlqBefore);
      expect((await store.get('olga')).record).toBeUndefined();

      await proxy.start();
      await waitFor(async () => ((await store.get('olga')).record?.state.tiers['value'] ? true : undefined), 120_000, 'olga scored after the outage');
      expect(await dlqEnd()).toBe(dlqBefore);
      const transitions = await Promise.all((await readUntilIdle(kafka, topicNames(ns).tierChanged, 2000)).map(async (m) => (await registry.decode(m.value as Buffer)) as TierChanged));
      const ids = transitions.map((t) => t.transition_id);
      expect(ids).toContain('olga/value/1');
      expect(new Set(ids).size).toBe(ids.length);
    } finally {
      await Promise.all([producer.disconnect(), admin.disconnect()]);
    }
  });
});
