import fs from 'node:fs';
import path from 'node:path';
import { Partitioners } from 'kafkajs';
import {
  createSchemaRegistry,
  readAvroSchema,
  registerAvroSchema,
  TierstreamError,
  valueSubject,
} from '@tierstream/runtime';
import type { CustomerEvent, TierChanged } from '@tierstream/domain';
import { tierChange } from '../../services/notifier/src/testing/fixtures';
import { createTestTopic, readMessages, testEndpoints, testKafka, uniqueName } from '../support/test-stack';

const SCHEMAS = path.resolve(__dirname, '..', '..', 'schemas');

const customerEvent: CustomerEvent = {
  event_id: 'e-1',
  customer_id: 'c-42',
  type: 'ORDER',
  event_time: Date.UTC(2026, 2, 1, 8, 30),
  channel: 'app',
  region: 'CN-SH',
  customer_type: 'B2C',
  industry: null,
  order: { order_id: 'o-9', amount_minor: 129_900, currency: 'CNY', item_count: 2 },
  refund: null,
  interaction: null,
  feedback: null,
  attributes: { coupon: 'SPRING' },
};

// The notifier's fixture: one valid tier change, forward signals included.
const tierChanged: TierChanged = tierChange();

const deadLetter = {
  error_code: 'TS_ERR_INGEST_NOT_JSON',
  error_message: 'not JSON: Unexpected token',
  original_value: Buffer.from('{not json'),
  original_key: Buffer.from('c-42'),
  original_headers: { source: Buffer.from('pos') },
  source_topic: 'customer.events.raw',
  source_partition: 3,
  source_offset: 1234,
  worker: 'ingest',
  event_id: null,
  customer_id: 'c-42',
  failed_at: Date.UTC(2026, 2, 1),
};

describe('Avro contracts through Kafka and the schema registry', () => {
  const registry = createSchemaRegistry(testEndpoints().schemaRegistryUrl);
  const kafka = testKafka();

  it.each([
    // A customer event comes back with `override` at its default: only commands set it.
    ['customer-event.avsc', customerEvent as unknown, { ...customerEvent, override: null } as unknown],
    ['tier-changed.avsc', tierChanged as unknown, tierChanged as unknown],
    ['dead-letter.avsc', deadLetter as unknown, deadLetter as unknown],
  ])('%s round-trips a record through a topic and the registry', async (file, record, expected) => {
    const topic = uniqueName('rt');
    await createTestTopic(kafka, topic);
    const { id } = await registerAvroSchema(registry, valueSubject(topic), readAvroSchema(path.join(SCHEMAS, file)));
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'c-42', value: await registry.encode(id, record) }] });
    await producer.disconnect();

    const [message] = await readMessages(kafka, topic, 1);
    const value = message?.value;
    expect(value?.readUInt8(0)).toBe(0); // Confluent wire format: magic byte, then the schema id
    expect(value?.readUInt32BE(1)).toBe(id);
    expect(await registry.decode(value as Buffer)).toEqual(expected);
  });

  it('registers the project schemas idempotently: the same subject and id twice', async () => {
    const subject = valueSubject(uniqueName('idem'));
    const text = readAvroSchema(path.join(SCHEMAS, 'customer-event.avsc'));
    const first = await registerAvroSchema(registry, subject, text);
    const second = await registerAvroSchema(registry, subject, text);
    expect(second.id).toBe(first.id);
  });

  const base = { type: 'record', name: 'Probe', namespace: 'dev.tierstream.test', fields: [{ name: 'customer_id', type: 'string' }] };

  it('accepts a backward-compatible change (a new field with a default) as a new version', async () => {
    const subject = valueSubject(uniqueName('compat'));
    const v1 = await registerAvroSchema(registry, subject, JSON.stringify(base));
    const evolved = { ...base, fields: [...base.fields, { name: 'region', type: ['null', 'string'], default: null }] };
    const v2 = await registerAvroSchema(registry, subject, JSON.stringify(evolved));
    expect(v2.id).not.toBe(v1.id);
    // A reader on v2 decodes data written with v1.
    const old = await registry.encode(v1.id, { customer_id: 'c-1' });
    expect(await registry.decode(old)).toEqual({ customer_id: 'c-1' });
  });

  it('refuses an incompatible change (a new required field) with the registry reason', async () => {
    const subject = valueSubject(uniqueName('incompat'));
    await registerAvroSchema(registry, subject, JSON.stringify(base));
    const breaking = { ...base, fields: [...base.fields, { name: 'tier', type: 'string' }] };
    const attempt = registerAvroSchema(registry, subject, JSON.stringify(breaking));
    await expect(attempt).rejects.toBeInstanceOf(TierstreamError);
    await expect(attempt).rejects.toMatchObject({ code: 'TS_ERR_SCHEMA_INCOMPATIBLE', context: { subject } });
    // The registry's own words name the offending field.
    await expect(attempt).rejects.toThrow(/tier/);
  });

  it('every schema in schemas/ is used by a declared topic', () => {
    const declared = fs.readFileSync(path.resolve(SCHEMAS, '..', 'infra', 'topics.yaml'), 'utf8');
    for (const file of fs.readdirSync(SCHEMAS).filter((f) => f.endsWith('.avsc'))) expect(declared).toContain(`schemas/${file}`);
  });
});
