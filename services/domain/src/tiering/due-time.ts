import { DAY_MS, dayOf, nextChangeDay, windowExitDays } from '../aggregates/customer-aggregates';
import type { MetricDef, Policy } from '../policy/policy-model';
import { assess } from './evaluate-customer';
import { hysteresisDeadlines, type HeldBy } from './hysteresis';
import { lifecycleDeadlines } from './lifecycle';
import { overrideExpiries } from './overrides';
import { orderTimesOf, type CustomerState } from './state-model';

/**
 * - `metrics`: the next time any metric value, tier or stage can change (a `recency`
 *   metric grows every day, so a customer with one is due every day).
 * - `decisions`: the next time a tier or a stage can change: metrics no rule, weight or RFM
 *   axis reads are ignored, and a recency metric read only by an RFM axis counts only on
 *   the days it crosses one of the axis cut-offs. What a sweep should schedule by.
 */
export type DueScope = 'metrics' | 'decisions';

interface Readers {
  /** Metrics whose every change can matter. */
  readonly exact: ReadonlySet<string>;
  /** Recency metrics read only by RFM axes: the days on which their score changes matter. */
  readonly rfmRecency: ReadonlyMap<string, readonly { readonly cut: number; readonly lowerIsBetter: boolean }[]>;
}

const readersCache = new WeakMap<Policy, Readers>();

/** Which metrics the policy's decisions read, directly or through a ratio. */
function readersOf(policy: Policy): Readers {
  const cached = readersCache.get(policy);
  if (cached) return cached;
  const byName = new Map(policy.metrics.map((m) => [m.name, m]));
  const exact = new Set<string>();
  const add = (name: string): void => {
    const m = byName.get(name);
    if (!m || exact.has(name)) return;
    exact.add(name);
    if (m.kind === 'ratio') {
      add(m.numerator);
      add(m.denominator);
    }
  };
  for (const d of policy.dimensions) {
    for (const t of d.tiers) for (const ident of [...t.when.identifiers, ...(t.keepWhen?.identifiers ?? [])]) add(ident);
  }
  for (const p of policy.scoring.points) for (const ident of p.when.identifiers) add(ident);
  for (const name of Object.keys(policy.scoring.weights)) add(name);
  const rfmRecency = new Map<string, { cut: number; lowerIsBetter: boolean }[]>();
  const rfm = policy.scoring.rfm;
  for (const axis of rfm ? [rfm.recency, rfm.frequency, rfm.monetary] : []) {
    const m = byName.get(axis.metric);
    if (m?.kind === 'recency' && !exact.has(m.name)) {
      rfmRecency.set(m.name, [...(rfmRecency.get(m.name) ?? []), ...axis.cuts.map((cut) => ({ cut, lowerIsBetter: axis.lowerIsBetter }))]);
    } else add(axis.metric);
  }
  const readers = { exact, rfmRecency };
  readersCache.set(policy, readers);
  return readers;
}

/** The days after `today` on which a recency metric's RFM score changes (recency = day - lastDay). */
function rfmRecencyDays(lastDay: number, today: number, cuts: readonly { cut: number; lowerIsBetter: boolean }[]): number[] {
  // `<= cut` stops holding the day after recency reaches the cut; `>= cut` starts holding on it.
  return cuts.map(({ cut, lowerIsBetter }) => lastDay + (lowerIsBetter ? cut + 1 : cut)).filter((d) => d > today);
}

/**
 * Days after the aggregates' day on which a metric that matters in `scope` can change without
 * new events: the first such day per metric, or (with `until`) every such day up to that day.
 */
export function metricDueDays(state: CustomerState, policy: Policy, scope: DueScope, until?: number): number[] {
  const today = dayOf(state.aggregates.now);
  const readers = scope === 'decisions' ? readersOf(policy) : undefined;
  const out: number[] = [];
  for (const m of policy.metrics as readonly MetricDef[]) {
    if (!readers || readers.exact.has(m.name)) {
      if (until === undefined) {
        const d = nextChangeDay(state.aggregates, m);
        if (d !== undefined) out.push(d);
      } else if (m.kind === 'recency') {
        if (state.aggregates.lastSeen[m.source] !== undefined) for (let d = today + 1; d <= until; d++) out.push(d);
      } else out.push(...windowExitDays(state.aggregates, m));
      continue;
    }
    const cuts = readers.rfmRecency.get(m.name);
    const seen = m.kind === 'recency' ? state.aggregates.lastSeen[m.source] : undefined;
    if (cuts && seen !== undefined) {
      const days = rfmRecencyDays(dayOf(seen), today, cuts);
      out.push(...(until === undefined ? days.slice().sort((a, b) => a - b).slice(0, 1) : days));
    }
  }
  return until === undefined ? out : out.filter((d) => d <= until);
}

/** The ends of the grace and min-days periods that keep tiers now (per dimension, what keeps it), as times. */
export function hysteresisDueTimes(state: CustomerState, policy: Policy, heldBy: ReadonlyMap<string, HeldBy | undefined>): number[] {
  const today = dayOf(state.aggregates.now);
  const out: number[] = [];
  for (const def of policy.dimensions) {
    const holding = state.tiers[def.name];
    if (holding) out.push(...hysteresisDeadlines(def, holding, heldBy.get(def.name), today, DAY_MS));
  }
  return out;
}

/**
 * The earliest event time after the customer's time (its aggregates' `now`) at which a
 * re-evaluation could change something, or undefined if nothing can change without a new
 * event: the day a windowed contribution leaves its window, a lifecycle deadline, the end of
 * a grace or min-days period that keeps a tier, the end of a manual pin. The start (00:00 UTC)
 * of a day, since windows and deadlines count whole days, except for the end of a pin (any
 * time). See DueScope. Pure.
 */
export function nextDueTime(state: CustomerState, policy: Policy, options: { readonly scope?: DueScope } = {}): number | undefined {
  if (state.aggregates.lastSeen['ANY'] === undefined) return undefined;
  const today = dayOf(state.aggregates.now);
  const candidates = metricDueDays(state, policy, options.scope ?? 'metrics').map((d) => d * DAY_MS);
  if (policy.lifecycle) candidates.push(...lifecycleDeadlines(policy.lifecycle, orderTimesOf(state), today));
  if (policy.dimensions.some((d) => d.hysteresis.graceDays > 0 || d.hysteresis.minDaysBetweenChanges > 0)) {
    const heldBy = new Map(assess(state, policy).outcomes.map(({ dimension, outcome }) => [dimension, outcome.heldBy]));
    candidates.push(...hysteresisDueTimes(state, policy, heldBy));
  }
  candidates.push(...overrideExpiries(state));
  let first: number | undefined;
  for (const c of candidates) if (c > state.aggregates.now && (first === undefined || c < first)) first = c;
  return first;
}
