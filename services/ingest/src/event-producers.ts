import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import { TierstreamError, type Logger } from '@tierstream/runtime';

export interface ConsumedOffsets {
  readonly consumerGroupId: string;
  readonly topic: string;
  readonly partition: number;
  /** The next offset to consume: the last handled record's offset + 1. */
  readonly offset: string;
}

export interface TopicMessages {
  readonly topic: string;
  readonly messages: readonly Message[];
}

/**
 * The Kafka path's producer: one transaction per consumed batch, holding the batch's
 * canonical events and its consumed offsets (sendOffsets), so both become visible to
 * read_committed consumers together or not at all. Transactions are serialised. After a
 * failure the transaction is aborted; a producer that cannot abort (fenced, broken) is
 * replaced on the next batch, which bumps its epoch.
 */
export class TransactionalEventWriter {
  private producer: Producer | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly kafka: Kafka,
    private readonly transactionalId: string,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.connected();
  }

  /**
   * Produces `messages` to `topic` (and `also`, e.g. dead letters, to theirs) and commits
   * `offsets`, atomically. Throws a retriable TS_ERR_INGEST_PRODUCE on failure.
   */
  write(topic: string, messages: readonly Message[], offsets: ConsumedOffsets, also: readonly TopicMessages[] = []): Promise<void> {
    const run = this.queue.then(() => this.transact(topic, messages, offsets, also));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async connected(): Promise<Producer> {
    if (this.producer) return this.producer;
    const producer = this.kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      transactionalId: this.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    this.producer = producer;
    return producer;
  }

  private async transact(topic: string, messages: readonly Message[], offsets: ConsumedOffsets, also: readonly TopicMessages[]): Promise<void> {
    let producer: Producer;
    try {
      producer = await this.connected();
    } catch (err) {
      throw new TierstreamError('TS_ERR_INGEST_PRODUCE', `connecting the transactional producer failed: ${(err as Error).message}`, { cause: err, retriable: true });
    }
    const transaction = await producer.transaction().catch((err: unknown) => {
      this.drop(producer);
      throw new TierstreamError('TS_ERR_INGEST_PRODUCE', `beginning a transaction failed: ${(err as Error).message}`, { cause: err, retriable: true });
    });
    try {
      if (messages.length > 0) await transaction.send({ topic, acks: -1, messages: [...messages] });
      for (const extra of also) if (extra.messages.length > 0) await transaction.send({ topic: extra.topic, acks: -1, messages: [...extra.messages] });
      await transaction.sendOffsets({
        consumerGroupId: offsets.consumerGroupId,
        topics: [{ topic: offsets.topic, partitions: [{ partition: offsets.partition, offset: offsets.offset }] }],
      });
      await transaction.commit();
    } catch (err) {
      try {
        await transaction.abort();
      } catch (abortErr) {
        this.logger.warn({ err: abortErr }, 'aborting the transaction failed; the producer is replaced');
        this.drop(producer);
      }
      throw new TierstreamError('TS_ERR_INGEST_PRODUCE', `the transaction for ${topic} (${messages.length} events, offsets of ${offsets.topic}[${offsets.partition}]) failed: ${(err as Error).message}`, {
        cause: err,
        retriable: true,
        context: { topic, sourceTopic: offsets.topic, partition: offsets.partition },
      });
    }
  }

  private drop(producer: Producer): void {
    if (this.producer === producer) this.producer = undefined;
    producer.disconnect().catch((err: unknown) => this.logger.warn({ err }, 'disconnecting a failed producer failed'));
  }

  async close(): Promise<void> {
    await this.queue;
    const producer = this.producer;
    this.producer = undefined;
    if (producer) await producer.disconnect();
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
