import type { Redis } from 'ioredis';
import type { CustomerState, TierChanged } from '@tierstream/domain';
import { TierstreamError } from '../errors';
import { RedisKeys } from './keys';
import { defineLuaScripts } from './redis-scripts';

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

const SCRIPT_VERSION = '1';

/**
 * The only reader and writer of customer state in Redis: one pipelined round trip loads
 * a batch's customers, one commits them (Lua compare-and-set on the fence).
 */
export class CustomerStore {
  private readonly keys: RedisKeys;

  constructor(
    private readonly redis: Redis,
    namespace = '',
  ) {
    this.keys = new RedisKeys(namespace);
    defineLuaScripts(redis, SCRIPT_VERSION);
  }

  async load(customerIds: readonly string[]): Promise<LoadedCustomer[]> {
    if (customerIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of customerIds) pipeline.hmget(this.keys.customerState(id), 'fence', 'record');
    const results = (await pipeline.exec()) ?? [];
    return customerIds.map((customerId, i) => {
      const [err, value] = results[i] ?? [new Error('no reply'), null];
      if (err) throw new TierstreamError('TS_ERR_REDIS', `loading ${customerId}: ${err.message}`, { cause: err, retriable: true });
      const [fence, record] = value as [string | null, string | null];
      return { customerId, fence: fence ?? '', record: record ? (JSON.parse(record) as CustomerRecord) : undefined };
    });
  }

  /** Writes every record or throws; a fence conflict is retriable (the batch is replayed). */
  async commit(writes: readonly CustomerWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const pipeline = this.redis.pipeline();
    const command = `commitCustomer_${SCRIPT_VERSION}`;
    for (const w of writes) {
      (pipeline as unknown as Record<string, (...args: string[]) => unknown>)[command]?.(this.keys.customerState(w.customerId), w.expectedFence, w.newFence, JSON.stringify(w.record));
    }
    const results = (await pipeline.exec()) ?? [];
    const conflicts: string[] = [];
    results.forEach(([err, value], i) => {
      if (err) throw new TierstreamError('TS_ERR_REDIS', `committing ${writes[i]?.customerId}: ${err.message}`, { cause: err, retriable: true });
      if (value === -1) conflicts.push(writes[i]?.customerId ?? '?');
    });
    if (conflicts.length > 0) {
      throw new TierstreamError('TS_ERR_FENCE_CONFLICT', `customer state changed under us (another worker wrote it): ${conflicts.slice(0, 5).join(', ')}`, {
        retriable: true,
        context: { customers: conflicts },
      });
    }
  }

  /** One customer's record, for `tierctl customer`. */
  async get(customerId: string): Promise<LoadedCustomer> {
    const [loaded] = await this.load([customerId]);
    return loaded as LoadedCustomer;
  }
}
