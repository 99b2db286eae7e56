import { emptyAggregates, type AggregateState } from '../aggregates/customer-aggregates';
import type { CustomerType, Direction } from '../events';
import type { OrderTimes } from './lifecycle';
import type { ActiveOverride } from './overrides';

export interface TierHolding {
  tier: string;
  rank: number;
  /** How many transitions this customer had in the dimension; part of the transition id. */
  version: number;
  /** Cause time of the transition into this tier: `min_days_between_changes` counts from it. */
  since: number;
  /** Direction of the transition into this tier (absent in states stored before hysteresis). */
  direction?: Direction;
  /**
   * When the customer last earned the tier: entered it, or was evaluated after an event
   * with the rules giving this tier (or a better one whose upgrade is held back). `grace_days` counts from it. Absent in states stored
   * before hysteresis existed: `since` stands in.
   */
  earned?: number;
}

/**
 * One past transition as the state remembers it: the rule and the values it read, not the
 * prose reason (that is in the transition on the tier-changed topic, the audit trail), so the
 * history stays small.
 */
export interface TransitionSummary {
  readonly transition_id: string;
  readonly dimension: string;
  readonly from_tier: string | null;
  readonly to_tier: string;
  readonly rule: string;
  /** The values the decision read (a transition's `metrics` less the score). */
  readonly inputs: Readonly<Record<string, number>>;
  readonly at: number;
}

/** What lies ahead in one dimension, without new activity: the same fields a TierChanged carries. */
export interface ForwardSignal {
  /** The next tier up in an ordered dimension; null at the top, in unordered dimensions and in lifecycle. */
  readonly next_tier: string | null;
  /** What the next tier's rule still needs, per variable (money in minor units); {} when its rule is not a conjunction of lower bounds. */
  readonly next_tier_gaps: Readonly<Record<string, number>>;
  /** The gaps for people, e.g. "needs 1200.00 CNY more spend_365d for gold". */
  readonly next_tier_hint: string | null;
  /** The event time at which the current tier would be lost without new activity; null if not within the horizon. */
  readonly tier_lost_at: number | null;
  /** The tier it would then move to. */
  readonly tier_lost_to: string | null;
  /** The customer's time when this was computed. */
  readonly as_of: number;
}

/** Everything tierstream knows of one customer; JSON-serialisable, stored as one Redis value. */
export interface CustomerState {
  customerId: string;
  aggregates: AggregateState;
  tiers: Record<string, TierHolding>;
  profile: { region: string | null; customer_type: CustomerType | null; industry: string | null; attributes: Record<string, string> };
  score: number;
  metrics: Record<string, number>;
  history: TransitionSummary[];
  /** First and last order, and the last reactivation (lifecycle). Absent before the first order (and in states stored before lifecycle existed). */
  orderTimes?: OrderTimes;
  /** Forward signals per dimension, each as of the dimension's last transition or the last `refreshForwardSignals`. */
  forward?: Record<string, ForwardSignal>;
  /** Manual pins by dimension: the dimension holds the pinned tier until the pin ends. Absent when none. */
  overrides?: Record<string, ActiveOverride>;
}

export const HISTORY_LENGTH = 10;

export function newCustomerState(customerId: string): CustomerState {
  return {
    customerId,
    aggregates: emptyAggregates(),
    tiers: {},
    profile: { region: null, customer_type: null, industry: null, attributes: {} },
    score: 0,
    metrics: {},
    history: [],
  };
}

/**
 * The order times of a state. A state stored before lifecycle tracking knows only the last
 * order (from the aggregates): its first order is taken as long ago (time 0).
 */
export function orderTimesOf(state: CustomerState): OrderTimes | undefined {
  if (state.orderTimes) return state.orderTimes;
  const last = state.aggregates.lastSeen['ORDER'];
  return last === undefined ? undefined : { first: 0, last, reactivated: null };
}

const copyRecord = <V>(r: Readonly<Record<string, V>>, copy: (v: V) => V): Record<string, V> => {
  const out: Record<string, V> = {};
  for (const k in r) out[k] = copy(r[k] as V);
  return out;
};
const same = <V>(v: V): V => v;
const shallow = <V extends object>(v: V): V => Object.assign({}, v);

/** A deep copy of the aggregates, several times cheaper than structuredClone (their shape is known). */
export function cloneAggregates(a: AggregateState): AggregateState {
  return {
    now: a.now,
    buckets: copyRecord(a.buckets, (b) => b.slice()),
    running: copyRecord(a.running, shallow),
    // Object.assign: a spread copy is exact-fit, and a key added to it later is slow in V8.
    lifetime: Object.assign({}, a.lifetime),
    distinct: copyRecord(a.distinct, (d) => copyRecord(d, same)),
    last: copyRecord(a.last, shallow),
    lastSeen: Object.assign({}, a.lastSeen),
  };
}

/**
 * A deep copy of a state, as structuredClone would give (customer-state.test.ts checks it),
 * several times cheaper: the pure functions copy before they change a state, and the
 * forward simulation copies one per transition. `withHistory` false leaves history and
 * forward signals out (the simulation reads neither).
 */
export function cloneState(s: CustomerState, withHistory = true): CustomerState {
  const copy: CustomerState = {
    customerId: s.customerId,
    aggregates: cloneAggregates(s.aggregates),
    tiers: copyRecord(s.tiers, shallow),
    profile: { region: s.profile.region, customer_type: s.profile.customer_type, industry: s.profile.industry, attributes: { ...s.profile.attributes } },
    score: s.score,
    metrics: { ...s.metrics },
    history: withHistory ? s.history.map((h) => ({ ...h, inputs: { ...h.inputs } })) : [],
  };
  if (s.orderTimes) copy.orderTimes = { ...s.orderTimes };
  if (withHistory && s.forward) copy.forward = copyRecord(s.forward, (f) => ({ ...f, next_tier_gaps: { ...f.next_tier_gaps } }));
  if (s.overrides) copy.overrides = copyRecord(s.overrides, shallow);
  return copy;
}
