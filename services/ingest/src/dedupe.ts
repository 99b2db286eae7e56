import { hash } from 'node:crypto';
import { RedisScripts, TierstreamError, type Redis, type RedisKeys } from '@tierstream/runtime';

/**
 * Deduplication by (customer, event id) over a bounded horizon, in the customer's hash slot
 * (docs/ingest.md#deduplication-and-redelivery). One string per customer, `ts:{c:<id>}:seen`,
 * changed only by `dedupe-1.lua`: settled ids as 18-byte entries (2-byte time bucket,
 * 16-byte digest), then the claims not settled yet with their markers and deadlines. Once
 * the event is on the topic (the Kafka transaction committed, the HTTP produce acknowledged)
 * its claim is settled into an entry.
 * Marker values:
 *   `<topic>:<partition>:<offset>`  the raw record that claimed it (Kafka path)
 *   `pending:<token>`                an HTTP request is producing it (short TTL)
 *   `seen`                           settled: the event was produced within the horizon
 * A batch's claims go in one pipeline (one script call per customer: one round trip).
 */

export const PENDING_PREFIX = 'pending:';
export const DONE_PREFIX = 'done:';
/** What a claim finds for an id settled within the horizon. */
export const SETTLED_MARKER = 'seen';

export const recordMarker = (topic: string, partition: number, offset: string): string => `${topic}:${partition}:${offset}`;
export const pendingMarker = (token: string): string => `${PENDING_PREFIX}${token}`;
/** The settled marker of the layout before the per-customer one (read in legacy keys only). */
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

// --- The packed layout of `ts:{c:<id>}:seen` (mirrored by dedupe-2.lua) ---

export const HOUR_MS = 3_600_000;
export const DIGEST_BYTES = 16;
export const BUCKET_BYTES = 2;
export const ENTRY_BYTES = BUCKET_BYTES + DIGEST_BYTES;
/** Buckets wrap at 2^16; an age of 2^15 or more is a bucket ahead of the clock, never expired. */
const BUCKET_SPACE = 65_536;
const AHEAD = 32_768;

/**
 * 128 bits of SHA-256 of the event id. A false duplicate takes two distinct ids of one
 * customer with equal digests within one horizon: for n ids, odds about n²/2^129 (a customer
 * with a million ids in a week: 1.5·10^-27). SHA-256 has no known collision attack, so an
 * upstream cannot make one on purpose either.
 */
export const eventDigest = (eventId: string): Buffer => hash('sha256', eventId, 'buffer').subarray(0, DIGEST_BYTES);

export const bucketOf = (ms: number, bucketMs: number): number => Math.floor(ms / bucketMs) % BUCKET_SPACE;
/** Buckets a settled id is kept: at least the horizon, at most one bucket more. */
export const horizonBuckets = (horizonMs: number, bucketMs: number): number => Math.ceil(horizonMs / bucketMs);
export const bucketAge = (nowBucket: number, bucket: number): number => (((nowBucket - bucket) % BUCKET_SPACE) + BUCKET_SPACE) % BUCKET_SPACE;
export const isExpired = (age: number, horizon: number): boolean => age > horizon && age < AHEAD;

export interface SeenEntry {
  readonly bucket: number;
  readonly digest: Buffer;
}

export interface OpenClaim {
  readonly digest: Buffer;
  readonly deadlineMs: number;
  readonly marker: string;
}

/** The customer's string: its settled entries and its open claims. */
export interface SeenSet {
  readonly settled: readonly SeenEntry[];
  readonly claims: readonly OpenClaim[];
}

const HEADER_BYTES = 4;
const DEADLINE_BYTES = 6;
const MARKER_LENGTH_BYTES = 2;

const corrupt = (why: string): TierstreamError => new TierstreamError('TS_ERR_INGEST_DEDUPE', `a dedupe set is corrupt: ${why}`, { retriable: false });

export function decodeSeen(packed: Buffer): SeenSet {
  if (packed.length === 0) return { settled: [], claims: [] };
  if (packed.length < HEADER_BYTES) throw corrupt(`${packed.length} bytes, shorter than its header`);
  const size = packed.readUInt32BE(0);
  if (size % ENTRY_BYTES !== 0 || HEADER_BYTES + size > packed.length) throw corrupt(`a settled region of ${size} bytes in ${packed.length}`);
  const settled: SeenEntry[] = [];
  for (let at = HEADER_BYTES; at < HEADER_BYTES + size; at += ENTRY_BYTES) {
    settled.push({ bucket: packed.readUInt16BE(at), digest: packed.subarray(at + BUCKET_BYTES, at + ENTRY_BYTES) });
  }
  const claims: OpenClaim[] = [];
  for (let at = HEADER_BYTES + size; at < packed.length; ) {
    const fixed = DIGEST_BYTES + DEADLINE_BYTES + MARKER_LENGTH_BYTES;
    if (at + fixed > packed.length) throw corrupt(`a claim cut short at byte ${at}`);
    const length = packed.readUInt16BE(at + DIGEST_BYTES + DEADLINE_BYTES);
    if (at + fixed + length > packed.length) throw corrupt(`a marker cut short at byte ${at}`);
    claims.push({
      digest: packed.subarray(at, at + DIGEST_BYTES),
      deadlineMs: packed.readUIntBE(at + DIGEST_BYTES, DEADLINE_BYTES),
      marker: packed.toString('utf8', at + fixed, at + fixed + length),
    });
    at += fixed + length;
  }
  return { settled, claims };
}

export function encodeSeen(set: SeenSet): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32BE(set.settled.length * ENTRY_BYTES);
  const parts: Buffer[] = [header];
  for (const e of set.settled) {
    const entry = Buffer.alloc(ENTRY_BYTES);
    entry.writeUInt16BE(e.bucket);
    e.digest.copy(entry, BUCKET_BYTES);
    parts.push(entry);
  }
  for (const c of set.claims) {
    const marker = Buffer.from(c.marker, 'utf8');
    const fixed = Buffer.alloc(DEADLINE_BYTES + MARKER_LENGTH_BYTES);
    fixed.writeUIntBE(c.deadlineMs, 0, DEADLINE_BYTES);
    fixed.writeUInt16BE(marker.length, DEADLINE_BYTES);
    parts.push(c.digest, fixed, marker);
  }
  return Buffer.concat(parts);
}

/** Entries are appended in time order, so the expired ones are a prefix: dropped up to the first live one. */
export function pruneSeen(entries: readonly SeenEntry[], nowBucket: number, horizon: number): SeenEntry[] {
  let from = 0;
  while (from < entries.length && isExpired(bucketAge(nowBucket, entries[from]?.bucket ?? nowBucket), horizon)) from++;
  return entries.slice(from);
}

// --- The store ---

export interface EventRef {
  readonly customerId: string;
  readonly eventId: string;
}

export interface Claim extends EventRef {
  readonly marker: string;
  readonly ttlMs: number;
}

export interface EventDedupeOptions {
  /** INGEST_DEDUPE_HORIZON_HOURS: how long a settled id is remembered. */
  readonly horizonMs: number;
  /** The time bucket of settled entries (an hour; shorter only in tests). */
  readonly bucketMs?: number;
  /** INGEST_DEDUPE_READ_LEGACY: also read the one-key-per-id markers of older releases for a horizon after the upgrade. */
  readonly readLegacy?: boolean;
  readonly clock?: () => number;
}

/** Legacy markers live at most a horizon from their write; old replicas may write a while after the first new start. */
const LEGACY_SLACK_MS = 24 * HOUR_MS;

type Pipeline = ReturnType<Redis['pipeline']>;
/** Ids whose digests are kept between a claim and its settle: several batches' worth. */
const DIGEST_MEMO = 50_000;

export class EventDedupe {
  private readonly bucketMs: number;
  private readonly horizon: string;
  private readonly clock: () => number;
  /** Until when claims also read legacy keys (0: not at all); set by start(). */
  private legacyUntil = 0;
  /** Digests of recent claims, so their settle does not hash again (a profile showed hashing at 7% of ingest's CPU). */
  private readonly digests = new Map<string, Buffer>();
  private readonly scripts: RedisScripts;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly options: EventDedupeOptions,
  ) {
    this.bucketMs = options.bucketMs ?? HOUR_MS;
    this.horizon = String(horizonBuckets(options.horizonMs, this.bucketMs));
    this.clock = options.clock ?? Date.now;
    this.scripts = new RedisScripts(redis);
  }

  /**
   * Notes when this namespace first ran this layout (kept if already there), which decides
   * how long legacy keys are read: one horizon from then, plus a day for replicas of the
   * old release still running during a rolling upgrade.
   */
  async start(): Promise<void> {
    if (!this.options.readLegacy) return;
    const key = this.keys.dedupeLayoutSince();
    let since: number;
    try {
      await this.redis.set(key, String(this.clock()), 'NX');
      since = Number(await this.redis.get(key));
    } catch (err) {
      throw new TierstreamError('TS_ERR_INGEST_DEDUPE', `reading ${key} failed: ${(err as Error).message}`, { cause: err, retriable: true });
    }
    if (!Number.isFinite(since)) throw new TierstreamError('TS_ERR_INGEST_DEDUPE', `${key} holds no time in milliseconds`, { retriable: false });
    this.legacyUntil = since + this.options.horizonMs + LEGACY_SLACK_MS;
  }

  /** True while claims also read the one-key-per-id markers of older releases. */
  readsLegacyKeys(): boolean {
    return this.clock() < this.legacyUntil;
  }

  /**
   * Claims every event id in one round trip; returns, per claim, the marker that was already
   * there (null: claimed now). While legacy keys are read, a legacy marker counts as the
   * previous one; a claim made now beside it is given up again unless it is the record's own.
   */
  async claim(claims: readonly Claim[]): Promise<(string | null)[]> {
    if (claims.length === 0) return [];
    const byCustomer = groupBy(claims.map((_, n) => n), (n) => claims[n]?.customerId ?? '');
    const legacy = this.readsLegacyKeys();
    const pipeline = this.redis.pipeline();
    for (const [customerId, indexes] of byCustomer) {
      const args = indexes.flatMap((n) => {
        const c = claims[n] as Claim;
        return [this.digestOf(c.eventId), c.marker, String(c.ttlMs)];
      });
      this.script(pipeline, customerId, 'claim', ...args);
    }
    if (legacy) for (const c of claims) pipeline.get(this.keys.eventSeen(c.eventId));
    const results = await this.run(pipeline, 'claiming event ids');

    const previous: (string | null)[] = claims.map(() => null);
    let r = 0;
    for (const indexes of byCustomer.values()) {
      const reply = results[r++];
      if (!Array.isArray(reply) || reply.length !== indexes.length) {
        throw new TierstreamError('TS_ERR_INGEST_DEDUPE', `claiming event ids failed: the script answered ${JSON.stringify(reply)}`, { retriable: true });
      }
      indexes.forEach((n, k) => (previous[n] = typeof reply[k] === 'string' ? reply[k] : null));
    }
    if (!legacy) return previous;
    const giveUp: Claim[] = [];
    claims.forEach((c, n) => {
      const old = results[r++];
      if (typeof old !== 'string' || previous[n] !== null) return;
      previous[n] = old;
      if (old !== c.marker) giveUp.push(c);
    });
    if (giveUp.length > 0) await this.releaseClaims(giveUp);
    return previous;
  }

  /** Turns the claims of produced events into settled entries, remembered for the horizon. */
  async settle(events: readonly EventRef[]): Promise<void> {
    if (events.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [customerId, ids] of groupBy(events, (e) => e.customerId)) {
      this.script(pipeline, customerId, 'settle', ...ids.map((e) => this.digestOf(e.eventId)));
    }
    await this.run(pipeline, 'settling event ids');
  }

  /** Gives claims up (their events were not produced), so a retry is not taken for a duplicate; only those still held by `marker`. */
  async release(events: readonly EventRef[], marker: string): Promise<void> {
    await this.releaseClaims(events.map((e) => ({ ...e, marker, ttlMs: 0 })));
  }

  private async releaseClaims(claims: readonly Claim[]): Promise<void> {
    if (claims.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const group of groupBy(claims, (c) => `${c.customerId}\n${c.marker}`).values()) {
      const first = group[0] as Claim;
      this.script(pipeline, first.customerId, 'release', first.marker, ...group.map((c) => this.digestOf(c.eventId)));
    }
    await this.run(pipeline, 'releasing event ids');
  }

  private digestOf(eventId: string): Buffer {
    let digest = this.digests.get(eventId);
    if (digest === undefined) {
      if (this.digests.size >= DIGEST_MEMO) this.digests.clear();
      digest = eventDigest(eventId);
      this.digests.set(eventId, digest);
    }
    return digest;
  }

  private script(pipeline: Pipeline, customerId: string, op: 'claim' | 'settle' | 'release', ...args: (string | Buffer)[]): void {
    this.scripts.dedupe(pipeline, this.keys.customerSeen(customerId), op, this.horizon, String(this.bucketMs), args);
  }

  private async run(pipeline: Pipeline, what: string): Promise<unknown[]> {
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

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = out.get(key);
    if (group) group.push(item);
    else out.set(key, [item]);
  }
  return out;
}
