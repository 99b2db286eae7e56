import type { Redis } from '@tierstream/runtime';

/** One id to remember: the customer it belongs to, and the raw record that claimed it. */
export interface BenchClaim {
  readonly customerId: string;
  readonly eventId: string;
  readonly marker: string;
}

/**
 * The dedupe scheme of tierstream up to commit 0f68b08, kept here so its memory can be
 * measured beside the current one: one key per event id (`<ns>ts:{e:<id>}:seen`), claimed
 * with `SET key marker PX <horizon> NX GET` in one pipeline per batch, exactly as the old
 * services/ingest/src/dedupe.ts did.
 */
export async function rememberLegacy(redis: Redis, namespace: string, claims: readonly BenchClaim[], horizonMs: number): Promise<void> {
  const pipeline = redis.pipeline();
  for (const c of claims) pipeline.set(`${namespace}ts:{e:${c.eventId}}:seen`, c.marker, 'PX', horizonMs, 'NX', 'GET');
  const results = await pipeline.exec();
  const failed = results?.find(([err]) => err !== null)?.[0];
  if (failed) throw failed;
}
