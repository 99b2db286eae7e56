import { TierstreamError, type Redis, type RedisKeys } from '@tierstream/runtime';

/**
 * Deduplication by event id over a bounded horizon. One Redis key per event id
 * (RedisKeys.eventSeen), claimed with `SET key marker PX ttl NX GET`: atomic, and the GET
 * tells who holds the id when the claim fails. A batch's claims go in one pipeline (one
 * round trip). Marker values (docs/ingest.md):
 *   `<topic>:<partition>:<offset>`  the raw record that claimed it (Kafka path)
 *   `pending:<token>`                an HTTP request is producing it (short TTL)
 *   `done:<token>`                   an HTTP request produced it (horizon TTL)
 */

export const PENDING_PREFIX = 'pending:';
export const DONE_PREFIX = 'done:';

export const recordMarker = (topic: string, partition: number, offset: string): string => `${topic}:${partition}:${offset}`;
export const pendingMarker = (token: string): string => `${PENDING_PREFIX}${token}`;
export const doneMarker = (token: string): string => `${DONE_PREFIX}${token}`;

/**
 * What a raw record's claim found. `replay`: the marker is the record's own coordinates,
 * so an earlier attempt at this very record claimed it and did not commit (its transaction
 * was aborted or never committed): produce again. `pending`: an HTTP request holds it.
 */
export type RecordClaim = 'new' | 'replay' | 'duplicate' | 'pending';

export function classifyRecordClaim(previous: string | null, own: string): RecordClaim {
  if (previous === null) return 'new';
  if (previous === own) return 'replay';
  if (previous.startsWith(PENDING_PREFIX)) return 'pending';
  return 'duplicate';
}

/** What an HTTP request's claim found: a `pending` marker of another request is in flight. */
export type RequestClaim = 'new' | 'duplicate' | 'in_flight';

export function classifyRequestClaim(previous: string | null): RequestClaim {
  if (previous === null) return 'new';
  return previous.startsWith(PENDING_PREFIX) ? 'in_flight' : 'duplicate';
}

export interface Claim {
  readonly eventId: string;
  readonly marker: string;
  readonly ttlMs: number;
}

export class EventDedupe {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** Claims every event id in one round trip; returns, per claim, the marker that was already there (null: claimed now). */
  async claim(claims: readonly Claim[]): Promise<(string | null)[]> {
    if (claims.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const c of claims) pipeline.set(this.keys.eventSeen(c.eventId), c.marker, 'PX', c.ttlMs, 'NX', 'GET');
    const results = await this.run(pipeline, 'claiming event ids');
    return results.map((r) => (typeof r === 'string' ? r : null));
  }

  /** Replaces HTTP claims by their final marker, kept for the dedupe horizon. */
  async settle(eventIds: readonly string[], marker: string, ttlMs: number): Promise<void> {
    if (eventIds.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const id of eventIds) pipeline.set(this.keys.eventSeen(id), marker, 'PX', ttlMs);
    await this.run(pipeline, 'settling event ids');
  }

  /** Gives claims up (their events were not produced), so a retry is not taken for a duplicate. */
  async release(eventIds: readonly string[]): Promise<void> {
    if (eventIds.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const id of eventIds) pipeline.del(this.keys.eventSeen(id));
    await this.run(pipeline, 'releasing event ids');
  }

  private async run(pipeline: ReturnType<Redis['pipeline']>, what: string): Promise<unknown[]> {
    let results: [Error | null, unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (err) {
      throw new TierstreamError('TS_ERR_INGEST_DEDUPE', `${what} failed: ${(err as Error).message}`, { cause: err, retriable: true });
    }
    if (results === null) throw new TierstreamError('TS_ERR_INGEST_DEDUPE', `${what} failed: the pipeline was discarded`, { retriable: true });
    const failed = results.find(([err]) => err !== null)?.[0];
    if (failed) throw new TierstreamError('TS_ERR_INGEST_DEDUPE', `${what} failed: ${failed.message}`, { cause: failed, retriable: true });
    return results.map(([, value]) => value);
  }
}
