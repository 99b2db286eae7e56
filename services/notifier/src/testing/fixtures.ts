import { randomBytes } from 'node:crypto';
import type { TierChanged } from '@tierstream/domain';

/** A fresh Standard Webhooks secret: `whsec_` and base64 of 32 random bytes. */
export const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/** A valid tier change; override what a test is about. */
export function tierChange(overrides: Partial<TierChanged> = {}): TierChanged {
  return {
    transition_id: 'c-42:value:3',
    customer_id: 'c-42',
    dimension: 'value',
    from_tier: 'silver',
    to_tier: 'gold',
    direction: 'UP',
    cause: 'EVENT',
    rule: 'tiers.value.gold',
    reason: 'spend_90d 1299.00 CNY >= 1000.00 CNY',
    metrics: { spend_90d: 129_900, orders_90d: 3 },
    score: 87.5,
    policy_id: 'default',
    policy_version: '1',
    tier_version: 3,
    cause_event_id: 'e-1',
    cause_event_time: Date.UTC(2026, 2, 1, 8, 30),
    emitted_at: Date.UTC(2026, 2, 1, 8, 30, 1),
    region: 'CN-SH',
    customer_type: 'B2C',
    industry: null,
    attributes: {},
    // Forward signals, as scoring fills them (decoded records always carry them).
    next_tier: 'platinum',
    next_tier_gaps: { spend_90d: 70_100 },
    next_tier_hint: 'needs 701.00 CNY more spend_90d for platinum',
    tier_lost_at: Date.UTC(2026, 5, 1),
    tier_lost_to: 'silver',
    ...overrides,
  };
}
