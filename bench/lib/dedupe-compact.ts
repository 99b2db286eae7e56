import { RedisKeys, type Redis } from '@tierstream/runtime';
import { EventDedupe } from '@tierstream/ingest/dist/dedupe';
import type { BenchClaim } from './dedupe-legacy';

/** Remembers ids as the Kafka path does with the per-customer layout: claim, then settle (after the commit). */
export interface CompactRunner {
  remember(claims: readonly BenchClaim[]): Promise<void>;
}

export function compactScheme(redis: Redis, namespace: string, horizonMs: number): Promise<CompactRunner> {
  const dedupe = new EventDedupe(redis, new RedisKeys(namespace), { horizonMs, readLegacy: false });
  return Promise.resolve({
    async remember(claims) {
      const previous = await dedupe.claim(claims.map((c) => ({ ...c, ttlMs: horizonMs })));
      const fresh = claims.filter((_, n) => previous[n] === null);
      if (fresh.length !== claims.length) throw new Error(`${claims.length - fresh.length} fresh ids were taken for duplicates`);
      await dedupe.settle(fresh);
    },
  });
}
