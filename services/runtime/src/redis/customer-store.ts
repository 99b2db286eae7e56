import type { Redis } from 'ioredis';
import type { CustomerState, TierChanged } from '@tierstream/domain';
import { TierstreamError } from '../errors';
import { RedisKeys } from './keys';
import { decodeCustomerRecord, encodeCustomerRecord } from './customer-record-codec';
import { RedisScripts } from './redis-scripts';

/** A transition produced but maybe not yet committed to Kafka, with the offset that caused it. */
export interface PendingTransition {
  readonly partition: number;
  readonly offset: number;
  readonly event: TierChanged;
}

/** A command rejected by the state it met (an override that cannot apply), dead-lettered with the batch. */
export interface PendingRejection {
  readonly partition: number;
  readonly offset: number;
  readonly code: string;
  readonly message: string;
}

/** What Redis keeps per customer: the domain state, the fence and the pending transitions. */
export interface CustomerRecord {
  readonly state: CustomerState;
  readonly pending: readonly PendingTransition[];
  /**
   * Rejections that depended on the state (unlike a late event's, which follow from the record
   * and the watermark): a replayed batch cannot decide them again on the state it loads, so they
   * are kept, like pending transitions, until a later batch shows them committed.
   */
  readonly rejections?: readonly PendingRejection[];
}

export interface LoadedCustomer {
  readonly customerId: string;
  /** The applied-offset fence as stored ('' for a new customer): the CAS token for commit. */
  readonly fence: string;
  readonly record: CustomerRecord | undefined;
}

export interface CustomerWrite {
  readonly customerId: string;
  readonly expectedFence: string;
  readonly newFence: string;
  readonly record: CustomerRecord;
}

/**
 * Gives the caller's event loop a turn between two chunks of a large load or commit: parsing
 * or serialising thousands of records at once would hold it for hundreds of milliseconds.
 */
export type Pace = () => Promise<void>;

/** Customers per pipeline: the pipelines of one call are sent back to back, so latency stays one round trip. */
const CHUNK = 250;

type Replies = { results: [Error | null, unknown][] } | { err: Error };

type Pipeline = ReturnType<Redis['pipeline']>;

/** Separates a stored value's head (fence, batch token) from its bytes. */
const BAR = 0x7c;

/** The reply to command `i` of a pipeline, or TS_ERR_REDIS (retriable) naming what it was for. */
function replyOf(replies: Replies | undefined, i: number, what: string): unknown {
  const reply = replies ?? { err: new Error('no reply') };
  const [err, value] = 'err' in reply ? [reply.err, null] : (reply.results[i] ?? [new Error('no reply'), null]);
  if (err) throw new TierstreamError('TS_ERR_REDIS', `${what}: ${err.message}`, { cause: err, retriable: true });
  return value;
}

const chunksOf = <T>(items: readonly T[]): T[][] => Array.from({ length: Math.ceil(items.length / CHUNK) }, (_, i) => items.slice(i * CHUNK, (i + 1) * CHUNK));

/**
 * The only reader and writer of customer state in Redis: pipelined round trips load a
 * batch's customers and commit them (Lua compare-and-set on the fence).
 */
export class CustomerStore {
  private readonly keys: RedisKeys;
  private readonly scripts: RedisScripts;

  constructor(
    private readonly redis: Redis,
    namespace = '',
  ) {
    this.keys = new RedisKeys(namespace);
    this.scripts = new RedisScripts(redis);
  }

  /** Sends one pipeline per chunk, back to back (pacing between them); every reply settles, none is left unhandled. */
  private async send<T>(chunks: readonly T[][], add: (pipeline: Pipeline, item: T) => void, pace?: Pace): Promise<Replies[]> {
    const replies: Promise<Replies>[] = [];
    for (const chunk of chunks) {
      const pipeline = this.redis.pipeline();
      for (const item of chunk) add(pipeline, item);
      replies.push(pipeline.exec().then((results) => ({ results: results ?? [] }), (err: unknown) => ({ err: err as Error })));
      if (pace) await pace();
    }
    return Promise.all(replies);
  }

  async load(customerIds: readonly string[], pace?: Pace): Promise<LoadedCustomer[]> {
    if (customerIds.length === 0) return [];
    const chunks = chunksOf(customerIds);
    // Record and pending of one customer in one MGET (one hash tag: one slot).
    const replies = await this.send(chunks, (pipeline, id) => pipeline.mgetBuffer(this.keys.customerRecord(id), this.keys.customerPending(id)), pace);
    const loaded: LoadedCustomer[] = [];
    const withoutRecord: number[] = [];
    for (const [c, chunk] of chunks.entries()) {
      for (const [i, customerId] of chunk.entries()) {
        const [record, pending] = replyOf(replies[c], i, `loading ${customerId}`) as [Buffer | null, Buffer | null];
        if (!record) {
          withoutRecord.push(loaded.length);
          loaded.push({ customerId, fence: '', record: undefined });
          continue;
        }
        const bar = record.indexOf(BAR);
        if (bar < 0) throw new TierstreamError('TS_ERR_STATE_FORMAT', `the stored record of ${customerId} has no fence`, { context: { customerId } });
        const stored = record.subarray(bar + 1);
        loaded.push({ customerId, fence: record.toString('latin1', 0, bar), record: decodeCustomerRecord(customerId, stored, pending && pending.subarray(pending.indexOf(BAR) + 1)) });
      }
      if (pace) await pace();
    }
    if (withoutRecord.length > 0) await this.loadStateHashes(loaded, withoutRecord, pace);
    return loaded;
  }

  /** Customers without a record key: new, or kept in the hash of the layout before (read as it is; the commit moves it). */
  private async loadStateHashes(loaded: LoadedCustomer[], at: readonly number[], pace?: Pace): Promise<void> {
    const chunks = chunksOf(at);
    const replies = await this.send(chunks, (pipeline, i) => pipeline.hmgetBuffer(this.keys.customerStateHash((loaded[i] as LoadedCustomer).customerId), 'fence', 'record', 'pending'), pace);
    for (const [c, chunk] of chunks.entries()) {
      for (const [j, i] of chunk.entries()) {
        const { customerId } = loaded[i] as LoadedCustomer;
        const [fence, record, pending] = replyOf(replies[c], j, `loading ${customerId}`) as [Buffer | null, Buffer | null, Buffer | null];
        if (record) loaded[i] = { customerId, fence: fence?.toString('utf8') ?? '', record: decodeCustomerRecord(customerId, record, pending) };
      }
    }
  }

  /**
   * Writes every record or throws; a fence conflict is retriable (the batch is replayed).
   * `batch` names the batch (`<partition>:<first>-<last>`) whose pending transitions the
   * records carry, for `settle` once its transaction has committed.
   */
  async commit(writes: readonly CustomerWrite[], pace?: Pace, batch = ''): Promise<void> {
    if (writes.length === 0) return;
    const chunks = chunksOf(writes);
    const replies = await this.send(
      chunks,
      (pipeline, w) => {
        const stored = encodeCustomerRecord(w.record);
        const keys = { record: this.keys.customerRecord(w.customerId), pending: this.keys.customerPending(w.customerId), stateHash: this.keys.customerStateHash(w.customerId) };
        this.scripts.commitCustomer(pipeline, keys, w.expectedFence, w.newFence, stored.record, stored.pending, batch);
      },
      pace,
    );
    const conflicts: string[] = [];
    for (const [c, chunk] of chunks.entries()) {
      for (const [i, w] of chunk.entries()) if (RedisScripts.commitReply(replyOf(replies[c], i, `committing ${w.customerId}`)) === 'fence-moved') conflicts.push(w.customerId);
    }
    if (conflicts.length > 0) {
      throw new TierstreamError('TS_ERR_FENCE_CONFLICT', `customer state changed under us (another worker wrote it): ${conflicts.slice(0, 5).join(', ')}`, {
        retriable: true,
        context: { customers: conflicts },
      });
    }
  }

  /**
   * Removes the pending transitions and rejections that batch `batch` wrote, from each of
   * these customers whose record still holds them: call once the batch's Kafka transaction
   * has committed. Returns how many were removed. A failure leaves them for the next batch of
   * the customer to drop (more bytes meanwhile, nothing else).
   */
  async settle(customerIds: readonly string[], batch: string, pace?: Pace): Promise<number> {
    if (customerIds.length === 0) return 0;
    const chunks = chunksOf(customerIds);
    const replies = await this.send(chunks, (pipeline, id) => this.scripts.settlePending(pipeline, this.keys.customerPending(id), batch), pace);
    let removed = 0;
    for (const [c, chunk] of chunks.entries()) {
      for (const [i, customerId] of chunk.entries()) if (RedisScripts.settleReply(replyOf(replies[c], i, `settling ${customerId}`))) removed++;
    }
    return removed;
  }

  /** One customer's record, for `tierctl customer`. */
  async get(customerId: string): Promise<LoadedCustomer> {
    const [loaded] = await this.load([customerId]);
    return loaded as LoadedCustomer;
  }
}
