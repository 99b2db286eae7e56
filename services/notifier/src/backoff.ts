import type { Backoff } from './subscribers';

/** The cap of the delay after the `failures`-th failed attempt: initialMs doubling, at most maxMs. */
export function backoffCeiling(failures: number, backoff: Backoff): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 40);
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** exponent);
}

/**
 * Exponential backoff with full jitter (a uniform delay between 0 and the ceiling), so
 * retries of many deliveries spread out instead of arriving together. `failures` counts
 * the failed attempts so far, from 1. A receiver's Retry-After wins, capped at maxMs.
 */
export function backoffDelay(failures: number, backoff: Backoff, random: () => number = Math.random, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(Math.max(retryAfterMs, 0), backoff.maxMs);
  return Math.floor(random() * backoffCeiling(failures, backoff));
}
