import { dayOf, DAY_MS } from '../aggregates/customer-aggregates';
import type { LifecycleDef, LifecycleStage } from '../policy/policy-model';
import { LIFECYCLE } from '../policy/policy-model';

/** What the lifecycle stage is computed from: the customer's order times (event time, ms). */
export interface OrderTimes {
  first: number;
  last: number;
  /** The order that ended a churn (came `churnedAfterDays` or more after the previous one); null if none. */
  reactivated: number | null;
}

/**
 * Health rank of a stage: a move to a lower rank is UP, to a higher one DOWN, between equal
 * ranks LATERAL. new, active and reactivated are the buying stages (0); at_risk 1; churned 2;
 * prospect, who never bought, 3 (so the first order is UP).
 */
export const STAGE_RANK: Readonly<Record<LifecycleStage, number>> = { new: 0, active: 0, reactivated: 0, at_risk: 1, churned: 2, prospect: 3 };

export interface StageDecision {
  readonly stage: LifecycleStage;
  readonly rank: number;
  readonly ruleId: string;
  readonly reason: string;
  /** The day counts the stage was decided on, published as the transition's metrics. */
  readonly inputs: Readonly<Record<string, number>>;
}

/**
 * Records an order in the order times (returns the new value; `times` is not changed). An
 * order `churnedAfterDays` or more after the previous last order is a reactivation: the
 * customer was churned at that moment, whatever stage was stored. A late order (older than
 * the last one) can only move the first order earlier: it neither makes nor undoes a
 * reactivation.
 */
export function noteOrder(times: OrderTimes | undefined, def: LifecycleDef | undefined, at: number): OrderTimes {
  if (!times) return { first: at, last: at, reactivated: null };
  const next = { ...times, first: Math.min(times.first, at) };
  if (at > times.last) {
    if (def && dayOf(at) - dayOf(times.last) >= def.churnedAfterDays) next.reactivated = at;
    next.last = at;
  }
  return next;
}

const plural = (n: number): string => `${n} day${n === 1 ? '' : 's'}`;

/**
 * The lifecycle stage at evaluation time `t` (whole UTC calendar days, as windows):
 * prospect without an order; else churned when the last order is `churnedAfterDays` or
 * more days old; at_risk when `atRiskAfterDays` or more; new while the first order is less
 * than `newForDays` old; reactivated while the order that ended a churn is less than
 * `reactivatedForDays` old; otherwise active.
 */
export function lifecycleStage(def: LifecycleDef, times: OrderTimes | undefined, t: number): StageDecision {
  const make = (stage: LifecycleStage, reason: string, inputs: Record<string, number>): StageDecision => ({
    stage,
    rank: STAGE_RANK[stage],
    ruleId: `${LIFECYCLE}.${stage}`,
    reason: `${LIFECYCLE}.${stage}: ${reason}`,
    inputs,
  });
  if (!times) return make('prospect', 'no order yet', {});
  const today = dayOf(t);
  const sinceLast = today - dayOf(times.last);
  const sinceFirst = today - dayOf(times.first);
  const inputs: Record<string, number> = { days_since_last_order: sinceLast, days_since_first_order: sinceFirst };
  const last = `last order ${plural(sinceLast)} ago`;
  if (sinceLast >= def.churnedAfterDays) return make('churned', `${last} >= churned_after_days ${def.churnedAfterDays}`, inputs);
  if (sinceLast >= def.atRiskAfterDays) return make('at_risk', `${last} >= at_risk_after_days ${def.atRiskAfterDays}`, inputs);
  const recent = `${last} < at_risk_after_days ${def.atRiskAfterDays}`;
  if (sinceFirst < def.newForDays) return make('new', `first order ${plural(sinceFirst)} ago < new_for_days ${def.newForDays}; ${recent}`, inputs);
  if (times.reactivated !== null) {
    const sinceReturn = today - dayOf(times.reactivated);
    if (sinceReturn < def.reactivatedForDays) {
      return make('reactivated', `ordered again after a churn ${plural(sinceReturn)} ago < reactivated_for_days ${def.reactivatedForDays}; ${recent}`, {
        ...inputs,
        days_since_reactivation: sinceReturn,
      });
    }
  }
  return make('active', recent, inputs);
}

/** The days after `today` on which the stage can change without a new order (its deadlines), as times. */
export function lifecycleDeadlines(def: LifecycleDef, times: OrderTimes | undefined, today: number): number[] {
  if (!times) return [];
  const days = [dayOf(times.last) + def.atRiskAfterDays, dayOf(times.last) + def.churnedAfterDays, dayOf(times.first) + def.newForDays];
  if (times.reactivated !== null) days.push(dayOf(times.reactivated) + def.reactivatedForDays);
  return days.filter((d) => d > today).map((d) => d * DAY_MS);
}
