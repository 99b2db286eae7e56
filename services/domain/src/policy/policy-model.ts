import type { CelRule } from './cel-rule';

/** What a windowed aggregate reads from an event. */
export const SUM_SOURCES = ['order.amount', 'refund.amount', 'order.items'] as const;
export type SumSource = (typeof SUM_SOURCES)[number];

/** Event kinds a `count` or `recency` metric can count: event types and their sub-kinds. */
export const COUNT_SOURCES = [
  'ORDER', 'REFUND', 'INTERACTION', 'FEEDBACK', 'PROFILE_UPDATE',
  'VISIT', 'SUPPORT_CONTACT', 'CAMPAIGN_RESPONSE', 'COMPLAINT', 'SATISFACTION', 'ANY',
] as const;
export type CountSource = (typeof COUNT_SOURCES)[number];

export const DISTINCT_SOURCES = ['channel', 'region'] as const;
export type DistinctSource = (typeof DISTINCT_SOURCES)[number];

export const LAST_SOURCES = ['feedback.score', 'order.amount'] as const;
export type LastSource = (typeof LAST_SOURCES)[number];

/** Days, or null for the customer's whole lifetime. */
export type WindowDays = number | null;

export type MetricDef =
  | { readonly name: string; readonly kind: 'sum'; readonly source: SumSource; readonly window: WindowDays }
  | { readonly name: string; readonly kind: 'count'; readonly source: CountSource; readonly window: WindowDays }
  | { readonly name: string; readonly kind: 'max'; readonly source: SumSource; readonly window: WindowDays }
  | { readonly name: string; readonly kind: 'distinct'; readonly source: DistinctSource; readonly window: WindowDays }
  | { readonly name: string; readonly kind: 'last'; readonly source: LastSource }
  | { readonly name: string; readonly kind: 'recency'; readonly source: CountSource }
  | { readonly name: string; readonly kind: 'ratio'; readonly numerator: string; readonly denominator: string };

export interface RfmAxis {
  readonly metric: string;
  /** Four ascending cut-offs: value >= cuts[i] scores i+2 (so 1 to 5); reversed when lowerIsBetter. */
  readonly cuts: readonly [number, number, number, number];
  readonly lowerIsBetter: boolean;
}

export interface PointsRule {
  readonly when: CelRule;
  readonly points: number;
}

export interface ScoringDef {
  readonly rfm: { readonly recency: RfmAxis; readonly frequency: RfmAxis; readonly monetary: RfmAxis } | undefined;
  /** score = sum(weight * variable) + points of every rule that holds. */
  readonly weights: Readonly<Record<string, number>>;
  readonly points: readonly PointsRule[];
}

export interface TierRule {
  readonly name: string;
  readonly when: CelRule;
  /**
   * The downgrade margin: a customer holding this tier keeps it while `keepWhen` holds, even
   * when `when` no longer does. Undefined: the tier is kept only while `when` holds.
   */
  readonly keepWhen: CelRule | undefined;
  /** Stable id for the explanation, e.g. `value.high`. */
  readonly ruleId: string;
}

/** Time rules against flapping; days are whole UTC calendar days of event time. */
export interface Hysteresis {
  /** A tier is not lost for this many days after the customer last earned it (0: no grace). */
  readonly graceDays: number;
  /** No downgrade (no change at all in an unordered dimension) within this many days of the previous transition. */
  readonly minDaysBetweenChanges: number;
}

export const NO_HYSTERESIS: Hysteresis = { graceDays: 0, minDaysBetweenChanges: 0 };

export interface DimensionDef {
  readonly name: string;
  /** Best first: the first tier whose rule holds is the customer's tier. */
  readonly tiers: readonly TierRule[];
  /** Unordered dimensions (segments) report LATERAL instead of UP or DOWN. */
  readonly ordered: boolean;
  readonly hysteresis: Hysteresis;
}

/** The name of the lifecycle dimension, and its stages. */
export const LIFECYCLE = 'lifecycle';
export const LIFECYCLE_STAGES = ['prospect', 'new', 'active', 'at_risk', 'churned', 'reactivated'] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

/** Deadlines of the lifecycle dimension, in whole UTC calendar days of event time. */
export interface LifecycleDef {
  /** `new` while the first order is less than this many days old (0: no `new` stage). */
  readonly newForDays: number;
  /** `at_risk` from this many days after the last order. */
  readonly atRiskAfterDays: number;
  /** `churned` from this many days after the last order (more than atRiskAfterDays). */
  readonly churnedAfterDays: number;
  /** `reactivated` for this many days after the order that ended a churn (0: no `reactivated` stage). */
  readonly reactivatedForDays: number;
}

/**
 * Event time moves with the data; on an input partition that receives none, scoring moves the
 * watermark to the wall clock every `everyMs` once the partition has been idle `idleAfterMs`,
 * so pins end and customers decay there too. Off for backfills and replays of history, whose
 * event time is not the wall clock.
 */
export interface ClockDef {
  readonly wallClockTick: { readonly everyMs: number; readonly idleAfterMs: number } | undefined;
}

export const DEFAULT_CLOCK: ClockDef = { wallClockTick: { everyMs: 60_000, idleAfterMs: 300_000 } };

export interface Policy {
  readonly id: string;
  readonly version: string;
  /** The currency money metrics are kept in; other currencies convert by `fxRates`. */
  readonly currency: string;
  /** Minor units of `currency` per minor unit of another currency. */
  readonly fxRates: Readonly<Record<string, number>>;
  readonly metrics: readonly MetricDef[];
  readonly scoring: ScoringDef;
  readonly dimensions: readonly DimensionDef[];
  /** The lifecycle dimension (named `lifecycle`), when the policy declares one. */
  readonly lifecycle: LifecycleDef | undefined;
  readonly clock: ClockDef;
  /** Event attributes (beyond region, customer type, industry) that tier events carry. */
  readonly carryAttributes: readonly string[];
  /** The longest window any metric needs: buckets older than this are dropped. */
  readonly maxWindowDays: number;
}

/** Names rules may read besides the metrics. */
export const DERIVED_VARIABLES = ['rfm_r', 'rfm_f', 'rfm_m', 'points', 'score'] as const;
