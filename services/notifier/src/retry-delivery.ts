import { setTimeout as sleepFor } from 'node:timers/promises';
import { TierstreamError } from '@tierstream/runtime';
import { backoffDelay } from './backoff';
import type { Backoff } from './subscribers';
import type { AttemptResult } from './webhook-attempt';

/** How a delivery to one subscriber settled. */
export type DeliveryOutcome =
  | { readonly kind: 'delivered'; readonly attempts: number }
  | { readonly kind: 'rejected'; readonly attempts: number; readonly status: number; readonly reason: string }
  | { readonly kind: 'exhausted'; readonly attempts: number; readonly reason: string };

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly backoff: Backoff;
}

export interface RetryHooks {
  /** Aborted when the batch is left (stop, revoked partition): no new attempt starts. */
  readonly signal?: AbortSignal;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random?: () => number;
  readonly onAttempt?: (result: AttemptResult, attempt: number) => void;
  readonly onRetry?: (result: AttemptResult & { kind: 'retry' }, attempt: number, delayMs: number) => void;
}

/** Raised when a delivery is left unsettled; the batch is then fetched again. */
export class DeliveryAbortedError extends TierstreamError {
  constructor(reason: string) {
    super('TS_ERR_DELIVERY_ABORTED', reason, { retriable: true });
  }
}

const defaultSleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
  await sleepFor(ms, undefined, signal ? { signal } : undefined);
};

/** What the abort carries, or a DeliveryAbortedError when it carries nothing useful. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason instanceof Error ? signal.reason : new DeliveryAbortedError('deliveries were left before they settled');
}

/**
 * Calls `attempt` until it delivers, is refused, or maxAttempts retried failures happened,
 * sleeping a jittered exponential backoff between attempts. An abort between attempts
 * (or during a sleep) throws the abort's reason; an attempt in flight is let finish.
 */
export async function deliverWithRetry(attempt: (n: number) => Promise<AttemptResult>, policy: RetryPolicy, hooks: RetryHooks = {}): Promise<DeliveryOutcome> {
  const sleep = hooks.sleep ?? defaultSleep;
  for (let n = 1; ; n += 1) {
    if (hooks.signal?.aborted) throw abortReason(hooks.signal);
    const result = await attempt(n);
    hooks.onAttempt?.(result, n);
    if (result.kind === 'delivered') return { kind: 'delivered', attempts: n };
    if (result.kind === 'rejected') return { kind: 'rejected', attempts: n, status: result.status, reason: result.reason };
    if (n >= policy.maxAttempts) {
      return { kind: 'exhausted', attempts: n, reason: `${n} attempt${n === 1 ? '' : 's'} failed, the last: ${result.reason}` };
    }
    const delay = backoffDelay(n, policy.backoff, hooks.random, result.retryAfterMs);
    hooks.onRetry?.(result, n, delay);
    try {
      await sleep(delay, hooks.signal);
    } catch (err) {
      if (hooks.signal?.aborted) throw abortReason(hooks.signal);
      throw err;
    }
  }
}
