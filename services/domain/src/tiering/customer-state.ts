import { addEvent, emptyAggregates, metricValues, type AggregateState } from '../aggregates/customer-aggregates';
import type { CustomerEvent, CustomerType, Direction, TierChanged } from '../events';
import type { Policy } from '../policy/policy-model';
import { evaluatePolicy, type TierDecision } from './evaluate-policy';

export interface TierHolding {
  tier: string;
  rank: number;
  /** How many transitions this customer had in the dimension; part of the transition id. */
  version: number;
  since: number;
}

export interface TransitionSummary {
  readonly transition_id: string;
  readonly dimension: string;
  readonly from_tier: string | null;
  readonly to_tier: string;
  readonly rule: string;
  readonly reason: string;
  readonly at: number;
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

/** Deterministic: the same customer, dimension and tier version always give the same id. */
export const transitionId = (customerId: string, dimension: string, version: number): string => `${customerId}/${dimension}/${version}`;

function direction(from: TierHolding | undefined, to: TierDecision, ordered: boolean): Direction {
  if (!from) return 'INITIAL';
  if (!ordered) return 'LATERAL';
  return to.rank < from.rank ? 'UP' : 'DOWN';
}

const formatValue = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(4).replace(/\.?0+$/, ''));

function explain(d: TierDecision): string {
  const values = Object.entries(d.inputs).map(([k, v]) => `${k}=${formatValue(v)}`);
  return `${d.rule.ruleId}: ${d.rule.when.source}${values.length > 0 ? ` (${values.join(', ')})` : ''}`;
}

function updateProfile(state: CustomerState, e: CustomerEvent, policy: Policy): void {
  const p = state.profile;
  // The latest event time wins; a late event does not overwrite newer segmentation.
  if (e.event_time < state.aggregates.now) return;
  if (e.region !== null) p.region = e.region;
  if (e.customer_type !== null) p.customer_type = e.customer_type;
  if (e.industry !== null) p.industry = e.industry;
  for (const key of policy.carryAttributes) {
    const v = e.attributes[key];
    if (v !== undefined) p.attributes[key] = v;
  }
}

export interface ApplyResult {
  readonly state: CustomerState;
  readonly transitions: TierChanged[];
}

/**
 * Applies one event: updates the aggregates, re-scores, and returns the tier transitions
 * it caused, each explained. Pure: the state passed in is not changed; `emittedAt` is the
 * caller's clock.
 */
export function applyEvent(previous: CustomerState, e: CustomerEvent, policy: Policy, emittedAt: number): ApplyResult {
  return applyEventInPlace(structuredClone(previous), e, policy, emittedAt);
}

/**
 * applyEvent without the copy, for a caller that owns `state` (the scoring worker parses a
 * fresh one per batch). Check `unconvertibleCurrency` first: a CurrencyError thrown midway
 * leaves `state` partly updated.
 */
export function applyEventInPlace(state: CustomerState, e: CustomerEvent, policy: Policy, emittedAt: number): ApplyResult {
  updateProfile(state, e, policy);
  addEvent(state.aggregates, e, policy);
  const metrics = metricValues(state.aggregates, policy);
  const evaluation = evaluatePolicy(policy, metrics);
  state.metrics = metrics;
  state.score = evaluation.score;
  const transitions: TierChanged[] = [];
  for (const decision of evaluation.decisions) {
    const held = state.tiers[decision.dimension];
    if (held?.tier === decision.tier) continue;
    const dimension = policy.dimensions.find((d) => d.name === decision.dimension);
    const version = (held?.version ?? 0) + 1;
    const t: TierChanged = {
      transition_id: transitionId(state.customerId, decision.dimension, version),
      customer_id: state.customerId,
      dimension: decision.dimension,
      from_tier: held?.tier ?? null,
      to_tier: decision.tier,
      direction: direction(held, decision, dimension?.ordered ?? true),
      cause: 'EVENT',
      rule: decision.rule.ruleId,
      reason: explain(decision),
      metrics: { ...decision.inputs, score: evaluation.score },
      score: evaluation.score,
      policy_id: policy.id,
      policy_version: policy.version,
      tier_version: version,
      cause_event_id: e.event_id,
      cause_event_time: e.event_time,
      emitted_at: emittedAt,
      region: state.profile.region,
      customer_type: state.profile.customer_type,
      industry: state.profile.industry,
      attributes: { ...state.profile.attributes },
    };
    transitions.push(t);
    state.tiers[decision.dimension] = { tier: decision.tier, rank: decision.rank, version, since: e.event_time };
    state.history = [
      { transition_id: t.transition_id, dimension: t.dimension, from_tier: t.from_tier, to_tier: t.to_tier, rule: t.rule, reason: t.reason, at: t.cause_event_time },
      ...state.history,
    ].slice(0, HISTORY_LENGTH);
  }
  return { state, transitions };
}
