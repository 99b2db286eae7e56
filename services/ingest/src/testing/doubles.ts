/**
 * Test doubles of ingest's adapters, for unit tests of the batch and request flows.
 * Not part of the package build (tsconfig excludes src/testing).
 */
import type { CustomerEvent } from '@tierstream/domain';
import { createLogger, WorkerMetrics, type DeadLetter, type Logger } from '@tierstream/runtime';
import type { Message } from 'kafkajs';
import type { Encoded } from '../canonical-encoder';
import { SETTLED_MARKER, type Claim, type EventRef } from '../dedupe';
import type { ConsumedOffsets, TopicMessages } from '../event-producers';
import { IngestMetrics } from '../ingest-metrics';

export const quietLogger = (): Logger => createLogger({ name: 'ingest-test', level: 'silent' });

let metricsSeq = 0;
/** Fresh metrics on their own registry. */
export const testMetrics = (): IngestMetrics => new IngestMetrics(new WorkerMetrics(`ingest-test-${++metricsSeq}`));

/** Encodes canonical events as JSON, so tests can read back what would have been produced. */
export class JsonEncoder {
  async encode(event: CustomerEvent): Promise<Encoded> {
    return { ok: true, value: Buffer.from(JSON.stringify(event)) };
  }
}

/**
 * EventDedupe on Maps, keyed by event id (claims' TTLs are recorded, not enforced): a claim keeps the
 * marker there, settle replaces it by SETTLED_MARKER, release deletes it if still `marker`'s.
 */
export class MapDedupe {
  readonly markers = new Map<string, string>();
  readonly ttls = new Map<string, number>();
  /** The marker of the claim that first took each id. */
  readonly claimedBy = new Map<string, string>();
  claimRounds = 0;
  failNext: Error | undefined;

  async claim(claims: readonly Claim[]): Promise<(string | null)[]> {
    this.claimRounds++;
    this.throwIfFailing();
    return claims.map((c) => {
      const previous = this.markers.get(c.eventId);
      if (previous !== undefined) return previous;
      this.markers.set(c.eventId, c.marker);
      this.ttls.set(c.eventId, c.ttlMs);
      if (!this.claimedBy.has(c.eventId)) this.claimedBy.set(c.eventId, c.marker);
      return null;
    });
  }

  async settle(events: readonly EventRef[]): Promise<void> {
    this.throwIfFailing();
    for (const e of events) {
      this.markers.set(e.eventId, SETTLED_MARKER);
    }
  }

  async release(events: readonly EventRef[], marker: string): Promise<void> {
    this.throwIfFailing();
    for (const e of events) if (this.markers.get(e.eventId) === marker) this.markers.delete(e.eventId);
  }

  private throwIfFailing(): void {
    const err = this.failNext;
    this.failNext = undefined;
    if (err) throw err;
  }
}

/** Records what was produced; fails the next write when told to. */
export class RecordingWriter {
  readonly writes: { topic: string; messages: readonly Message[]; offsets?: ConsumedOffsets; also?: readonly TopicMessages[] }[] = [];
  failNext: Error | undefined;

  async write(topic: string, messages: readonly Message[], offsets?: ConsumedOffsets, also: readonly TopicMessages[] = []): Promise<void> {
    const err = this.failNext;
    this.failNext = undefined;
    if (err) throw err;
    this.writes.push({ topic, messages, ...(offsets ? { offsets } : {}), ...(also.some((a) => a.messages.length > 0) ? { also } : {}) });
  }

  /** The canonical events produced, decoded from JsonEncoder's bytes. */
  produced(): CustomerEvent[] {
    return this.writes.flatMap((w) => w.messages.map((m) => JSON.parse(String(m.value)) as CustomerEvent));
  }
}

/** Records dead letters; fails the next publish when told to. */
export class RecordingDeadLetters {
  readonly topic = 'ns.customer.events.dlq';
  /** Letters published (HTTP path) or counted after their transaction committed (Kafka path). */
  readonly letters: DeadLetter[] = [];
  /** Letters encoded for a transaction, committed or not. */
  readonly encoded: DeadLetter[] = [];
  failNext: Error | undefined;

  async publish(letters: readonly DeadLetter[]): Promise<void> {
    const err = this.failNext;
    this.failNext = undefined;
    if (err) throw err;
    this.letters.push(...letters);
  }

  async encode(letters: readonly DeadLetter[]): Promise<Message[]> {
    const err = this.failNext;
    this.failNext = undefined;
    if (err) throw err;
    this.encoded.push(...letters);
    return letters.map((l) => ({ key: l.customer_id, value: JSON.stringify({ ...l, original_value: l.original_value?.toString() ?? null }) }));
  }

  count(letters: readonly DeadLetter[]): void {
    this.letters.push(...letters);
  }
}
