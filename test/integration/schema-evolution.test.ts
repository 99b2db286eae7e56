import path from 'node:path';
import {
  createSchemaRegistry,
  readAvroSchema,
  registerAvroSchema,
  SchemaType,
  TierstreamError,
  valueSubject,
} from '@tierstream/runtime';
import type { CustomerEvent, CustomerEventRecord, TierChanged } from '@tierstream/domain';
import { testEndpoints, uniqueName } from '../support/test-stack';

/**
 * tier-changed.avsc evolves BACKWARD: consumers on the new schema read every record written
 * with the previous one. The previous version is kept as a fixture (the schema as first
 * released, before the forward-signal fields).
 */
const INITIAL = path.resolve(__dirname, '..', 'fixtures', 'tier-changed.v1-initial.avsc');
const CURRENT = path.resolve(__dirname, '..', '..', 'schemas', 'tier-changed.avsc');
const NEW_FIELDS = ['next_tier', 'next_tier_gaps', 'next_tier_hint', 'tier_lost_at', 'tier_lost_to'];

interface AvroField {
  readonly name: string;
  readonly type: unknown;
  readonly default?: unknown;
}
const fieldsOf = (text: string): AvroField[] => (JSON.parse(text) as { fields: AvroField[] }).fields;

/** A record as producers of the initial schema wrote it: no forward signals. */
const initialRecord: TierChanged = {
  transition_id: 'c-42/value/3',
  customer_id: 'c-42',
  dimension: 'value',
  from_tier: 'mid',
  to_tier: 'high',
  direction: 'UP',
  cause: 'EVENT',
  rule: 'value.high',
  reason: 'value.high: spend_365d >= 300000 (score=64, spend_365d=360000)',
  metrics: { spend_365d: 360_000, score: 64 },
  score: 64,
  policy_id: 'default',
  policy_version: '1',
  tier_version: 3,
  cause_event_id: 'e-1',
  cause_event_time: Date.UTC(2026, 2, 1, 8, 30),
  emitted_at: Date.UTC(2026, 2, 1, 8, 30, 1),
  region: 'CN-SH',
  customer_type: 'B2C',
  industry: null,
  attributes: { city: 'Shanghai' },
};

describe('tier-changed.avsc schema evolution (BACKWARD)', () => {
  const registry = createSchemaRegistry(testEndpoints().schemaRegistryUrl);
  const initial = readAvroSchema(INITIAL);
  const current = readAvroSchema(CURRENT);

  it('only adds optional fields with defaults, after the initial ones, which are unchanged', () => {
    const before = fieldsOf(initial);
    const after = fieldsOf(current);
    expect(after.slice(0, before.length)).toEqual(before);
    const added = after.slice(before.length);
    expect(added.map((f) => f.name)).toEqual(NEW_FIELDS);
    for (const f of added) expect(f).toHaveProperty('default');
  });

  it('registers the initial schema, then the current one as a compatible new version of the same subject', async () => {
    const subject = valueSubject(uniqueName('evolve'));
    const v1 = await registerAvroSchema(registry, subject, initial);
    const v2 = await registerAvroSchema(registry, subject, current);
    expect(v2.id).not.toBe(v1.id);
    const versions = (await (await fetch(`${testEndpoints().schemaRegistryUrl}/subjects/${encodeURIComponent(subject)}/versions`)).json()) as number[];
    expect(versions).toHaveLength(2);
  });

  it('decodes a record written with the initial schema with the current one: the new fields at their defaults', async () => {
    const subject = valueSubject(uniqueName('evolve'));
    const v1 = await registerAvroSchema(registry, subject, initial);
    await registerAvroSchema(registry, subject, current);
    const written = await registry.encode(v1.id, initialRecord);
    expect(written.readUInt32BE(1)).toBe(v1.id); // written with the initial schema
    const read = (await registry.decode(written, { [SchemaType.AVRO]: { readerSchema: JSON.parse(current) as { name: string; type: 'record'; fields: AvroField[] } } })) as TierChanged;
    expect(read).toEqual({ ...initialRecord, next_tier: null, next_tier_gaps: {}, next_tier_hint: null, tier_lost_at: null, tier_lost_to: null });
  });

  it('round-trips forward signals with the current schema', async () => {
    const subject = valueSubject(uniqueName('evolve'));
    const { id } = await registerAvroSchema(registry, subject, current);
    const record: TierChanged = {
      ...initialRecord,
      next_tier: 'vip',
      next_tier_gaps: { spend_365d: 640_000, score: 16 },
      next_tier_hint: 'needs 6400.00 CNY more spend_365d and 16 more score for vip',
      tier_lost_at: Date.UTC(2027, 2, 1),
      tier_lost_to: 'mid',
    };
    expect(await registry.decode(await registry.encode(id, record))).toEqual(record);
  });

  it('would refuse the current schema if a new field had no default (the check is live)', async () => {
    const subject = valueSubject(uniqueName('evolve'));
    await registerAvroSchema(registry, subject, initial);
    const schema = JSON.parse(current) as { fields: AvroField[] };
    const breaking = { ...schema, fields: schema.fields.map((f) => (f.name === 'next_tier_hint' ? { name: f.name, type: 'string' } : f)) };
    const attempt = registerAvroSchema(registry, subject, JSON.stringify(breaking));
    await expect(attempt).rejects.toBeInstanceOf(TierstreamError);
    await expect(attempt).rejects.toMatchObject({ code: 'TS_ERR_SCHEMA_INCOMPATIBLE' });
  });
});

/**
 * customer-event.avsc evolves BACKWARD too: version 2 added the OVERRIDE and CLOCK_TICK
 * command types and the optional `override` record. Scoring on version 2 reads every record
 * ingest wrote with version 1; the reverse is not needed (scoring is upgraded before tierctl
 * writes commands), and is shown not to hold.
 */
describe('customer-event.avsc schema evolution (BACKWARD)', () => {
  const registry = createSchemaRegistry(testEndpoints().schemaRegistryUrl);
  const initial = readAvroSchema(path.resolve(__dirname, '..', 'fixtures', 'customer-event.v1-initial.avsc'));
  const current = readAvroSchema(path.resolve(__dirname, '..', '..', 'schemas', 'customer-event.avsc'));
  const readerOf = (schema: string) => ({ [SchemaType.AVRO]: { readerSchema: JSON.parse(schema) as { name: string; type: 'record'; fields: AvroField[] } } });
  const event: CustomerEvent = {
    event_id: 'e-1', customer_id: 'c-42', type: 'ORDER', event_time: Date.UTC(2026, 2, 1), channel: 'web', region: 'CN-SH', customer_type: 'B2C', industry: null,
    order: { order_id: 'o-1', amount_minor: 12_300, currency: 'CNY', item_count: 2 }, refund: null, interaction: null, feedback: null, attributes: { city: 'Shanghai' },
  };

  it('registers version 1, then the current schema as a compatible new version, and reads version-1 events without an override', async () => {
    const subject = valueSubject(uniqueName('evolve-events'));
    const v1 = await registerAvroSchema(registry, subject, initial);
    const v2 = await registerAvroSchema(registry, subject, current);
    expect(v2.id).not.toBe(v1.id);
    const read = await registry.decode(await registry.encode(v1.id, event), readerOf(current));
    expect(read).toEqual({ ...event, override: null });
  });

  it('round-trips an override command with the current schema; a version-1 reader cannot read one', async () => {
    const subject = valueSubject(uniqueName('evolve-events'));
    await registerAvroSchema(registry, subject, initial);
    const { id } = await registerAvroSchema(registry, subject, current);
    const command: CustomerEventRecord = {
      ...event, event_id: 'override/1', type: 'OVERRIDE', order: null,
      override: { action: 'SET', dimension: 'value', tier: 'vip', until: Date.UTC(2027, 0, 1), reason: 'strategic account', actor: 'alice' },
    };
    const written = await registry.encode(id, command);
    expect(await registry.decode(written)).toEqual(command);
    await expect(registry.decode(written, readerOf(initial))).rejects.toThrow();
  });
});
