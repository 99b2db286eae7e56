import {
  BatchConsumer,
  DeadLetterPublisher,
  RedisKeys,
  topicNames,
  type Logger,
  type RouteHandler,
  type TopicNames,
  type WorkerContext,
  type WorkerProcess,
} from '@tierstream/runtime';
import { CanonicalEncoder } from './canonical-encoder';
import type { IngestConfig } from './config';
import { EventDedupe } from './dedupe';
import { AckedEventWriter, TransactionalEventWriter } from './event-producers';
import { HttpIngestor } from './http-ingest';
import { IngestMetrics } from './ingest-metrics';
import { RawBatchIngestor } from './kafka-ingest';
import { RawRecordDecoder } from './raw-record';

/** The consumer group of ingest on customer.events.raw, namespaced like the topics. */
export const ingestGroupId = (namespace: string): string => `${namespace}tierstream-ingest`;

/**
 * The ingest worker (docs/ingest.md): consumes customer.events.raw and serves
 * POST /v1/events; validates, normalises and deduplicates; produces canonical Avro events
 * to customer.events.v1 keyed by customer_id; dead-letters every rejected record to
 * customer.events.dlq.
 */
export class IngestWorker implements WorkerProcess {
  readonly routes: RouteHandler;
  readonly topics: TopicNames;
  readonly groupId: string;
  private readonly logger: Logger;
  private readonly encoder: CanonicalEncoder;
  private readonly deadLetters: DeadLetterPublisher;
  private readonly transactional: TransactionalEventWriter;
  private readonly acked: AckedEventWriter;
  private readonly http: HttpIngestor;
  private readonly consumer: BatchConsumer;
  private readonly dedupe: EventDedupe;
  private stopping: Promise<void> | undefined;

  constructor(ctx: WorkerContext, config: IngestConfig, clock: () => number = Date.now) {
    const { namespace } = ctx.config;
    this.topics = topicNames(namespace);
    this.groupId = ingestGroupId(namespace);
    this.logger = ctx.logger.child({ component: 'ingest' });
    const metrics = new IngestMetrics(ctx.metrics);
    this.dedupe = new EventDedupe(ctx.redis, new RedisKeys(namespace), { horizonMs: config.dedupeHorizonMs, readLegacy: config.dedupeReadLegacy, clock });
    const dedupe = this.dedupe;
    this.encoder = new CanonicalEncoder(ctx.registry, this.topics.events);
    this.deadLetters = new DeadLetterPublisher(ctx.kafka, ctx.registry, this.topics.eventsDlq, ctx.metrics);
    this.transactional = new TransactionalEventWriter(ctx.kafka, config.transactionalId, this.logger);
    this.acked = new AckedEventWriter(ctx.kafka);

    const kafkaPath = new RawBatchIngestor(
      {
        decoder: new RawRecordDecoder(ctx.registry, config.maxEventBytes, config.maxEventDepth),
        encoder: this.encoder,
        dedupe,
        writer: this.transactional,
        deadLetters: this.deadLetters,
        metrics,
        logger: this.logger.child({ path: 'kafka' }),
      },
      { groupId: this.groupId, eventsTopic: this.topics.events, dedupeHorizonMs: config.dedupeHorizonMs, pendingTtlMs: config.pendingTtlMs, clock },
    );
    this.consumer = new BatchConsumer(ctx.kafka, {
      groupId: this.groupId,
      topics: [this.topics.raw],
      handler: kafkaPath.handle,
      logger: this.logger,
      metrics: ctx.metrics,
      commits: 'handler',
    });

    this.http = new HttpIngestor(
      { encoder: this.encoder, dedupe, writer: this.acked, deadLetters: this.deadLetters, metrics, logger: this.logger.child({ path: 'http' }) },
      {
        eventsTopic: this.topics.events,
        maxBodyBytes: config.maxBodyBytes,
        maxEvents: config.maxEvents,
        maxEventDepth: config.maxEventDepth,
        pendingTtlMs: config.pendingTtlMs,
        clock,
      },
    );
    this.routes = this.http.route;
  }

  async start(): Promise<void> {
    await this.encoder.init();
    await this.dedupe.start();
    await Promise.all([this.deadLetters.start(), this.transactional.start(), this.acked.start()]);
    this.http.open();
    await this.consumer.start();
    this.logger.info({ raw: this.topics.raw, events: this.topics.events, dlq: this.topics.eventsDlq, groupId: this.groupId }, 'ingest running');
  }

  /** Refuses new requests, finishes those and the batch in hand, commits, leaves the group. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all([this.http.drain(), this.consumer.stop()]);
      await Promise.all([this.transactional.close(), this.acked.close(), this.deadLetters.close()]);
    })();
    return this.stopping;
  }
}
