import os from 'node:os';
import { Partitioners } from 'kafkajs';
import { AvroCodec, createKafka, createLogger, createSchemaRegistry, DEFAULT_POLICY_FILE, loadPolicyFile, SchemaFiles, topicNames } from '@tierstream/runtime';
import type { CustomerEventRecord } from '@tierstream/domain';
import { resolveEndpoints } from '../endpoints';
import { overrideRecord, type OverrideRequest } from '../override/override-record';

export interface OverrideOptions {
  readonly until?: string;
  readonly reason: string;
  readonly actor?: string;
  readonly policy?: string;
  readonly namespace?: string;
}

/** Writes the override command to the events topic, keyed by customer: scoring applies it in order with the customer's events. */
async function issue(request: OverrideRequest, options: OverrideOptions): Promise<void> {
  const policy = loadPolicyFile(options.policy ?? process.env['SCORING_POLICY_FILE'] ?? DEFAULT_POLICY_FILE);
  const record = overrideRecord(request, policy, Date.now());
  const { endpoints } = await resolveEndpoints({ start: false });
  const topic = topicNames(options.namespace ?? process.env['TIERSTREAM_NAMESPACE'] ?? '').events;
  const codec = new AvroCodec<CustomerEventRecord>(createSchemaRegistry(endpoints.schemaRegistryUrl), topic, SchemaFiles.customerEvent);
  const producer = createKafka({ clientId: 'tierctl', brokers: endpoints.kafkaBrokers, logger: createLogger({ name: 'tierctl', level: 'warn' }) }).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
  });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [{ key: record.customer_id, value: await codec.encode(record) }] });
  } finally {
    await producer.disconnect();
  }
  const o = record.override;
  const what = o?.action === 'SET' ? `pin ${o.dimension} to ${o.tier ?? ''} until ${new Date(o.until ?? 0).toISOString()}` : `clear the pin on ${o?.dimension ?? ''}`;
  console.log(`${record.event_id}: ${what} for ${record.customer_id} written to ${topic}; scoring emits the transition (cause OVERRIDE), or dead-letters the command with TS_ERR_SCORING_OVERRIDE`);
}

const actorOf = (options: OverrideOptions): string => options.actor ?? process.env['USER'] ?? os.userInfo().username;

export const overrideSet = (customerId: string, dimension: string, tier: string, options: OverrideOptions): Promise<void> =>
  issue({ action: 'SET', customerId, dimension, tier, until: options.until ?? '', reason: options.reason, actor: actorOf(options) }, options);

export const overrideClear = (customerId: string, dimension: string, options: OverrideOptions): Promise<void> =>
  issue({ action: 'CLEAR', customerId, dimension, reason: options.reason, actor: actorOf(options) }, options);
