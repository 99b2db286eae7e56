import type { KafkaMessage } from 'kafkajs';
import { TierstreamError, type BatchContext, type DeadLetter, type DeadLetterPublisher, type Logger } from '@tierstream/runtime';
import type { CanonicalEncoder } from './canonical-encoder';
import { checkEvent, type Checked } from './check-event';
import { recordLetter } from './dead-letters';
import { classifyRecordClaim, recordMarker, type EventDedupe } from './dedupe';
import type { TransactionalEventWriter } from './event-producers';
import type { IngestMetrics } from './ingest-metrics';
import { rejectionOf } from './problems';
import type { RawRecordDecoder } from './raw-record';

export interface RawBatchIngestorDeps {
  readonly decoder: Pick<RawRecordDecoder, 'decode'>;
  readonly encoder: Pick<CanonicalEncoder, 'encode'>;
  readonly dedupe: Pick<EventDedupe, 'claim' | 'settle'>;
  readonly writer: Pick<TransactionalEventWriter, 'write'>;
  /** Encodes the batch's dead letters, which go into its transaction. */
  readonly deadLetters: Pick<DeadLetterPublisher, 'encode' | 'count' | 'topic'>;
  readonly metrics: IngestMetrics;
  readonly logger: Logger;
}

export interface RawBatchIngestorOptions {
  /** The consumer group whose offsets the transactions commit. */
  readonly groupId: string;
  readonly eventsTopic: string;
  readonly dedupeHorizonMs: number;
  /** How long to wait at most for an HTTP request's pending claim on the same event id. */
  readonly pendingTtlMs: number;
  readonly clock: () => number;
  /** Pause between re-claims of ids an HTTP request holds. */
  readonly pendingPollMs?: number;
}

interface Item {
  readonly message: KafkaMessage;
  readonly checked: Checked;
}

/** A record dropped as a duplicate: for the metric and the log, once the batch committed. */
interface Duplicate {
  readonly ids: Readonly<Record<string, unknown>>;
  readonly firstSeen: string | null;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The Kafka path (docs/ingest.md): one batch of customer.events.raw → decode, normalise,
 * dedupe (one pipeline), then one transaction with the canonical events, the rejects'
 * dead letters and the batch's offsets. Any infrastructure failure throws a retriable error
 * before the commit, so the batch is fetched again and replayed; the dedupe markers carry
 * the record coordinates, so the replay recognises its own claims and produces again.
 */
export class RawBatchIngestor {
  constructor(
    private readonly deps: RawBatchIngestorDeps,
    private readonly options: RawBatchIngestorOptions,
  ) {}

  readonly handle = async (batch: BatchContext): Promise<void> => {
    const { topic, partition, messages } = batch;
    const last = messages[messages.length - 1];
    if (!last) return;
    const { logger, metrics } = this.deps;
    const now = this.options.clock();
    const items = await Promise.all(messages.map(async (message): Promise<Item> => ({ message, checked: await this.check(message, now) })));

    const { toProduce, duplicates } = await this.dedupe(batch, items.filter((i): i is Item & { checked: { ok: true } } => i.checked.ok));

    const rejected = items.flatMap(({ message, checked }) => (checked.ok ? [] : [{ message, rejection: checked.rejection }]));
    const letters: DeadLetter[] = rejected.map(({ message, rejection }) => recordLetter(message, topic, partition, rejection, now));
    let letterMessages;
    try {
      letterMessages = await this.deps.deadLetters.encode(letters);
    } catch (err) {
      throw new TierstreamError('TS_ERR_INGEST_DEAD_LETTER', `encoding ${letters.length} dead letters of ${topic}[${partition}] failed: ${(err as Error).message}`, {
        cause: err,
        retriable: true,
        context: { topic, partition },
      });
    }

    await batch.heartbeat();
    // Dead letters ride in the batch's transaction: a replayed batch writes them once.
    await this.deps.writer.write(
      this.options.eventsTopic,
      toProduce.map(({ checked }) => ({ key: checked.event.customer_id, value: checked.value })),
      { consumerGroupId: this.options.groupId, topic, partition, offset: String(BigInt(last.offset) + 1n) },
      [{ topic: this.deps.deadLetters.topic, messages: letterMessages }],
    );
    // The claims become packed entries; if that fails they stay claims with this batch's
    // coordinates for the horizon, which dedupe the same (only in more bytes).
    await this.deps.dedupe.settle(toProduce.map(({ checked }) => ({ customerId: checked.event.customer_id, eventId: checked.event.event_id }))).catch((err: unknown) => {
      logger.warn({ err, topic, partition, events: toProduce.length }, 'settling committed event ids failed; their claims dedupe until the horizon');
    });
    // Counted and logged once the transaction committed: a batch that fails and is fetched
    // again would otherwise count its duplicates and rejects twice.
    this.deps.deadLetters.count(letters);
    metrics.worker.eventsOut.inc({ topic: this.options.eventsTopic }, toProduce.length);
    metrics.duplicates.inc({ source: 'kafka' }, duplicates.length);
    for (const { message, rejection } of rejected) {
      metrics.rejected.inc({ source: 'kafka', reason: rejection.code });
      logger.warn(
        { event_id: rejection.event_id, customer_id: rejection.customer_id, topic, partition, offset: message.offset, code: rejection.code, reason: rejection.message },
        'event rejected',
      );
    }
    for (const { ids, firstSeen } of duplicates) logger.debug({ ...ids, first_seen: firstSeen }, 'duplicate event dropped');
    for (const { checked, message } of toProduce) {
      logger.debug({ event_id: checked.event.event_id, customer_id: checked.event.customer_id, topic, partition, offset: message.offset }, 'event ingested');
    }
  };

  private async check(message: KafkaMessage, now: number): Promise<Checked> {
    const decoded = await this.deps.decoder.decode(message.value);
    if (!decoded.ok) return { ok: false, rejection: rejectionOf([decoded.problem], { event_id: null, customer_id: null }) };
    return checkEvent(decoded.payload, now, this.deps.encoder, decoded.reading);
  }

  /**
   * Claims the batch's event ids; returns the items to produce (new, or claimed by this very
   * record in an earlier attempt), in batch order, and the duplicates dropped. Ids an HTTP
   * request holds (`pending`) are claimed again until that request settled or its claim expired.
   */
  private async dedupe<T extends Item & { checked: { ok: true } }>(batch: BatchContext, accepted: readonly T[]): Promise<{ toProduce: T[]; duplicates: Duplicate[] }> {
    const { topic, partition } = batch;
    const keep = new Set<T>();
    const duplicates: Duplicate[] = [];
    let open = [...accepted];
    const deadline = this.options.clock() + this.options.pendingTtlMs + 1000;
    for (let round = 0; open.length > 0; round++) {
      if (round > 0) {
        if (this.options.clock() > deadline) {
          throw new TierstreamError('TS_ERR_INGEST_DEDUPE', `${open.length} event ids of ${topic}[${partition}] stayed pending for longer than the pending TTL`, { retriable: true });
        }
        await sleep(this.options.pendingPollMs ?? 200);
        await batch.heartbeat();
      }
      const markers = open.map((i) => recordMarker(topic, partition, i.message.offset));
      const previous = await this.deps.dedupe.claim(
        open.map((i, n) => ({ customerId: i.checked.event.customer_id, eventId: i.checked.event.event_id, marker: markers[n] ?? '', ttlMs: this.options.dedupeHorizonMs })),
      );
      const pending: T[] = [];
      open.forEach((item, n) => {
        const claim = classifyRecordClaim(previous[n] ?? null, markers[n] ?? '');
        const ids = { event_id: item.checked.event.event_id, customer_id: item.checked.event.customer_id, topic, partition, offset: item.message.offset };
        if (claim === 'new' || claim === 'replay') {
          keep.add(item);
          if (claim === 'replay') this.deps.logger.info(ids, 'event claimed by an earlier attempt at this record: producing again');
        } else if (claim === 'pending') {
          pending.push(item);
        } else {
          duplicates.push({ ids, firstSeen: previous[n] ?? null });
        }
      });
      open = pending;
    }
    return { toProduce: accepted.filter((i) => keep.has(i)), duplicates };
  }
}
