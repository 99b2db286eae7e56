import { randomUUID } from 'node:crypto';
import { checkOverride, commandRecord, tiersOf, type CustomerEventRecord, type Policy } from '@tierstream/domain';
import { TierstreamError } from '@tierstream/runtime';

export interface OverrideRequest {
  readonly action: 'SET' | 'CLEAR';
  readonly customerId: string;
  readonly dimension: string;
  /** SET only. */
  readonly tier?: string;
  /** SET only: `2027-01-31` (the start of that UTC day), an ISO date-time, or `+30d` / `+12h` / `+15m` / `+30s` from now. */
  readonly until?: string;
  readonly reason: string;
  readonly actor: string;
}

const RELATIVE_UNITS: Readonly<Record<string, number>> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 };

const invalid = (message: string, context: Record<string, unknown> = {}): TierstreamError => new TierstreamError('TS_ERR_OVERRIDE_INVALID', message, { context });

/** `--until` as epoch millis; `now` is the issuer's clock. */
export function parseUntil(text: string, now: number): number {
  const relative = /^\+(\d+)([dhms])$/.exec(text.trim());
  if (relative) return now + Number(relative[1]) * (RELATIVE_UNITS[relative[2] as string] ?? 0);
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text.trim());
  const t = Date.parse(dateOnly ? `${text.trim()}T00:00:00Z` : text.trim());
  if (Number.isNaN(t)) throw invalid(`--until '${text}' is not a date (2027-01-31), an ISO date-time or a duration from now (+30d, +12h)`, { until: text });
  return t;
}

/**
 * Builds the OVERRIDE record tierctl writes to the events topic, checked first against the
 * policy scoring runs (dimension, tier, reason, an end in the future), so that a mistake is
 * reported here rather than as a dead letter. Scoring checks it again against the customer.
 */
export function overrideRecord(request: OverrideRequest, policy: Policy, now: number, commandId: string = `override/${randomUUID()}`): CustomerEventRecord {
  const customerId = request.customerId.trim();
  if (customerId === '') throw invalid('the customer id is empty');
  const tiers = tiersOf(policy, request.dimension);
  if (!tiers) throw invalid(`unknown dimension '${request.dimension}' in policy ${policy.id} v${policy.version}`, { dimension: request.dimension });
  const until = request.action === 'SET' ? parseUntil(request.until ?? '', now) : null;
  const override = {
    action: request.action,
    dimension: request.dimension,
    tier: request.action === 'SET' ? (request.tier ?? null) : null,
    until,
    reason: request.reason.trim(),
    actor: request.actor,
  };
  if (request.action === 'SET') {
    // The customer-independent checks; the state-dependent ones are scoring's.
    try {
      checkOverride(policy, { command_id: commandId, customer_id: customerId, ...override, issued_at: now }, undefined);
    } catch (err) {
      const message = (err as Error).message;
      if (!/has no events yet/.test(message)) throw invalid(message.replace(/^override [^:]+: /, ''), { customerId, dimension: request.dimension });
    }
  } else if (override.reason === '') throw invalid('a reason is required');
  return commandRecord({ event_id: commandId, customer_id: customerId, type: 'OVERRIDE', event_time: now, channel: 'tierctl', override });
}
