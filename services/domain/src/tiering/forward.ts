import { advanceTime, DAY_MS, dayOf } from '../aggregates/customer-aggregates';
import { LIFECYCLE, type DimensionDef, type MetricDef, type Policy } from '../policy/policy-model';
import { dimensionMetricDueDays } from './due-time';
import { hysteresisDeadlines } from './hysteresis';
import { lifecycleDeadlines } from './lifecycle';
import { overrideExpiries } from './overrides';
import { assess, evaluateInPlace, type Assessment } from './evaluate-customer';
import { cloneState, orderTimesOf, type CustomerState, type ForwardSignal } from './state-model';

const INTEGER_KINDS: readonly MetricDef['kind'][] = ['sum', 'count', 'max', 'distinct', 'last', 'recency'];
const INTEGER_DERIVED: readonly string[] = ['rfm_r', 'rfm_f', 'rfm_m'];

const isMoney = (m: MetricDef | undefined): boolean => (m?.kind === 'sum' || m?.kind === 'max') && (m.source === 'order.amount' || m.source === 'refund.amount');

const digitsByCurrency = new Map<string, number>();

/** Minor-unit digits of an ISO-4217 currency (2 for CNY, 0 for JPY, 3 for KWD). Memoised: building an Intl.NumberFormat costs tens of microseconds. */
function minorDigits(currency: string): number {
  let digits = digitsByCurrency.get(currency);
  if (digits === undefined) {
    try {
      digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      digits = 2;
    }
    digitsByCurrency.set(currency, digits);
  }
  return digits;
}

const round4 = (v: number): number => Math.round(v * 10_000) / 10_000;

/**
 * What the next tier up (in an ordered dimension) still needs: per variable of its `when`,
 * when that is a conjunction of lower bounds (`spend_365d >= 300000 && orders_365d > 2`). For
 * whole-number variables (money in minor units, counts) `> n` needs floor(n) + 1. Empty when
 * the customer holds the top tier, the dimension is unordered, or the rule has another shape.
 */
export function nextTierGaps(
  dimension: DimensionDef,
  heldTier: string | undefined,
  vars: Readonly<Record<string, number>>,
  policy: Policy,
): { next_tier: string | null; next_tier_gaps: Record<string, number>; next_tier_hint: string | null } {
  const rank = dimension.tiers.findIndex((t) => t.name === heldTier);
  const next = dimension.ordered && rank > 0 ? dimension.tiers[rank - 1] : undefined;
  if (!next) return { next_tier: null, next_tier_gaps: {}, next_tier_hint: null };
  const gaps: Record<string, number> = {};
  const moreThan = new Set<string>();
  for (const th of next.when.thresholds ?? []) {
    const metric = policy.metrics.find((m) => m.name === th.variable);
    const whole = metric ? INTEGER_KINDS.includes(metric.kind) : INTEGER_DERIVED.includes(th.variable);
    const v = vars[th.variable] ?? 0;
    const target = whole ? (th.strict ? Math.floor(th.value) + 1 : Math.ceil(th.value)) : th.value;
    const exclusive = !whole && th.strict;
    if (exclusive ? v > target : v >= target) continue;
    const needed = round4(target - v);
    if (gaps[th.variable] !== undefined && needed < (gaps[th.variable] ?? 0)) continue;
    gaps[th.variable] = needed;
    if (exclusive) moreThan.add(th.variable);
    else moreThan.delete(th.variable);
  }
  const parts = Object.entries(gaps).map(([name, n]) => {
    if (isMoney(policy.metrics.find((m) => m.name === name))) {
      const digits = minorDigits(policy.currency);
      return `${(n / 10 ** digits).toFixed(digits)} ${policy.currency} more ${name}`;
    }
    return `${moreThan.has(name) ? 'more than ' : ''}${n} more ${name}`;
  });
  return { next_tier: next.name, next_tier_gaps: gaps, next_tier_hint: parts.length > 0 ? `needs ${parts.join(' and ')} for ${next.name}` : null };
}

/** How far ahead the loss of a tier is looked for: every window, grace and min-days period, and lifecycle deadline can pass. */
export function forwardHorizonDays(policy: Policy): number {
  const hold = Math.max(0, ...policy.dimensions.map((d) => d.hysteresis.graceDays + d.hysteresis.minDaysBetweenChanges));
  const l = policy.lifecycle;
  const life = l ? l.churnedAfterDays + Math.max(l.newForDays, l.reactivatedForDays) : 0;
  return policy.maxWindowDays + hold + life + 1;
}

/**
 * For each dimension, the first time its tier changes if the customer does nothing more, and
 * to which tier: re-evaluates a copy of the state at every time a decision can change (the
 * due times of the decisions scope) up to the horizon, as a sweep would. Dimensions that do
 * not change within it are absent. `wanted` limits the search to those dimensions (a
 * transition needs the signal of its own dimension only): each dimension's result is the
 * same either way, and the simulation ends when the wanted ones are found.
 */
export function simulateLoss(state: CustomerState, policy: Policy, wanted?: ReadonlySet<string>, settled?: Assessment): Map<string, { at: number; to: string }> {
  const found = new Map<string, { at: number; to: string }>();
  if (state.aggregates.lastSeen['ANY'] === undefined) return found;
  const sim = cloneState(state, false);
  const horizon = dayOf(state.aggregates.now) + forwardHorizonDays(policy);
  // Without new events the days windows change on and the lifecycle deadlines are known now,
  // per dimension: a dimension's tier depends on its own inputs and holding alone, so only
  // the times that can change a dimension not yet found are visited. Only the ends of grace
  // and min-days periods move, with each transition.
  const pins = overrideExpiries(sim);
  const fixed = new Map<string, number[]>();
  for (const d of policy.dimensions) {
    if (wanted && !wanted.has(d.name)) continue;
    fixed.set(d.name, [...dimensionMetricDueDays(sim, policy, d.name, horizon).map((day) => day * DAY_MS), ...pins].sort((x, y) => x - y));
  }
  if (policy.lifecycle && (!wanted || wanted.has(LIFECYCLE))) {
    fixed.set(LIFECYCLE, [...lifecycleDeadlines(policy.lifecycle, orderTimesOf(sim), dayOf(sim.aggregates.now)), ...pins].sort((x, y) => x - y));
  }
  const next = new Map([...fixed.keys()].map((d) => [d, 0]));
  const defs = new Map(policy.dimensions.map((d) => [d.name, d]));
  let heldBy = new Map((settled ?? assess(sim, policy)).outcomes.map(({ dimension, outcome }) => [dimension, outcome.heldBy]));
  while (next.size > 0) {
    const now = sim.aggregates.now;
    let due: number | undefined;
    for (const [dimension, i] of next) {
      const times = fixed.get(dimension) ?? [];
      let j = i;
      while (j < times.length && (times[j] ?? 0) <= now) j++;
      next.set(dimension, j);
      const t = times[j];
      if (t !== undefined && (due === undefined || t < due)) due = t;
      const def = defs.get(dimension);
      const holding = sim.tiers[dimension];
      if (!def || !holding) continue;
      for (const h of hysteresisDeadlines(def, holding, heldBy.get(dimension), dayOf(now), DAY_MS)) if (h > now && (due === undefined || h < due)) due = h;
    }
    if (due === undefined || dayOf(due) > horizon) break;
    advanceTime(sim.aggregates, policy, due);
    const { assessment, changes } = evaluateInPlace(sim, policy, due, false, false, new Set(next.keys()));
    heldBy = new Map(assessment.outcomes.map(({ dimension, outcome }) => [dimension, outcome.move ? undefined : outcome.heldBy]));
    for (const change of changes) {
      if (!next.delete(change.dimension)) continue;
      found.set(change.dimension, { at: due, to: change.to.tier });
    }
  }
  return found;
}

/**
 * Every dimension's forward signal for the customer as it is (or those of `dimensions`): the
 * next tier up and what it needs, and when the current tier would be lost without new
 * activity. Pure; costs a forward simulation, so it is computed when a transition is emitted
 * (for the dimensions that moved) or on request, not per event.
 */
export function forwardSignals(
  state: CustomerState,
  policy: Policy,
  vars: Readonly<Record<string, number>> = assess(state, policy).evaluation.variables,
  dimensions?: ReadonlySet<string>,
  /** The assessment of `state` as it is, if the caller has it (see settledAssessment). */
  settled?: Assessment,
): Record<string, ForwardSignal> {
  const losses = simulateLoss(state, policy, dimensions, settled);
  const out: Record<string, ForwardSignal> = {};
  const signal = (dimension: string, next: ReturnType<typeof nextTierGaps>): void => {
    if (!state.tiers[dimension]) return;
    const loss = losses.get(dimension);
    out[dimension] = {
      next_tier: next.next_tier,
      next_tier_gaps: next.next_tier_gaps,
      next_tier_hint: next.next_tier_hint,
      tier_lost_at: loss?.at ?? null,
      tier_lost_to: loss?.to ?? null,
      as_of: state.aggregates.now,
    };
  };
  for (const d of policy.dimensions) if (!dimensions || dimensions.has(d.name)) signal(d.name, nextTierGaps(d, state.tiers[d.name]?.tier, vars, policy));
  if (policy.lifecycle && (!dimensions || dimensions.has(LIFECYCLE))) signal(LIFECYCLE, { next_tier: null, next_tier_gaps: {}, next_tier_hint: null });
  return out;
}
