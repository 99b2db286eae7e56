import { addEvent, advanceTime, dayOf } from '../aggregates/customer-aggregates';
import type { CustomerEvent, TierChanged, TransitionCause } from '../events';
import { LIFECYCLE, type Policy } from '../policy/policy-model';
import { DecisionDueCursor } from './due-time';
import { assess, directionOf, evaluateInPlace, settledAssessment, type Assessment, type TierChange } from './evaluate-customer';
import { forwardSignals } from './forward';
import { noteOrder, STAGE_RANK } from './lifecycle';
import { checkOverride, describePin, overrideExpiries, tiersOf, type OverrideCommand } from './overrides';
import { cloneState, HISTORY_LENGTH, orderTimesOf, type CustomerState, type ForwardSignal, type TransitionSummary } from './state-model';

export { OverrideError, type ActiveOverride, type OverrideCommand } from './overrides';
export { cloneState, HISTORY_LENGTH, newCustomerState, type CustomerState, type ForwardSignal, type TierHolding, type TransitionSummary } from './state-model';

/** Deterministic: the same customer, dimension and tier version always give the same id. */
export const transitionId = (customerId: string, dimension: string, version: number): string => `${customerId}/${dimension}/${version}`;

function updateProfile(state: CustomerState, e: CustomerEvent, policy: Policy): void {
  const p = state.profile;
  // The latest event time wins; a late event does not overwrite newer segmentation. (Not the
  // aggregates' clock: a re-evaluation moves that without an event.)
  if (e.event_time < (state.aggregates.lastSeen['ANY'] ?? 0)) return;
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
  /**
   * The assessment of `state` as returned, when the last thing done to it was an evaluation
   * (see settledAssessment): nextDueTime takes it instead of assessing the state again.
   */
  readonly assessment?: Assessment;
}

interface Cause {
  readonly kind: TransitionCause;
  readonly eventId: string | null;
  readonly time: number;
}

/** Turns the changes of one evaluation into explained TierChanged events, with forward signals, and records them. */
function publish(state: CustomerState, policy: Policy, changes: readonly TierChange[], vars: Readonly<Record<string, number>>, cause: Cause, emittedAt: number, settled?: Assessment): TierChanged[] {
  if (changes.length === 0) return [];
  // Only the moved dimensions: a transition carries its own dimension's signal, and the others' cost a longer simulation.
  const forward = forwardSignals(state, policy, vars, new Set(changes.map((c) => c.dimension)), settled);
  state.forward = Object.assign(state.forward ?? {}, forward);
  const transitions = changes.map((c): TierChanged => {
    const f = forward[c.dimension];
    return {
      transition_id: transitionId(state.customerId, c.dimension, c.to.version),
      customer_id: state.customerId,
      dimension: c.dimension,
      from_tier: c.from?.tier ?? null,
      to_tier: c.to.tier,
      direction: c.direction,
      cause: c.cause ?? cause.kind,
      rule: c.rule,
      reason: c.reason,
      metrics: { ...c.inputs, score: state.score },
      score: state.score,
      policy_id: policy.id,
      policy_version: policy.version,
      tier_version: c.to.version,
      cause_event_id: cause.eventId,
      cause_event_time: cause.time,
      emitted_at: emittedAt,
      region: state.profile.region,
      customer_type: state.profile.customer_type,
      industry: state.profile.industry,
      attributes: { ...state.profile.attributes },
      next_tier: f?.next_tier ?? null,
      next_tier_gaps: { ...(f?.next_tier_gaps ?? {}) },
      next_tier_hint: f?.next_tier_hint ?? null,
      tier_lost_at: f?.tier_lost_at ?? null,
      tier_lost_to: f?.tier_lost_to ?? null,
    };
  });
  const summaries = changes.map((c, i): TransitionSummary => {
    const t = transitions[i] as TierChanged;
    return { transition_id: t.transition_id, dimension: t.dimension, from_tier: t.from_tier, to_tier: t.to_tier, rule: t.rule, inputs: { ...c.inputs }, at: t.cause_event_time };
  });
  state.history = [...summaries.reverse(), ...state.history].slice(0, HISTORY_LENGTH);
  return transitions;
}

/**
 * Applies one event: first re-evaluates the customer at every due time up to the event's
 * time (see `reevaluate`), then updates the aggregates, re-scores, and returns the tier
 * transitions both caused, each explained. Pure: the state passed in is not changed;
 * `emittedAt` is the caller's clock.
 */
export function applyEvent(previous: CustomerState, e: CustomerEvent, policy: Policy, emittedAt: number): ApplyResult {
  return applyEventInPlace(cloneState(previous), e, policy, emittedAt);
}

/**
 * applyEvent without the copy, for a caller that owns `state` (the scoring worker parses a
 * fresh one per batch). Check `unconvertibleCurrency` first: a CurrencyError thrown midway
 * leaves `state` partly updated.
 */
export function applyEventInPlace(state: CustomerState, e: CustomerEvent, policy: Policy, emittedAt: number): ApplyResult {
  const transitions = catchUp(state, policy, e.event_time, emittedAt);
  updateProfile(state, e, policy);
  // Before addEvent: a state stored before order times were kept derives them from the aggregates.
  const orderTimes = e.type === 'ORDER' ? noteOrder(orderTimesOf(state), policy.lifecycle, e.event_time) : undefined;
  addEvent(state.aggregates, e, policy);
  if (orderTimes) state.orderTimes = orderTimes;
  const { assessment, changes } = evaluateInPlace(state, policy, e.event_time, true);
  const settled = settledAssessment(assessment, changes);
  transitions.push(...publish(state, policy, changes, assessment.evaluation.variables, { kind: 'EVENT', eventId: e.event_id, time: e.event_time }, emittedAt, settled));
  return { state, transitions, assessment: settled };
}

/**
 * Moves the customer's clock to `at` and re-scores it there, without an event. `settled` is
 * the assessment of the state it leaves (see settledAssessment), which the next due time can
 * reuse; undefined when the clock did not move.
 */
function reevaluateAt(state: CustomerState, policy: Policy, at: number, emittedAt: number): { transitions: TierChanged[]; settled: Assessment | undefined } {
  if (!advanceTime(state.aggregates, policy, at)) return { transitions: [], settled: undefined };
  const { assessment, changes } = evaluateInPlace(state, policy, at, false);
  const settled = settledAssessment(assessment, changes);
  const transitions = publish(state, policy, changes, assessment.evaluation.variables, { kind: 'REEVALUATION', eventId: null, time: at }, emittedAt, settled);
  return { transitions, settled };
}

/**
 * Re-evaluates at each due time up to `until` (inclusive), in order. Due times are day
 * starts, so nothing is due before a time on the customer's current day. This makes a
 * customer's tiers a function of its events alone: the same whether time was swept by the
 * watermark in one batch or another, or not at all before the next event.
 */
function catchUp(state: CustomerState, policy: Policy, until: number, emittedAt: number): TierChanged[] {
  const out: TierChanged[] = [];
  if (state.aggregates.lastSeen['ANY'] === undefined) return out;
  // Due times are day starts, except the ends of pins.
  let settled: Assessment | undefined;
  const cursor = new DecisionDueCursor(state, policy);
  while (dayOf(until) > dayOf(state.aggregates.now) || overrideExpiries(state).some((t) => t > state.aggregates.now && t <= until)) {
    const due = cursor.next(settled);
    if (due === undefined || due > until || due <= state.aggregates.now) break;
    const step = reevaluateAt(state, policy, due, emittedAt);
    out.push(...step.transitions);
    settled = step.settled;
  }
  return out;
}

/**
 * Re-evaluates a customer up to event time `at` without an event: at each due time on the
 * way (the day a windowed contribution leaves its window, a lifecycle deadline, the end of a
 * grace or min-days period; see nextDueTime), then at `at`. Windows slide, buckets expire,
 * recency grows. The transitions have cause REEVALUATION, no cause event, and the due time
 * they happened at as `cause_event_time`: a tier is lost on the day it is lost, whenever the
 * sweep comes by. Nothing happens (no transitions, the same state) when `at` is not later
 * than the customer's time (its latest event or re-evaluation), nor for a customer without
 * any event. Events older than `at` applied afterwards are late events, so `at` should not
 * pass the input's watermark. Pure: the state passed in is not changed.
 */
export function reevaluate(previous: CustomerState, policy: Policy, at: number, emittedAt: number): ApplyResult {
  return reevaluateInPlace(cloneState(previous), policy, at, emittedAt);
}

/** reevaluate without the copy, for a caller that owns `state`. */
export function reevaluateInPlace(state: CustomerState, policy: Policy, at: number, emittedAt: number): ApplyResult {
  if (state.aggregates.lastSeen['ANY'] === undefined) return { state, transitions: [] };
  const transitions = catchUp(state, policy, at, emittedAt);
  const last = reevaluateAt(state, policy, at, emittedAt);
  transitions.push(...last.transitions);
  return last.settled ? { state, transitions, assessment: last.settled } : { state, transitions };
}

/**
 * Applies a manual override command at the customer's time (the clock does not move: the
 * command's time is the issuer's wall clock, not event time). SET pins the dimension to a
 * tier until `until`; CLEAR ends a pin, releasing the dimension to the tier the rules give
 * now. Either is always a transition (LATERAL when the tier stays), with cause OVERRIDE, the
 * command as cause event and its issue time as cause time: every override is in the audit
 * trail of the transition stream. The pin's natural end is a transition with cause
 * OVERRIDE_EXPIRED (see evaluateInPlace). Throws OverrideError for a command that cannot
 * apply, leaving the state unchanged. Pure: the state passed in is not changed.
 */
export function applyOverride(previous: CustomerState, command: OverrideCommand, policy: Policy, emittedAt: number): ApplyResult {
  return applyOverrideInPlace(cloneState(previous), command, policy, emittedAt);
}

/** applyOverride without the copy, for a caller that owns `state`. */
export function applyOverrideInPlace(state: CustomerState, command: OverrideCommand, policy: Policy, emittedAt: number): ApplyResult {
  checkOverride(policy, command, state);
  const cause: Cause = { kind: 'OVERRIDE', eventId: command.command_id, time: command.issued_at };
  const { dimension } = command;
  const t = state.aggregates.now;
  const ordered = dimension === LIFECYCLE || (policy.dimensions.find((d) => d.name === dimension)?.ordered ?? true);
  const from = state.tiers[dimension];
  const change = (tier: string, rank: number, rule: string, reason: string, inputs: Readonly<Record<string, number>>): TierChange => {
    const direction = directionOf(from, rank, ordered);
    const to = { tier, rank, version: (from?.version ?? 0) + 1, since: t, direction, earned: t };
    state.tiers[dimension] = to;
    return { dimension, from: from && { ...from }, to, direction, rule, reason, inputs };
  };
  let changed: TierChange;
  const assessment = assess(state, policy);
  if (command.action === 'SET') {
    const tier = command.tier as string;
    const until = command.until as number;
    const pin = { tier, until, reason: command.reason, actor: command.actor, issued_at: command.issued_at, command_id: command.command_id };
    state.overrides = { ...state.overrides, [dimension]: pin };
    const rank = dimension === LIFECYCLE ? STAGE_RANK[tier as keyof typeof STAGE_RANK] : (tiersOf(policy, dimension) ?? []).indexOf(tier);
    changed = change(tier, rank, `override.${dimension}`, describePin(pin, dimension), {});
  } else {
    const pin = state.overrides?.[dimension];
    if (state.overrides) delete state.overrides[dimension];
    if (state.overrides && Object.keys(state.overrides).length === 0) delete state.overrides;
    const cleared = `${pin ? describePin(pin, dimension) : dimension} cleared by ${command.actor}: ${command.reason}`;
    if (dimension === LIFECYCLE) {
      const stage = assessment.stage;
      if (!stage) throw new Error('lifecycle override without a lifecycle policy'); // checkOverride rules this out
      changed = change(stage.stage, stage.rank, stage.ruleId, `${cleared}; ${stage.reason}`, stage.inputs);
    } else {
      const outcome = assessment.outcomes.find((o) => o.dimension === dimension)?.outcome;
      if (!outcome) throw new Error(`no outcome for ${dimension}`); // checkOverride rules this out
      const d = outcome.candidate;
      changed = change(d.tier, d.rank, d.rule.ruleId, `${cleared}; ${d.rule.ruleId}: ${d.rule.when.source}`, d.inputs);
    }
  }
  state.metrics = assessment.metrics;
  state.score = assessment.evaluation.score;
  return { state, transitions: publish(state, policy, [changed], assessment.evaluation.variables, cause, emittedAt) };
}

/** Recomputes every dimension's forward signal for the customer as it is (on request), stores them in `state.forward` and returns them. */
export function refreshForwardSignalsInPlace(state: CustomerState, policy: Policy): Record<string, ForwardSignal> {
  state.forward = forwardSignals(state, policy);
  return state.forward;
}
