import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { createKafka, createSchemaRegistry, startWorker, topicNames, type DeadLetter, type Endpoints, type RunningWorker, type SchemaRegistry, type TopicNames } from '@tierstream/runtime';
import type { CustomerEvent } from '@tierstream/domain';
import { IngestWorker, ingestConfigFromEnv } from '@tierstream/ingest';
import { provisionNamespace, workerEnv } from './pipeline';
import { TopicCollector } from './topic-collector';
import { quietLogger, uniqueName } from './test-stack';

/** An in-process ingest worker on a fresh namespace, a producer to its raw topic and readers of its outputs. */
export interface IngestSuite {
  readonly namespace: string;
  readonly endpoints: Endpoints;
  readonly topics: TopicNames;
  readonly worker: RunningWorker;
  readonly baseUrl: string;
  readonly kafka: Kafka;
  readonly registry: SchemaRegistry;
  readonly producer: Producer;
  readonly events: TopicCollector<CustomerEvent>;
  readonly dlq: TopicCollector<DeadLetter>;
  /** Produces one raw record and returns where it landed. */
  produceRaw(value: Buffer | string | null, key: string, partition?: number): Promise<{ partition: number; offset: number }>;
  close(): Promise<void>;
}

export async function startIngestSuite(prefix: string, extraEnv: Record<string, string> = {}): Promise<IngestSuite> {
  const { namespace, endpoints } = await provisionNamespace(prefix);
  const topics = topicNames(namespace);
  const env = workerEnv(namespace, endpoints, extraEnv);
  const worker = await startWorker('ingest', env, (ctx) => new IngestWorker(ctx, ingestConfigFromEnv(env, ctx.config.namespace)));
  const kafka = createKafka({ clientId: uniqueName(prefix), brokers: endpoints.kafkaBrokers, logger: quietLogger() });
  const registry = createSchemaRegistry(endpoints.schemaRegistryUrl);
  // Idempotent: a retried send never writes a record twice, so tests can count by offset.
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const events = new TopicCollector<CustomerEvent>(kafka, topics.events, registry);
  const dlq = new TopicCollector<DeadLetter>(kafka, topics.eventsDlq, registry);
  await Promise.all([events.start(), dlq.start()]);
  return {
    namespace,
    endpoints,
    topics,
    worker,
    baseUrl: `http://127.0.0.1:${worker.httpPort}`,
    kafka,
    registry,
    producer,
    events,
    dlq,
    async produceRaw(value, key, partition) {
      const [meta] = await producer.send({ topic: topics.raw, acks: -1, messages: [{ key, value, ...(partition === undefined ? {} : { partition }) }] });
      if (!meta) throw new Error('no record metadata');
      return { partition: meta.partition, offset: Number(meta.baseOffset) };
    },
    async close() {
      await worker.close();
      await Promise.all([events.stop(), dlq.stop(), producer.disconnect()]);
    },
  };
}

/** The value of one sample of a counter on a worker's /metrics page (0 when absent). */
export async function counterSample(baseUrl: string, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && wanted.every((w) => l.includes(w)));
  return line ? Number(line.split(' ').pop()) : 0;
}
