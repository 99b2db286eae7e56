import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isTierstreamError, sendJson, TierstreamError, type DeadLetter, type DeadLetterPublisher, type Logger, type RouteHandler } from '@tierstream/runtime';
import type { CanonicalEncoder } from './canonical-encoder';
import { checkEvent, type Checked } from './check-event';
import { elementJson, requestLetter } from './dead-letters';
import { classifyRequestClaim, pendingMarker, type EventDedupe, type EventRef } from './dedupe';
import type { AckedEventWriter } from './event-producers';
import { checkContentHeaders, parseEventsBody, readBody, type ElementReading, type HttpRefusal } from './http-request';
import type { IngestMetrics } from './ingest-metrics';

export const EVENTS_PATH = '/v1/events';

export interface RejectedEvent {
  readonly index: number;
  readonly event_id?: string;
  readonly code: string;
  readonly message: string;
  /** True when sending the same event again later may succeed (an in-flight duplicate). */
  readonly retriable: boolean;
}

/** The 202 answer of POST /v1/events. */
export interface IngestAnswer {
  /** Events produced by this request (acknowledged by all in-sync replicas). */
  readonly accepted: number;
  /** Events dropped because their event_id was already ingested (earlier, or earlier in this body). */
  readonly duplicates: number;
  readonly rejected: readonly RejectedEvent[];
}

export interface HttpIngestorDeps {
  readonly encoder: Pick<CanonicalEncoder, 'encode'>;
  readonly dedupe: Pick<EventDedupe, 'claim' | 'settle' | 'release'>;
  readonly writer: Pick<AckedEventWriter, 'write'>;
  readonly deadLetters: Pick<DeadLetterPublisher, 'publish'>;
  readonly metrics: IngestMetrics;
  readonly logger: Logger;
}

export interface HttpIngestorOptions {
  readonly eventsTopic: string;
  readonly maxBodyBytes: number;
  readonly maxEvents: number;
  /** INGEST_MAX_EVENT_DEPTH (default 64). */
  readonly maxEventDepth?: number;
  readonly pendingTtlMs: number;
  readonly clock: () => number;
}

type Accepted = Checked & { ok: true };

/**
 * POST /v1/events (docs/ingest.md): a JSON array of events, validated like raw records;
 * answered 202 only after Kafka acknowledged every accepted event (acks=all). Claims are
 * `pending:<token>` with a short TTL while producing, settled for the dedupe horizon after
 * the ack, and removed when the produce fails, so the client may simply retry.
 */
export class HttpIngestor {
  private accepting = false;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly deps: HttpIngestorDeps,
    private readonly options: HttpIngestorOptions,
  ) {}

  /** Start taking requests (the producers are connected). */
  open(): void {
    this.accepting = true;
  }

  /** Refuse new requests (503) and wait for those in hand. */
  async drain(): Promise<void> {
    this.accepting = false;
    await Promise.allSettled([...this.inFlight]);
  }

  readonly route: RouteHandler = async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== EVENTS_PATH) return false;
    const work = this.serve(req, res);
    this.inFlight.add(work);
    try {
      await work;
    } finally {
      this.inFlight.delete(work);
    }
    return true;
  };

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.answer(req, res);
    } catch (err) {
      // A bug, not bad input or an outage: counted here, answered 500 by the ops server.
      this.deps.metrics.httpRequests.inc({ status: '500' });
      throw err;
    }
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refuse = (refusal: HttpRefusal, headers: Record<string, string> = {}): void => {
      this.deps.metrics.httpRequests.inc({ status: String(refusal.status) });
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      sendJson(res, refusal.status, { error: { code: refusal.code, message: refusal.message } });
    };
    if (req.method !== 'POST') {
      req.resume();
      return refuse({ status: 405, code: 'TS_ERR_INGEST_METHOD_NOT_ALLOWED', message: `${req.method ?? '?'} is not allowed on ${EVENTS_PATH}; use POST` }, { allow: 'POST' });
    }
    if (!this.accepting) {
      req.resume();
      return refuse({ status: 503, code: 'TS_ERR_INGEST_NOT_ACCEPTING', message: 'the ingest worker is starting or shutting down; retry shortly' }, { 'retry-after': '1' });
    }
    const badHeaders = checkContentHeaders(req.headers['content-type'], req.headers['content-encoding']);
    if (badHeaders) {
      req.resume();
      return refuse(badHeaders);
    }
    const body = await readBody(req, req.headers['content-length'], this.options.maxBodyBytes);
    if (!body.ok) return refuse(body.refusal);
    const parsed = parseEventsBody(body.body, this.options.maxEvents, this.options.maxEventDepth);
    if (!parsed.ok) return refuse(parsed.refusal);
    try {
      const answer = await this.ingest(parsed.events, parsed.readings);
      this.deps.metrics.httpRequests.inc({ status: '202' });
      sendJson(res, 202, answer);
    } catch (err) {
      if (!isTierstreamError(err) || !err.retriable) throw err;
      this.deps.logger.error({ err }, 'POST /v1/events failed');
      refuse({ status: 503, code: err.code, message: `${err.message}; nothing of this request was produced, send it again` }, { 'retry-after': '1' });
    }
  }

  /**
   * Ingests the events of one request (`readings`: by index, what parsing learnt of an
   * event); throws a retriable TierstreamError when nothing could be produced.
   */
  async ingest(events: readonly unknown[], readings: ReadonlyMap<number, ElementReading> = new Map()): Promise<IngestAnswer> {
    const { metrics, logger, dedupe } = this.deps;
    const now = this.options.clock();
    const token = randomUUID();
    metrics.worker.eventsIn.inc({ topic: 'http' }, events.length);
    const checked = await Promise.all(events.map((e, index) => checkEvent(e, now, this.deps.encoder, readings.get(index))));

    const rejected: RejectedEvent[] = [];
    const letters: DeadLetter[] = [];
    const candidates: { index: number; item: Accepted }[] = [];
    const firstIndex = new Map<string, number>();
    let duplicates = 0;
    checked.forEach((item, index) => {
      if (!item.ok) {
        const { rejection } = item;
        rejected.push({ index, ...(rejection.event_id === null ? {} : { event_id: rejection.event_id }), code: rejection.code, message: rejection.message, retriable: false });
        letters.push(requestLetter(readings.get(index)?.original ?? elementJson(events[index]), rejection, now));
        logger.warn({ event_id: rejection.event_id, customer_id: rejection.customer_id, index, code: rejection.code, reason: rejection.message }, 'event rejected');
      } else if (firstIndex.has(item.event.event_id)) {
        duplicates++;
      } else {
        firstIndex.set(item.event.event_id, index);
        candidates.push({ index, item });
      }
    });

    const previous = await this.claim(
      candidates.map((c) => ({ customerId: c.item.event.customer_id, eventId: c.item.event.event_id })),
      token,
    );
    const mine: Accepted[] = [];
    candidates.forEach(({ index, item }, n) => {
      const claim = classifyRequestClaim(previous[n] ?? null);
      if (claim === 'new') mine.push(item);
      else if (claim === 'duplicate') duplicates++;
      else {
        rejected.push({
          index,
          event_id: item.event.event_id,
          code: 'TS_ERR_INGEST_DUPLICATE_IN_FLIGHT',
          message: `event ${item.event.event_id} is being ingested by another request; send it again shortly`,
          retriable: true,
        });
      }
    });
    const mineRefs: EventRef[] = mine.map((m) => ({ customerId: m.event.customer_id, eventId: m.event.event_id }));

    try {
      try {
        await this.deps.deadLetters.publish(letters);
      } catch (err) {
        throw new TierstreamError('TS_ERR_INGEST_DEAD_LETTER', `publishing ${letters.length} dead letters failed: ${(err as Error).message}`, { cause: err, retriable: true });
      }
      await this.deps.writer.write(
        this.options.eventsTopic,
        mine.map((m) => ({ key: m.event.customer_id, value: m.value })),
      );
    } catch (err) {
      await dedupe.release(mineRefs, pendingMarker(token)).catch((releaseErr: unknown) => logger.warn({ err: releaseErr }, 'releasing pending claims failed; they expire by themselves'));
      throw err;
    }
    // Counted once the request produced: a request answered 503 and resent counts once.
    metrics.worker.eventsOut.inc({ topic: this.options.eventsTopic }, mine.length);
    metrics.duplicates.inc({ source: 'http' }, duplicates);
    for (const r of rejected) metrics.rejected.inc({ source: 'http', reason: r.code });
    for (const m of mine) logger.debug({ event_id: m.event.event_id, customer_id: m.event.customer_id }, 'event ingested');
    await dedupe.settle(mineRefs).catch((err: unknown) => {
      // The events are on the topic: the answer stays 202. The pending claims expire after
      // INGEST_PENDING_TTL_SECONDS, after which a resend would be produced again.
      logger.error({ err, events: mineRefs.length }, 'settling produced event ids failed');
    });
    rejected.sort((a, b) => a.index - b.index);
    return { accepted: mine.length, duplicates, rejected };
  }

  private async claim(events: readonly EventRef[], token: string): Promise<(string | null)[]> {
    // On failure, claims that did land stay `pending` until their short TTL ends.
    const marker = pendingMarker(token);
    return this.deps.dedupe.claim(events.map((e) => ({ ...e, marker, ttlMs: this.options.pendingTtlMs })));
  }
}
