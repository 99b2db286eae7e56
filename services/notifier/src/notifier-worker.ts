import { BatchConsumer, DeadLetterPublisher, RedisKeys, topicNames, type Env, type WorkerContext, type WorkerProcess } from '@tierstream/runtime';
import { BatchDelivery } from './batch-delivery';
import { DeliveryMemory } from './delivery-memory';
import { NotifierMetrics } from './notifier-metrics';
import { notifierSettingsFromEnv, type NotifierSettings } from './notifier-settings';
import { DeliveryAbortedError } from './retry-delivery';
import { createSink } from './sinks';
import { TierChangedDecoder } from './tier-changed-decoder';
import { describeUrl } from './webhook-attempt';

/** The consumer group of the notifier, prefixed by the namespace like topics and keys. */
export const notifierGroupId = (namespace: string): string => `${namespace}tierstream-notifier`;

/**
 * Consumes customer.tier-changed.v1 (read_committed) and delivers each change to the
 * subscribers that want it; offsets are committed once every delivery of a batch settled.
 */
export class NotifierWorker implements WorkerProcess {
  private readonly consumer: BatchConsumer;
  private readonly deadLetters: DeadLetterPublisher;
  private readonly stopping = new AbortController();
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly ctx: WorkerContext,
    readonly settings: NotifierSettings,
  ) {
    const { namespace } = ctx.config;
    const topics = topicNames(namespace);
    const logger = ctx.logger.child({ component: 'notifier' });
    const metrics = new NotifierMetrics(ctx.metrics.registry);
    this.deadLetters = new DeadLetterPublisher(ctx.kafka, ctx.registry, topics.tierChangedDlq, ctx.metrics);
    const delivery = new BatchDelivery({
      sinks: settings.subscribers.map((subscriber) => createSink(subscriber, { logger: ctx.logger, metrics })),
      decoder: new TierChangedDecoder(ctx.registry),
      memory: new DeliveryMemory(ctx.redis, new RedisKeys(namespace), settings.deliveryMemoryMs),
      deadLetters: this.deadLetters,
      metrics,
      logger,
      stopping: this.stopping.signal,
    });
    this.consumer = new BatchConsumer(ctx.kafka, {
      groupId: notifierGroupId(namespace),
      topics: [topics.tierChanged],
      handler: (batch) => delivery.handle(batch),
      logger,
      metrics: ctx.metrics,
      commits: 'consumer',
      fromBeginning: settings.startFrom === 'earliest',
      partitionsConsumedConcurrently: settings.partitionConcurrency,
    });
  }

  async start(): Promise<void> {
    await this.deadLetters.start();
    await this.consumer.start();
    this.ctx.logger.info(
      {
        source: this.settings.subscribersSource,
        subscribers: this.settings.subscribers.map((s) => (s.type === 'webhook' ? { id: s.id, type: s.type, url: describeUrl(s.url), secrets: s.secrets.length } : { id: s.id, type: s.type })),
      },
      'notifier subscribers loaded',
    );
  }

  /** Lets attempts in flight finish, leaves pending retries (the batch is fetched again), leaves the group. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping.abort(new DeliveryAbortedError('the notifier is stopping; the batch will be fetched again'));
      await this.consumer.stop();
      await this.deadLetters.close();
    })();
    return this.stopped;
  }
}

/** What main.ts passes to runWorkerMain: the notifier's settings from `env`, validated now. */
export function buildNotifier(env: Env): (ctx: WorkerContext) => NotifierWorker {
  return (ctx) => new NotifierWorker(ctx, notifierSettingsFromEnv(env));
}
