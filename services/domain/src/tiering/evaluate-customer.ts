import { metricValues } from '../aggregates/customer-aggregates';
import type { Direction, TransitionCause } from '../events';
import { LIFECYCLE, type Policy } from '../policy/policy-model';
import { evaluatePolicy, type Evaluation, type TierDecision } from './evaluate-policy';
import { applyHysteresis, type DimensionOutcome } from './hysteresis';
import { lifecycleStage, type StageDecision } from './lifecycle';
import { describePin, expireOverrides } from './overrides';
import { orderTimesOf, type CustomerState, type TierHolding } from './state-model';

/** One dimension whose tier changes, explained. */
export interface TierChange {
  readonly dimension: string;
  readonly from: TierHolding | undefined;
  readonly to: TierHolding;
  readonly direction: Direction;
  readonly rule: string;
  readonly reason: string;
  /** The values the decision read. */
  readonly inputs: Readonly<Record<string, number>>;
  /** Set when the change has its own cause (a pin that ended); otherwise the evaluation's. */
  readonly cause?: TransitionCause;
}

/** A customer scored at one time, before anything is written to its state. */
export interface Assessment {
  readonly metrics: Record<string, number>;
  readonly evaluation: Evaluation;
  /** Per policy dimension, in policy order. */
  readonly outcomes: readonly { readonly dimension: string; readonly outcome: DimensionOutcome }[];
  readonly stage: StageDecision | undefined;
}

const formatValue = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(4).replace(/\.?0+$/, ''));

function explain(d: TierDecision, departure: string | undefined, departureInputs: Readonly<Record<string, number>>): string {
  const values = Object.entries({ ...d.inputs, ...departureInputs }).map(([k, v]) => `${k}=${formatValue(v)}`);
  return `${d.rule.ruleId}: ${d.rule.when.source}${values.length > 0 ? ` (${values.join(', ')})` : ''}${departure ? `; ${departure}` : ''}`;
}

export function directionOf(from: TierHolding | undefined, toRank: number, ordered: boolean): Direction {
  if (!from) return 'INITIAL';
  if (!ordered || toRank === from.rank) return 'LATERAL';
  return toRank < from.rank ? 'UP' : 'DOWN';
}

/**
 * Scores the customer on its aggregates at their `now` and decides every dimension (or those
 * of `only`, lifecycle among them: `outcomes` then holds theirs alone, in policy order),
 * without changing the state.
 */
export function assess(state: CustomerState, policy: Policy, only?: ReadonlySet<string>): Assessment {
  const t = state.aggregates.now;
  const metrics = metricValues(state.aggregates, policy);
  const evaluation = evaluatePolicy(policy, metrics, only);
  const outcomes: { dimension: string; outcome: DimensionOutcome }[] = [];
  for (const dimension of policy.dimensions) {
    if (only && !only.has(dimension.name)) continue;
    const candidate = evaluation.decisions[outcomes.length] as TierDecision;
    outcomes.push({ dimension: dimension.name, outcome: applyHysteresis(dimension, candidate, state.tiers[dimension.name], evaluation.variables, t) });
  }
  const stage = policy.lifecycle && (!only || only.has(LIFECYCLE)) ? lifecycleStage(policy.lifecycle, orderTimesOf(state), t) : undefined;
  return { metrics, evaluation, outcomes, stage };
}

/**
 * The assessment of the state as evaluateInPlace left it, from the assessment it made and the
 * changes it applied: a dimension that moved holds its candidate now, so nothing holds it
 * back (`heldBy` undefined); the others are as assessed (the grace period an event restarts
 * only for a customer who qualifies, whom nothing holds back either way). What a due time and a
 * forward simulation read, without assessing the state again.
 */
export function settledAssessment(assessment: Assessment, changes: readonly TierChange[]): Assessment {
  if (changes.length === 0) return assessment;
  const moved = new Set(changes.map((c) => c.dimension));
  const outcomes = assessment.outcomes.map((o) =>
    moved.has(o.dimension) ? { dimension: o.dimension, outcome: { ...o.outcome, move: false, heldBy: undefined, qualifies: true, departure: undefined, departureInputs: {} } } : o,
  );
  return { ...assessment, outcomes };
}

/**
 * Scores the customer at its aggregates' `now`, moves its tiers and returns the changes.
 * `cause` is the cause's time (the event time, or the re-evaluation time): each new holding's
 * `since`. After an event (`afterEvent`), a customer who qualifies for the tier it holds
 * (or a better one, whose upgrade the min-days rule holds back) earns it again (the grace
 * period restarts); time passing alone earns nothing. `explained` false leaves the changes'
 * reasons and inputs empty. `only` limits the evaluation to those dimensions (a forward
 * simulation's: each dimension's tier depends on its own rules and holding alone).
 */
export function evaluateInPlace(
  state: CustomerState,
  policy: Policy,
  cause: number,
  afterEvent: boolean,
  explained = true,
  only?: ReadonlySet<string>,
): { assessment: Assessment; changes: TierChange[] } {
  const t = state.aggregates.now;
  // A pin whose time is up releases its dimension to the tier the rules give now, hysteresis
  // aside (the pinned tier was never earned), always as a transition: the audit trail shows the end.
  const released = expireOverrides(state, t);
  const assessment = assess(state, policy, only);
  state.metrics = assessment.metrics;
  state.score = assessment.evaluation.score;
  const changes: TierChange[] = [];
  const move = (dimension: string, tier: string, rank: number, ordered: boolean, rule: string, reason: string, inputs: Readonly<Record<string, number>>): void => {
    const from = state.tiers[dimension];
    const direction = directionOf(from, rank, ordered);
    const to: TierHolding = { tier, rank, version: (from?.version ?? 0) + 1, since: cause, direction, earned: t };
    const pin = released.get(dimension);
    const own = pin ? { cause: 'OVERRIDE_EXPIRED' as const, reason: `${describePin(pin, dimension)} ended; ${reason}` } : { reason };
    changes.push({ dimension, from: from && { ...from }, to, direction, rule, inputs, ...own });
    state.tiers[dimension] = to;
  };
  let next = 0;
  for (const dimension of policy.dimensions) {
    const assessed = assessment.outcomes[next];
    if (assessed?.dimension !== dimension.name) continue;
    next++;
    if (state.overrides?.[dimension.name]) continue;
    const { outcome } = assessed;
    const d = outcome.candidate;
    if (outcome.move || released.has(dimension.name)) {
      // Unexplained (a forward simulation reads only the tiers): no reason text, no inputs.
      if (!explained) move(dimension.name, d.tier, d.rank, dimension.ordered, d.rule.ruleId, '', {});
      else move(dimension.name, d.tier, d.rank, dimension.ordered, d.rule.ruleId, explain(d, outcome.departure, outcome.departureInputs), { ...d.inputs, ...outcome.departureInputs });
    } else {
      const held = state.tiers[dimension.name];
      if (held && afterEvent && outcome.qualifies) held.earned = t;
    }
  }
  const stage = assessment.stage;
  if (stage && !state.overrides?.[LIFECYCLE] && (state.tiers[LIFECYCLE]?.tier !== stage.stage || released.has(LIFECYCLE))) {
    move(LIFECYCLE, stage.stage, stage.rank, true, stage.ruleId, stage.reason, stage.inputs);
  }
  return { assessment, changes };
}
