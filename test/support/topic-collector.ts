import type { Kafka } from 'kafkajs';
import type { SchemaRegistry } from '@tierstream/runtime';
import { uniqueName, waitFor } from './test-stack';

/** One record read back from a topic, with its coordinates and its value decoded with the registry. */
export interface Collected<T> {
  readonly key: string | null;
  readonly raw: Buffer;
  readonly value: T;
  readonly partition: number;
  readonly offset: number;
}

/** Reads a topic from the beginning (read_committed) while a suite runs and keeps every record. */
export class TopicCollector<T> {
  readonly records: Collected<T>[] = [];
  private readonly consumer;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    private readonly registry: SchemaRegistry,
  ) {
    this.consumer = kafka.consumer({ groupId: uniqueName('collect'), readUncommitted: false, maxWaitTimeInMs: 100 });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ message, partition }) => {
        if (!message.value) return;
        const value = (await this.registry.decode(message.value)) as T;
        this.records.push({ key: message.key?.toString('utf8') ?? null, raw: message.value, value, partition, offset: Number(message.offset) });
      },
    });
  }

  find(predicate: (value: T) => boolean): Collected<T>[] {
    return this.records.filter((r) => predicate(r.value));
  }

  waitFor(predicate: (value: T) => boolean, what: string, timeoutMs = 30_000): Promise<Collected<T>> {
    return waitFor(() => this.records.find((r) => predicate(r.value)), timeoutMs, what);
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}
