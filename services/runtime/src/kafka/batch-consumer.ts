import { KafkaJSError, KafkaJSProtocolError, type Batch, type Consumer, type ConsumerRunConfig, type Kafka, type KafkaMessage } from 'kafkajs';
import type { Logger } from '../logger';
import type { WorkerMetrics } from '../metrics/worker-metrics';

export interface BatchContext {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly KafkaMessage[];
  /**
   * Keep group membership alive during long batches (the consumer also does, while the event
   * loop is free). Rejects with the group's error once a rebalance started or the membership was lost.
   */
  heartbeat(): Promise<void>;
  /** False once stop() was called, a rebalance started or the partition was revoked: finish quickly. */
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
   * Called when the consumer stopped for good: a failure of the handler that kafkajs does not
   * retry (non-retriable, or a bug). Default: log and exit 1, so the orchestrator restarts the
   * worker rather than it answering /readyz while it consumes nothing. A failure on the
   * client's side (broker gone too long) restarts the consumer instead, with backoff.
   */
  readonly onFatal?: (err: Error) => void;
  /** Called with this member's partitions (by topic) each time the group assigns them. */
  readonly onAssignment?: (assignment: Readonly<Record<string, readonly number[]>>) => void;
  readonly maxBytesPerPartition?: number;
  readonly partitionsConsumedConcurrently?: number;
}

/** How often a batch in hand offers a heartbeat; kafkajs sends one per heartbeat interval at most. */
const KEEP_ALIVE_TICK_MS = 500;
/** Backoff of our own restarts of a consumer that kafkajs gave up on. */
const RESTART_BACKOFF = { initialMs: 1000, maxMs: 30_000 };

/** The errors in a chain of causes, outermost first. */
function causes(err: Error): Error[] {
  const chain = [err];
  for (let e: unknown = err.cause; e instanceof Error && !chain.includes(e); e = e.cause) chain.push(e);
  return chain;
}

/**
 * True when kafkajs gave up for reasons of its own connection (broker unreachable too long,
 * coordinator not found), which a restart of the consumer can outlive; false when the chain
 * holds an error of the handler or a protocol error no retry changes (authorisation, config).
 */
export function isClientSideCrash(err: Error): boolean {
  return causes(err).every((e) => e instanceof KafkaJSError && !(e instanceof KafkaJSProtocolError && !e.retriable));
}

/** Group errors after which kafkajs rejoins the group (Runner: isRebalancing, UNKNOWN_MEMBER_ID). */
const MEMBERSHIP_LOSS = new Set(['UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'NOT_COORDINATOR_FOR_GROUP']);
const isMembershipLoss = (err: unknown): err is KafkaJSProtocolError => err instanceof KafkaJSProtocolError && MEMBERSHIP_LOSS.has(err.type);

const jittered = (ms: number): number => Math.round(ms * (0.8 + Math.random() * 0.4));

/**
 * The consumer loop every worker shares (after KafkaJS's Runner): lifecycle (start, stop)
 * apart from batch handling; an offset is resolved only after the handler succeeded;
 * stop() lets the batch in hand finish, commits and leaves the group. It reports whether it
 * consumes to the worker's metrics (tierstream_consumer_up, /readyz).
 */
export class BatchConsumer {
  private readonly consumer: Consumer;
  private running = false;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private restarts = 0;

  constructor(
    kafka: Kafka,
    private readonly options: BatchConsumerOptions,
  ) {
    // Session and heartbeat come from the client (KAFKA_SESSION_TIMEOUT_MS, docs/operations.md).
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
      maxWaitTimeInMs: 250,
      // Transactional output must only be built on committed input.
      readUncommitted: false,
    });
    const { consumer } = this;
    const { groupId, onAssignment } = options;
    this.report('not started');
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.restarts = 0;
      this.report(undefined);
      onAssignment?.(e.payload.memberAssignment);
    });
    consumer.on(consumer.events.CRASH, (e) => this.crashed(e.payload.error, e.payload.restart));
    this.options.logger.debug({ groupId }, 'consumer created');
  }

  /** Connects, subscribes and joins the group; resolves once this member has its partitions. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      const { groupId, topics, logger } = this.options;
      this.report('joining the group');
      await this.consumer.connect();
      await this.consumer.subscribe({ topics: [...topics], fromBeginning: this.options.fromBeginning ?? true });
      this.running = true;
      await this.consumer.run(this.runConfig());
      logger.info({ groupId, topics }, 'consumer started');
    })();
    return this.starting;
  }

  private runConfig(): ConsumerRunConfig {
    return {
      autoCommit: this.options.commits === 'consumer',
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: async (payload) => this.handleBatch(payload.batch, payload),
    };
  }

  private report(problem: string | undefined): void {
    this.options.metrics.reportConsumer(this.options.groupId, problem);
  }

  private crashed(err: Error, kafkajsRestarts: boolean): void {
    if (!this.running) return;
    const { logger, groupId } = this.options;
    if (kafkajsRestarts) {
      this.report(`crashed, kafkajs restarts it: ${err.message}`);
      logger.warn({ err, groupId }, 'the consumer crashed; kafkajs restarts it');
      return;
    }
    if (!isClientSideCrash(err)) {
      this.report(`stopped for good: ${err.message}`);
      logger.fatal({ err, groupId }, 'the consumer crashed and will not restart');
      (this.options.onFatal ?? (() => process.exit(1)))(err);
      return;
    }
    const delay = jittered(Math.min(RESTART_BACKOFF.maxMs, RESTART_BACKOFF.initialMs * 2 ** this.restarts++));
    this.report(`crashed, restarting in ${delay} ms: ${err.message}`);
    logger.error({ err, groupId, delayMs: delay, restarts: this.restarts }, 'kafkajs gave up on the consumer; restarting it');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.restart();
    }, delay);
  }

  /** Runs the consumer again after kafkajs stopped it (it disconnected it first). */
  private async restart(): Promise<void> {
    if (!this.running) return;
    try {
      await this.consumer.connect();
      await this.consumer.run(this.runConfig());
    } catch (err) {
      // connect() gave up (the broker is still gone): try again later, like a crash.
      this.crashed(err instanceof Error ? err : new Error(String(err)), false);
    }
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
    const { metrics, logger, groupId } = this.options;
    const timer = metrics.batchDuration.startTimer({ topic: batch.topic });
    // kafkajs heartbeats only between batches or when asked: a batch longer than the session
    // would cost this member its partitions. What a heartbeat learns (a rebalance) is kept for the handler.
    let membershipLost: Error | undefined;
    const beat = (): Promise<void> =>
      payload.heartbeat().catch((err: unknown) => {
        if (isMembershipLoss(err)) membershipLost ??= err;
        throw err;
      });
    const keepAlive = setInterval(() => {
      beat().catch((err: unknown) => logger.debug({ err, groupId, topic: batch.topic, partition: batch.partition }, 'heartbeat during a batch failed'));
    }, KEEP_ALIVE_TICK_MS);
    try {
      await this.options.handler({
        topic: batch.topic,
        partition: batch.partition,
        messages: batch.messages,
        // A rebalance or a lost membership the keep-alive saw reaches the handler's own heartbeat too.
        heartbeat: async () => {
          if (membershipLost) throw membershipLost;
          await beat();
        },
        isRunning: () => this.running && membershipLost === undefined && payload.isRunning() && !payload.isStale(),
      });
    } catch (err) {
      // kafkajs rejoins only on a group error, and a batch that keeps failing never reaches the
      // heartbeat after it: without this a dropped member would retry partitions it no longer owns.
      await beat().catch(() => undefined); // what it learns is in membershipLost
      if (membershipLost) {
        logger.warn({ err, groupId, membership: membershipLost.message }, 'the batch failed and this member lost its group membership: rejoining');
        throw membershipLost;
      }
      throw err;
    } finally {
      clearInterval(keepAlive);
    }
    payload.resolveOffset(batch.lastOffset());
    if (this.options.commits === 'consumer') await payload.commitOffsetsIfNecessary();
    // Counted once done: a batch that failed is fetched again and counted when it succeeds.
    metrics.eventsIn.inc({ topic: batch.topic }, batch.messages.length);
    metrics.consumerLag.set({ topic: batch.topic, partition: String(batch.partition) }, Number(batch.offsetLag()));
    timer();
  }

  /** Finishes the batch in hand, commits, leaves the group. Idempotent; during start(), waits for it to settle first. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.running = false;
      clearTimeout(this.restartTimer);
      // A join in progress cannot be called off: let it end, then leave the group cleanly.
      await this.starting?.catch(() => undefined);
      await this.consumer.stop();
      await this.consumer.disconnect();
      this.report('stopped');
      this.options.logger.info({ groupId: this.options.groupId }, 'consumer stopped');
    })();
    return this.stopping;
  }
}
