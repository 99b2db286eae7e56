import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import { TierstreamError, TransactionalBatchWriter, type ConsumedOffsets, type Logger, type TopicMessages } from '@tierstream/runtime';

export type { ConsumedOffsets, TopicMessages } from '@tierstream/runtime';

/**
 * The Kafka path's producer: one transaction per consumed batch, holding the batch's
 * canonical events, its dead letters and its consumed offsets (sendOffsets), so all become
 * visible to read_committed consumers together or not at all; the runtime's
 * TransactionalBatchWriter does it (one transactional id for every partition, so one producer,
 * its transactions serialised). A failure throws a retriable TS_ERR_INGEST_PRODUCE.
 */
export class TransactionalEventWriter {
  private readonly writer: TransactionalBatchWriter;

  constructor(kafka: Kafka, transactionalId: string, logger: Logger) {
    this.writer = new TransactionalBatchWriter(kafka, logger, { transactionalIdOf: () => transactionalId, errorCode: 'TS_ERR_INGEST_PRODUCE' });
  }

  async start(): Promise<void> {
    await this.writer.connect(0);
  }

  /** Produces `messages` to `topic` (and `also`, e.g. dead letters, to theirs) and commits `offsets`, atomically. */
  write(topic: string, messages: readonly Message[], offsets: ConsumedOffsets, also: readonly TopicMessages[] = []): Promise<void> {
    return this.writer.write(offsets.partition, [{ topic, messages }, ...also], offsets);
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}

/** The HTTP path's producer: idempotent, acks=all, Java-compatible murmur2 partitioning by key. */
export class AckedEventWriter {
  private readonly producer: Producer;
  private connected = false;

  constructor(kafka: Kafka) {
    this.producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  }

  async start(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  async write(topic: string, messages: readonly Message[]): Promise<void> {
    if (messages.length === 0) return;
    try {
      await this.producer.send({ topic, acks: -1, messages: [...messages] });
    } catch (err) {
      throw new TierstreamError('TS_ERR_INGEST_PRODUCE', `producing ${messages.length} events to ${topic} failed: ${(err as Error).message}`, { cause: err, retriable: true, context: { topic } });
    }
  }

  async close(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.producer.disconnect();
  }
}
