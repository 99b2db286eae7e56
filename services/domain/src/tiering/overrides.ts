import { LIFECYCLE, LIFECYCLE_STAGES, type Policy } from '../policy/policy-model';
import type { CustomerState } from './state-model';

/**
 * A manual override command, as tierctl issues it: pin a customer's tier in one dimension
 * until a time (a strategic account kept at vip), or clear such a pin. It travels on the
 * canonical events topic, keyed by customer, so scoring applies it in order with the
 * customer's events and under the same exactly-once guarantees.
 */
export interface OverrideCommand {
  /** Unique per command: the cause_event_id of the transitions it causes. */
  readonly command_id: string;
  readonly customer_id: string;
  readonly action: 'SET' | 'CLEAR';
  readonly dimension: string;
  /** The pinned tier (SET); null for CLEAR. */
  readonly tier: string | null;
  /** When the pin ends by itself (SET), epoch millis; null for CLEAR. */
  readonly until: number | null;
  /** Why, for the audit trail; required. */
  readonly reason: string;
  /** Who issued it. */
  readonly actor: string;
  /** When it was issued (the issuer's clock): the transitions' cause_event_time. */
  readonly issued_at: number;
}

/** An active pin in a customer's state. */
export interface ActiveOverride {
  readonly tier: string;
  readonly until: number;
  readonly reason: string;
  readonly actor: string;
  readonly issued_at: number;
  readonly command_id: string;
}

/** An override command that cannot apply: the command is rejected (dead-lettered), the state is unchanged. */
export class OverrideError extends Error {
  constructor(
    readonly command: Pick<OverrideCommand, 'command_id' | 'customer_id' | 'dimension'>,
    message: string,
  ) {
    super(`override ${command.command_id} for ${command.customer_id}/${command.dimension}: ${message}`);
    this.name = 'OverrideError';
  }
}

/** The tiers of a dimension the policy declares (lifecycle: its stages), best first; undefined for an unknown dimension. */
export function tiersOf(policy: Policy, dimension: string): readonly string[] | undefined {
  if (dimension === LIFECYCLE) return policy.lifecycle ? LIFECYCLE_STAGES : undefined;
  return policy.dimensions.find((d) => d.name === dimension)?.tiers.map((t) => t.name);
}

/**
 * Checks a command against the policy and the customer, without the state's history: the
 * dimension and tier exist, the reason is given, a pin ends after both the time it was issued
 * and the customer's time, a CLEAR finds a pin. Throws OverrideError.
 */
export function checkOverride(policy: Policy, command: OverrideCommand, state: CustomerState | undefined): void {
  const fail = (message: string): never => {
    throw new OverrideError(command, message);
  };
  const tiers = tiersOf(policy, command.dimension);
  if (!tiers) fail(`unknown dimension '${command.dimension}' in policy ${policy.id} v${policy.version}`);
  if (command.reason.trim() === '') fail('a reason is required');
  if (command.action === 'CLEAR') {
    if (!state?.overrides?.[command.dimension]) fail(`no active override in ${command.dimension} to clear`);
    return;
  }
  if (command.tier === null || !tiers?.includes(command.tier)) fail(`unknown tier '${command.tier ?? ''}' in ${command.dimension} (one of ${tiers?.join(', ') ?? ''})`);
  if (command.until === null || command.until <= command.issued_at) fail('until must be later than the time the override is issued');
  if (!state || state.aggregates.lastSeen['ANY'] === undefined) fail(`customer ${command.customer_id} has no events yet: only known customers can be pinned`);
  if ((command.until ?? 0) <= (state?.aggregates.now ?? 0)) fail(`until ${new Date(command.until ?? 0).toISOString()} is not after the customer's time ${new Date(state?.aggregates.now ?? 0).toISOString()}`);
}

/** The pins whose time is up at `t`, removed from the state, by dimension. */
export function expireOverrides(state: CustomerState, t: number): Map<string, ActiveOverride> {
  const expired = new Map<string, ActiveOverride>();
  if (!state.overrides) return expired;
  for (const [dimension, o] of Object.entries(state.overrides)) {
    if (o.until <= t) {
      expired.set(dimension, o);
      delete state.overrides[dimension];
    }
  }
  if (Object.keys(state.overrides).length === 0) delete state.overrides;
  return expired;
}

/** The expiry times of the customer's pins. */
export const overrideExpiries = (state: CustomerState): number[] => Object.values(state.overrides ?? {}).map((o) => o.until);

export const describePin = (o: Pick<ActiveOverride, 'tier' | 'actor' | 'until' | 'reason'>, dimension: string): string =>
  `${dimension} pinned to ${o.tier} by ${o.actor} until ${new Date(o.until).toISOString()}: ${o.reason}`;
