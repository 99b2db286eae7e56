import { randomUUID } from 'node:crypto';
import { createKafka, createLogger, endpointsFromEnv, type Endpoints, type Logger } from '@tierstream/runtime';
import type { Kafka } from 'kafkajs';

/** The endpoints global setup chose; every integration suite starts here. */
export function testEndpoints(): Endpoints {
  const endpoints = endpointsFromEnv(process.env);
  if (!endpoints) throw new Error('integration tests need the global setup (jest --selectProjects integration)');
  return endpoints;
}

export const testBackend = (): string => process.env['TIERSTREAM_TEST_BACKEND'] ?? 'env';

/** A name no other suite or run uses: topics, groups, subjects, key prefixes. */
export const uniqueName = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 12)}`;

export const quietLogger = (): Logger => createLogger({ name: 'test', level: process.env['TEST_LOG_LEVEL'] ?? 'fatal' });

export function testKafka(clientId = uniqueName('test')): Kafka {
  return createKafka({ clientId, brokers: testEndpoints().kafkaBrokers, logger: quietLogger() });
}

export async function createTestTopic(kafka: Kafka, topic: string, partitions = 1): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }] });
  } finally {
    await admin.disconnect();
  }
}

/** Polls `check` until it returns a value or the timeout passes. */
export async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Reads a topic from the beginning with a fresh group until `count` messages arrived. */
export async function readMessages(
  kafka: Kafka,
  topic: string,
  count: number,
  options: { readUncommitted?: boolean; timeoutMs?: number } = {},
): Promise<{ key: string | null; value: Buffer | null; partition: number; offset: string }[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('read'), readUncommitted: options.readUncommitted ?? false });
  const got: { key: string | null; value: Buffer | null; partition: number; offset: string }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        got.push({ key: message.key?.toString('utf8') ?? null, value: message.value, partition, offset: message.offset });
      },
    });
    await waitFor(() => (got.length >= count ? true : undefined), options.timeoutMs ?? 30_000, `${count} messages on ${topic}`);
    return got;
  } finally {
    await consumer.disconnect();
  }
}

/** Reads a topic from the beginning (read_committed) until no new record arrived for `idleMs`. */
export async function readUntilIdle(kafka: Kafka, topic: string, idleMs = 3000, timeoutMs = 120_000): Promise<{ key: string | null; value: Buffer | null }[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('drain'), maxWaitTimeInMs: 200 });
  const got: { key: string | null; value: Buffer | null }[] = [];
  let lastArrival = Date.now();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        got.push({ key: message.key?.toString('utf8') ?? null, value: message.value });
        lastArrival = Date.now();
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() - lastArrival < idleMs || got.length === 0) {
      if (Date.now() > deadline) throw new Error(`reading ${topic}: still busy or empty after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return got;
  } finally {
    await consumer.disconnect();
  }
}
