import { dayOf } from '../aggregates/customer-aggregates';
import type { DimensionDef } from '../policy/policy-model';
import type { TierDecision } from './evaluate-policy';
import type { TierHolding } from './state-model';

/** Why a customer kept a tier its rule no longer gives. */
export type HeldBy = 'keep_when' | 'grace' | 'min_days';

export interface DimensionOutcome {
  /** The tier the rules give: the first whose `when` holds. */
  readonly candidate: TierDecision;
  /** Whether the customer moves to `candidate` (a transition). */
  readonly move: boolean;
  /** When the customer stays in a tier other than `candidate`: what kept it. */
  readonly heldBy: HeldBy | undefined;
  /** Whether the customer qualifies for the held tier or a better one: the candidate is the held tier, or better (an upgrade, made or held back). */
  readonly qualifies: boolean;
  /** For a departure from a tier under hysteresis: why it was not kept, for the reason text. */
  readonly departure: string | undefined;
  /** Values the keep_when of the tier left behind read. */
  readonly departureInputs: Readonly<Record<string, number>>;
}

const days = (n: number): string => `${n} day${n === 1 ? '' : 's'}`;

/**
 * Applies a dimension's hysteresis at evaluation time `t` to the tier the rules give.
 * - No tier held yet: the candidate (INITIAL).
 * - The candidate is the held tier: stay.
 * - An upgrade (a better tier in an ordered dimension): immediate, unless it would reverse a
 *   downgrade less than `min_days_between_changes` ago (a climb continues at once).
 * - A downgrade, or any change in an unordered dimension, is a departure from the held tier,
 *   which is kept while its `keep_when` holds, or while fewer than `grace_days` have passed
 *   since it was earned, or fewer than `min_days_between_changes` since the last transition.
 * Days are whole UTC calendar days, as windows. A held tier the policy no longer lists is left
 * at once.
 */
export function applyHysteresis(
  dimension: DimensionDef,
  candidate: TierDecision,
  held: TierHolding | undefined,
  vars: Readonly<Record<string, number>>,
  t: number,
): DimensionOutcome {
  const heldRank = held ? dimension.tiers.findIndex((r) => r.name === held.tier) : -1;
  const qualifies = held !== undefined && (held.tier === candidate.tier || (dimension.ordered && heldRank >= 0 && candidate.rank < heldRank));
  const outcome = (move: boolean, heldBy?: HeldBy, departure?: string, departureInputs: Record<string, number> = {}): DimensionOutcome => ({
    candidate,
    move,
    heldBy,
    qualifies,
    departure,
    departureInputs,
  });
  if (!held) return outcome(true);
  if (held.tier === candidate.tier) return outcome(false);
  const rule = dimension.tiers[heldRank];
  if (!rule) return outcome(true);
  const { graceDays, minDaysBetweenChanges } = dimension.hysteresis;
  const today = dayOf(t);
  const sinceChange = today - dayOf(held.since);
  if (dimension.ordered && candidate.rank < heldRank) {
    return held.direction === 'DOWN' && sinceChange < minDaysBetweenChanges ? outcome(false, 'min_days') : outcome(true);
  }

  const reasons: string[] = [];
  const inputs: Record<string, number> = {};
  if (rule.keepWhen) {
    if (rule.keepWhen.evaluate(vars)) return outcome(false, 'keep_when');
    for (const ident of rule.keepWhen.identifiers) inputs[ident] = vars[ident] ?? 0;
    reasons.push(`keep_when ${rule.keepWhen.source} is false`);
  }
  if (graceDays > 0) {
    const sinceEarned = today - dayOf(held.earned ?? held.since);
    if (sinceEarned < graceDays) return outcome(false, 'grace');
    reasons.push(`earned ${days(sinceEarned)} ago >= grace_days ${graceDays}`);
  }
  if (minDaysBetweenChanges > 0) {
    if (sinceChange < minDaysBetweenChanges) return outcome(false, 'min_days');
    reasons.push(`last change ${days(sinceChange)} ago >= min_days_between_changes ${minDaysBetweenChanges}`);
  }
  return outcome(true, undefined, reasons.length > 0 ? `left ${held.tier}: ${reasons.join(', ')}` : undefined, inputs);
}

/**
 * The days (as times) after `today` on which a tier kept by grace or by the min-days rule
 * could be left: the end of the grace and of the min-days period. A tier kept by its
 * keep_when can only be left when a metric changes.
 */
export function hysteresisDeadlines(dimension: DimensionDef, held: TierHolding, heldBy: HeldBy | undefined, today: number, dayMs: number): number[] {
  if (heldBy !== 'grace' && heldBy !== 'min_days') return [];
  const ends = [dayOf(held.earned ?? held.since) + dimension.hysteresis.graceDays, dayOf(held.since) + dimension.hysteresis.minDaysBetweenChanges];
  return ends.filter((d) => d > today).map((d) => d * dayMs);
}
