import { randomUUID } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import type { CustomerEvent } from '@tierstream/domain';
import { createKafka, createSchemaRegistry, readAvroSchema, SchemaType, valueSubject, type Endpoints, type Logger } from '@tierstream/runtime';
import path from 'node:path';
import { REPO_ROOT } from '../stack/settings';
import { sampleEvents } from './sample-events';

export const EVENTS_TOPIC = 'customer.events.v1';

export interface DemoResult {
  readonly produced: number;
  readonly readBack: CustomerEvent[];
  readonly schemaId: number;
}

/**
 * The foundation demo: encodes sample canonical events with the registered schema,
 * produces them keyed by customer, and reads them back decoded with a fresh group.
 */
export async function produceAndReadBack(endpoints: Endpoints, logger: Logger, count: number, timeoutMs = 60_000): Promise<DemoResult> {
  const registry = createSchemaRegistry(endpoints.schemaRegistryUrl);
  const schemaId = await registry.getRegistryIdBySchema(valueSubject(EVENTS_TOPIC), {
    type: SchemaType.AVRO,
    schema: readAvroSchema(path.join(REPO_ROOT, 'schemas', 'customer-event.avsc')),
  });
  const runTag = randomUUID().slice(0, 8);
  const events = sampleEvents(count, Date.UTC(2026, 0, 1), Number.parseInt(runTag, 16));
  const kafka = createKafka({ clientId: 'tierctl-demo', brokers: endpoints.kafkaBrokers, logger });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const messages = await Promise.all(events.map(async (e) => ({ key: e.customer_id, value: await registry.encode(schemaId, e) })));
    await producer.send({ topic: EVENTS_TOPIC, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
  const wanted = new Set(events.map((e) => e.event_id));
  const readBack: CustomerEvent[] = [];
  const consumer = kafka.consumer({ groupId: `tierctl-demo-${runTag}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: EVENTS_TOPIC, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read back ${readBack.length} of ${count} events in ${timeoutMs} ms`)), timeoutMs);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            if (!message.value) return;
            const event = (await registry.decode(message.value)) as CustomerEvent;
            if (!wanted.delete(event.event_id)) return;
            readBack.push(event);
            if (wanted.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  readBack.sort((a, b) => a.event_time - b.event_time);
  return { produced: events.length, readBack, schemaId };
}
