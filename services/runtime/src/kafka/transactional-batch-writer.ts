import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import { TierstreamError, type ErrorCode } from '../errors';
import type { Logger } from '../logger';
import { chunkMessages } from './chunk-messages';

/** The consumed position a transaction commits: the next offset to consume of one partition. */
export interface ConsumedOffsets {
  readonly consumerGroupId: string;
  readonly topic: string;
  readonly partition: number;
  /** The last handled record's offset + 1. */
  readonly offset: string;
}

export interface TopicMessages {
  readonly topic: string;
  readonly messages: readonly Message[];
  /** Every message to this partition (a clock tick); otherwise by key (murmur2, as Java clients). */
  readonly partition?: number;
}

export interface TransactionalBatchWriterOptions {
  /**
   * The transactional id a consumed partition's transactions use: one per partition fences a
   * stalled former owner of that partition as soon as the next owner starts (the layout before
   * KIP-447, which KafkaJS lacks); one for all gives a single producer.
   */
  readonly transactionalIdOf: (partition: number) => string;
  /**
   * The code of the retriable TierstreamError a failed transaction throws, wrapping kafkajs's;
   * without one, kafkajs's own error is thrown, which the BatchConsumer tells apart as a
   * client-side failure (it restarts the consumer rather than exit).
   */
  readonly errorCode?: ErrorCode;
  readonly transactionTimeoutMs?: number;
}

interface Slot {
  readonly id: string;
  readonly producer: Producer;
  /** Transactions of one producer run one at a time. */
  queue: Promise<void>;
}

/**
 * The one exactly-once writer of the workers: for a consumed batch, one Kafka transaction with
 * its output records (sent in chunks under the broker's message.max.bytes, so a large batch
 * is never refused whole) and its consumed offsets (sendOffsets), committed together or
 * aborted. A producer whose transaction cannot be aborted (fenced, broken) is dropped; the
 * next batch starts a fresh one, which bumps its epoch.
 */
export class TransactionalBatchWriter {
  private readonly slots = new Map<string, Slot>();

  constructor(
    private readonly kafka: Kafka,
    private readonly logger: Logger,
    private readonly options: TransactionalBatchWriterOptions,
  ) {}

  /** Whether the partition's producer is connected (a fresh one fences its id's former holder). */
  has(partition: number): boolean {
    return this.slots.has(this.options.transactionalIdOf(partition));
  }

  /** Connects the partition's producer if it is not: initialising its transactional id aborts what a former holder left open. */
  async connect(partition: number): Promise<void> {
    await this.slotOf(partition);
  }

  /**
   * Sends `sends` and commits `offsets` in one transaction of the partition's producer.
   * Throws a retriable TierstreamError (the options' code) when anything fails.
   */
  async write(partition: number, sends: readonly TopicMessages[], offsets: ConsumedOffsets): Promise<void> {
    const slot = await this.slotOf(partition);
    const run = slot.queue.then(() => this.transact(slot, sends, offsets));
    slot.queue = run.catch(() => undefined);
    return run;
  }

  /** Keeps the producers of `partitions` (the new assignment) and disconnects the others. */
  retain(partitions: readonly number[]): void {
    const kept = new Set(partitions.map((p) => this.options.transactionalIdOf(p)));
    for (const [id, slot] of this.slots) {
      if (kept.has(id)) continue;
      this.slots.delete(id);
      slot.producer.disconnect().catch((err: unknown) => this.logger.warn({ err, transactionalId: id }, 'disconnecting the producer of a revoked partition failed'));
    }
  }

  /** Forgets the partition's producer (its batch failed before the transaction, e.g. reading offsets): the next batch starts a fresh one. */
  drop(partition: number): void {
    const slot = this.slots.get(this.options.transactionalIdOf(partition));
    if (slot) this.dropSlot(slot);
  }

  async close(): Promise<void> {
    const slots = [...this.slots.values()];
    this.slots.clear();
    await Promise.all(slots.map(async (s) => {
      await s.queue;
      await s.producer.disconnect();
    }));
  }

  private async slotOf(partition: number): Promise<Slot> {
    const id = this.options.transactionalIdOf(partition);
    const existing = this.slots.get(id);
    if (existing) return existing;
    const producer = this.kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      transactionalId: id,
      idempotent: true,
      maxInFlightRequests: 1,
      ...(this.options.transactionTimeoutMs === undefined ? {} : { transactionTimeout: this.options.transactionTimeoutMs }),
    });
    const slot: Slot = { id, producer, queue: Promise.resolve() };
    this.slots.set(id, slot);
    try {
      await producer.connect();
    } catch (err) {
      if (this.slots.get(id) === slot) this.slots.delete(id);
      const code = this.options.errorCode;
      throw code === undefined ? err : new TierstreamError(code, `connecting the transactional producer ${id} failed: ${(err as Error).message}`, { cause: err, retriable: true, context: { transactionalId: id } });
    }
    return slot;
  }

  private dropSlot(slot: Slot): void {
    if (this.slots.get(slot.id) === slot) this.slots.delete(slot.id);
    slot.producer.disconnect().catch((err: unknown) => this.logger.warn({ err, transactionalId: slot.id }, 'disconnecting a failed producer failed'));
  }

  private async transact(slot: Slot, sends: readonly TopicMessages[], offsets: ConsumedOffsets): Promise<void> {
    const { id } = slot;
    const code = this.options.errorCode;
    const fail = (what: string, err: unknown): unknown =>
      code === undefined
        ? err
        : new TierstreamError(code, `${what} (${id}, offsets of ${offsets.topic}[${offsets.partition}]) failed: ${(err as Error).message}`, {
            cause: err,
            retriable: true,
            context: { transactionalId: id, topic: offsets.topic, partition: offsets.partition },
          });
    const transaction = await slot.producer.transaction().catch((err: unknown) => {
      this.dropSlot(slot);
      throw fail('beginning a transaction', err);
    });
    try {
      for (const send of sends) {
        const to = send.partition;
        const messages = to === undefined ? send.messages : send.messages.map((m): Message => ({ ...m, partition: to }));
        for (const chunk of chunkMessages(messages)) await transaction.send({ topic: send.topic, acks: -1, messages: chunk });
      }
      await transaction.sendOffsets({ consumerGroupId: offsets.consumerGroupId, topics: [{ topic: offsets.topic, partitions: [{ partition: offsets.partition, offset: offsets.offset }] }] });
      await transaction.commit();
    } catch (err) {
      await transaction.abort().catch((abortErr: unknown) => {
        this.logger.warn({ err: abortErr, transactionalId: id }, 'aborting the transaction failed; the producer is replaced');
        this.dropSlot(slot);
      });
      throw fail(`the transaction of ${sends.reduce((n, s) => n + s.messages.length, 0)} records`, err);
    }
  }
}
