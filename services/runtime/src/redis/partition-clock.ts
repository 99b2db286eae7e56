import type { Redis } from 'ioredis';
import { TierstreamError } from '../errors';
import { RedisKeys } from './keys';

export interface ClockReading {
  /** The partition's watermark before this batch: as of the last batch that ended below it. */
  readonly watermarkBefore: number;
  /** Customers that earlier attempts of this batch (offsets >= its first) re-evaluated. */
  readonly sweptBefore: readonly string[];
}

export interface ClockWrite {
  readonly partition: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly watermark: number;
  readonly swept: readonly string[];
  /** Customer → next due event time, or undefined to leave the index. */
  readonly due: ReadonlyMap<string, number | undefined>;
}

/**
 * Per input partition: the event-time watermark and the due-time index that drive
 * re-evaluation without new events. The watermark is kept per batch (by last offset), so a
 * batch fetched again after a crash starts from the same time and sweeps the same customers.
 * Both keys of a partition share one hash tag (one slot on Redis Cluster).
 */
export class PartitionClock {
  private readonly keys: RedisKeys;

  constructor(
    private readonly redis: Redis,
    private readonly topic: string,
    namespace = '',
  ) {
    this.keys = new RedisKeys(namespace);
  }

  async read(partition: number, firstOffset: number): Promise<ClockReading> {
    const fields = await this.redis.hgetall(this.keys.partitionClock(this.topic, partition)).catch((err: Error) => {
      throw new TierstreamError('TS_ERR_REDIS', `reading the clock of partition ${partition}: ${err.message}`, { cause: err, retriable: true });
    });
    let before = -1;
    let watermarkBefore = 0;
    const sweptBefore = new Set<string>();
    for (const [field, value] of Object.entries(fields)) {
      const [kind, offsetText] = field.split(':');
      const offset = Number(offsetText);
      if (kind === 'wm' && offset < firstOffset && offset > before) {
        before = offset;
        watermarkBefore = Number(value);
      }
      if (kind === 'swept' && offset >= firstOffset) for (const id of JSON.parse(value) as string[]) sweptBefore.add(id);
    }
    return { watermarkBefore, sweptBefore: [...sweptBefore] };
  }

  /** Customers of the partition due at or before `watermark`, earliest first. */
  async due(partition: number, watermark: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.dueIndex(this.topic, partition), '-inf', watermark, 'LIMIT', 0, limit);
  }

  /**
   * Records this batch's watermark and sweep, and the customers' next due times. Written
   * before their states: an entry that ends up early only costs a sweep that finds nothing.
   */
  async write(w: ClockWrite): Promise<void> {
    const clock = this.keys.partitionClock(this.topic, w.partition);
    const index = this.keys.dueIndex(this.topic, w.partition);
    const pipeline = this.redis.pipeline();
    const stale = (await this.redis.hkeys(clock)).filter((f) => Number(f.split(':')[1]) < w.firstOffset);
    // Keep the newest entry below this batch: a replay of this batch reads its watermark.
    const newestStale = stale.filter((f) => f.startsWith('wm:')).sort((a, b) => Number(b.split(':')[1]) - Number(a.split(':')[1]))[0];
    const drop = stale.filter((f) => f !== newestStale);
    if (drop.length > 0) pipeline.hdel(clock, ...drop);
    pipeline.hset(clock, `wm:${w.lastOffset}`, String(w.watermark));
    if (w.swept.length > 0) pipeline.hset(clock, `swept:${w.lastOffset}`, JSON.stringify(w.swept));
    for (const [customer, at] of w.due) {
      if (at === undefined) pipeline.zrem(index, customer);
      else pipeline.zadd(index, at, customer);
    }
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed?.[0]) throw new TierstreamError('TS_ERR_REDIS', `writing the clock of partition ${w.partition}: ${failed[0].message}`, { cause: failed[0], retriable: true });
  }
}
