import type { Redis } from '@tierstream/runtime';
import { RedisKeys } from '@tierstream/runtime';

export interface DeliveryKey {
  readonly subscriber: string;
  readonly transitionId: string;
}

/**
 * Remembers which transitions were delivered to which subscriber (RedisKeys.delivered,
 * with a TTL), so a batch fetched again after a crash, rebalance or failed DLQ write, or a
 * transition produced twice, is not delivered twice.
 */
export class DeliveryMemory {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly ttlMs: number,
  ) {}

  /** Which of `items` were delivered already: one pipelined round trip. */
  async delivered(items: readonly DeliveryKey[]): Promise<boolean[]> {
    if (items.length === 0) return [];
    const pipeline = this.redis.pipeline();
    // One EXISTS per key: the keys hash to different slots, so one multi-key EXISTS would not run on a cluster.
    for (const item of items) pipeline.exists(this.keys.delivered(item.subscriber, item.transitionId));
    const replies = (await pipeline.exec()) ?? [];
    if (replies.length !== items.length) throw new Error(`redis answered ${replies.length} of ${items.length} EXISTS in a pipeline`);
    return replies.map(([err, value]) => {
      if (err) throw err;
      return value === 1;
    });
  }

  /** Marks one delivery done (value: when, epoch millis), kept for the memory's TTL. */
  async remember(item: DeliveryKey, deliveredAt: number): Promise<void> {
    await this.redis.set(this.keys.delivered(item.subscriber, item.transitionId), String(deliveredAt), 'PX', this.ttlMs);
  }
}
