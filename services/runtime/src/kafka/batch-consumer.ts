import type { Batch, Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from '../logger';
import type { WorkerMetrics } from '../metrics/worker-metrics';

export interface BatchContext {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly KafkaMessage[];
  /** Keep group membership alive during long batches. */
  heartbeat(): Promise<void>;
  /** False once stop() was called or the partition was revoked: finish quickly. */
  isRunning(): boolean;
}

/** Processes one batch of one partition; throwing makes the batch be fetched again. */
export type BatchHandler = (batch: BatchContext) => Promise<void>;

export interface BatchConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly handler: BatchHandler;
  readonly logger: Logger;
  readonly metrics: WorkerMetrics;
  /**
   * `consumer`: offsets are committed by the consumer after the handler succeeds.
   * `handler`: the handler commits them itself (in a Kafka transaction, with sendOffsets).
   */
  readonly commits: 'consumer' | 'handler';
  readonly fromBeginning?: boolean;
  /**
   * Called when the consumer stopped for good (KafkaJS crashed it without restarting, e.g. on a
   * non-retriable error). Default: log and exit 1, so the orchestrator restarts the worker
   * rather than it answering /readyz while it consumes nothing.
   */
  readonly onFatal?: (err: Error) => void;
  /** Called with this member's partitions (by topic) each time the group assigns them. */
  readonly onAssignment?: (assignment: Readonly<Record<string, readonly number[]>>) => void;
  readonly maxBytesPerPartition?: number;
  readonly partitionsConsumedConcurrently?: number;
}

/**
 * The consumer loop every worker shares (after KafkaJS's Runner): lifecycle (start, stop)
 * apart from batch handling; an offset is resolved only after the handler succeeded;
 * stop() lets the batch in hand finish, commits and leaves the group.
 */
export class BatchConsumer {
  private consumer: Consumer | undefined;
  private running = false;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: BatchConsumerOptions,
  ) {}

  async start(): Promise<void> {
    const { groupId, topics, logger } = this.options;
    const consumer = this.kafka.consumer({
      groupId,
      maxBytesPerPartition: this.options.maxBytesPerPartition ?? 1024 * 1024,
      maxWaitTimeInMs: 250,
      // A killed member's partitions move after 15 s instead of kafkajs's 30 s default.
      sessionTimeout: 15_000,
      heartbeatInterval: 3_000,
      // Transactional output must only be built on committed input.
      readUncommitted: false,
    });
    this.consumer = consumer;
    const { onAssignment } = this.options;
    consumer.on(consumer.events.CRASH, (e) => {
      if (e.payload.restart || !this.running) return;
      const err = e.payload.error;
      logger.fatal({ err, groupId }, 'the consumer crashed and will not restart');
      (this.options.onFatal ?? (() => process.exit(1)))(err);
    });
    if (onAssignment) consumer.on(consumer.events.GROUP_JOIN, (e) => onAssignment(e.payload.memberAssignment));
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: this.options.fromBeginning ?? true });
    this.running = true;
    await consumer.run({
      autoCommit: this.options.commits === 'consumer',
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: async (payload) => this.handleBatch(payload.batch, payload),
    });
    logger.info({ groupId, topics }, 'consumer started');
  }

  private async handleBatch(
    batch: Batch,
    payload: {
      resolveOffset(offset: string): void;
      heartbeat(): Promise<void>;
      commitOffsetsIfNecessary(): Promise<void>;
      isRunning(): boolean;
      isStale(): boolean;
    },
  ): Promise<void> {
    if (!this.running || batch.isEmpty()) return;
    const { metrics } = this.options;
    const timer = metrics.batchDuration.startTimer({ topic: batch.topic });
    metrics.eventsIn.inc({ topic: batch.topic }, batch.messages.length);
    await this.options.handler({
      topic: batch.topic,
      partition: batch.partition,
      messages: batch.messages,
      heartbeat: () => payload.heartbeat(),
      isRunning: () => this.running && payload.isRunning() && !payload.isStale(),
    });
    payload.resolveOffset(batch.lastOffset());
    if (this.options.commits === 'consumer') await payload.commitOffsetsIfNecessary();
    metrics.consumerLag.set({ topic: batch.topic, partition: String(batch.partition) }, Number(batch.offsetLag()));
    timer();
  }

  /** Finishes the batch in hand, commits, leaves the group. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.running = false;
      const consumer = this.consumer;
      if (!consumer) return;
      await consumer.stop();
      await consumer.disconnect();
      this.options.logger.info({ groupId: this.options.groupId }, 'consumer stopped');
    })();
    return this.stopping;
  }
}
