/**
 * Test doubles of ingest's adapters, for unit tests of the batch and request flows.
 * Not part of the package build (tsconfig excludes src/testing).
 */
import type { CustomerEvent } from '@tierstream/domain';
import { createLogger, WorkerMetrics, type DeadLetter, type Logger } from '@tierstream/runtime';
import type { Message } from 'kafkajs';
import type { Encoded } from '../canonical-encoder';
import type { Claim } from '../dedupe';
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

/** Redis's `SET key marker NX GET`, `SET` and `DEL` on a Map (TTLs are recorded, not enforced). */
export class MapDedupe {
  readonly markers = new Map<string, string>();
  readonly ttls = new Map<string, number>();
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
      return null;
    });
  }

  async settle(eventIds: readonly string[], marker: string, ttlMs: number): Promise<void> {
    this.throwIfFailing();
    for (const id of eventIds) {
      this.markers.set(id, marker);
      this.ttls.set(id, ttlMs);
    }
  }

  async release(eventIds: readonly string[]): Promise<void> {
    this.throwIfFailing();
    for (const id of eventIds) this.markers.delete(id);
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
