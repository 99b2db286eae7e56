import type { TierChanged } from '@tierstream/domain';

export const EVENT_TYPE = 'tier.changed';

/** The JSON body of a webhook, in the Standard Webhooks payload shape. */
export interface TierChangedPayload {
  readonly type: typeof EVENT_TYPE;
  /** When the transition was computed (its `emitted_at`), ISO 8601 UTC. */
  readonly timestamp: string;
  /** The tier-changed event exactly as on the topic (snake_case, times as epoch millis). */
  readonly data: TierChanged;
}

export function tierChangedPayload(change: TierChanged): TierChangedPayload {
  return { type: EVENT_TYPE, timestamp: new Date(change.emitted_at).toISOString(), data: change };
}

/** The body as sent and signed: the same bytes on every attempt. */
export function webhookBody(change: TierChanged): string {
  return JSON.stringify(tierChangedPayload(change));
}
