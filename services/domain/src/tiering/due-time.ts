import { DAY_MS, dayOf, nextChangeDay, windowExitDays } from '../aggregates/customer-aggregates';
import type { MetricDef, Policy } from '../policy/policy-model';
import { assess, type Assessment } from './evaluate-customer';
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
const dimensionReadersCache = new WeakMap<Policy, Map<string, Readers>>();

/**
 * Which metrics the given variables read, directly or through a ratio, `score`, `points` or
 * an RFM score. `allRfmAxes` counts every RFM axis as read (the whole policy's scope).
 */
function readersFor(policy: Policy, variables: Iterable<string>, allRfmAxes: boolean): Readers {
  const byName = new Map(policy.metrics.map((m) => [m.name, m]));
  const rfm = policy.scoring.rfm;
  const axes = new Map(rfm ? [['rfm_r', rfm.recency], ['rfm_f', rfm.frequency], ['rfm_m', rfm.monetary]] : []);
  const exact = new Set<string>();
  const readAxes = new Set<string>(allRfmAxes ? axes.keys() : []);
  const seenVars = new Set<string>();
  const add = (name: string): void => {
    if (seenVars.has(name)) return;
    seenVars.add(name);
    if (name === 'score' || name === 'points') {
      for (const p of policy.scoring.points) for (const ident of p.when.identifiers) add(ident);
      if (name === 'score') for (const w of Object.keys(policy.scoring.weights)) add(w);
      return;
    }
    if (axes.has(name)) readAxes.add(name);
    const m = byName.get(name);
    if (!m || exact.has(name)) return;
    exact.add(name);
    if (m.kind === 'ratio') {
      add(m.numerator);
      add(m.denominator);
    }
  };
  for (const v of variables) add(v);
  const rfmRecency = new Map<string, { cut: number; lowerIsBetter: boolean }[]>();
  for (const [variable, axis] of axes) {
    if (!readAxes.has(variable)) continue;
    const m = byName.get(axis.metric);
    if (m?.kind === 'recency' && !exact.has(m.name)) {
      rfmRecency.set(m.name, [...(rfmRecency.get(m.name) ?? []), ...axis.cuts.map((cut) => ({ cut, lowerIsBetter: axis.lowerIsBetter }))]);
    } else add(axis.metric);
  }
  return { exact, rfmRecency };
}

/** Which metrics the policy's decisions read, directly or through a ratio. */
function readersOf(policy: Policy): Readers {
  let readers = readersCache.get(policy);
  if (!readers) {
    const variables = policy.dimensions.flatMap((d) => d.tiers.flatMap((t) => [...t.when.identifiers, ...(t.keepWhen?.identifiers ?? [])]));
    readers = readersFor(policy, [...variables, ...policy.scoring.points.flatMap((p) => p.when.identifiers), ...Object.keys(policy.scoring.weights)], true);
    readersCache.set(policy, readers);
  }
  return readers;
}

/** Which metrics one dimension's rules read (`score` and RFM scores through what they are made of). */
function dimensionReadersOf(policy: Policy, dimension: string): Readers {
  let byDimension = dimensionReadersCache.get(policy);
  if (!byDimension) dimensionReadersCache.set(policy, (byDimension = new Map()));
  let readers = byDimension.get(dimension);
  if (!readers) {
    const def = policy.dimensions.find((d) => d.name === dimension);
    readers = readersFor(policy, def ? def.tiers.flatMap((t) => [...t.when.identifiers, ...(t.keepWhen?.identifiers ?? [])]) : [], false);
    byDimension.set(dimension, readers);
  }
  return readers;
}

/** The days after `today` on which a recency metric's RFM score changes (recency = day - lastDay). */
function rfmRecencyDays(lastDay: number, today: number, cuts: readonly { cut: number; lowerIsBetter: boolean }[]): number[] {
  // `<= cut` stops holding the day after recency reaches the cut; `>= cut` starts holding on it.
  return cuts.map(({ cut, lowerIsBetter }) => lastDay + (lowerIsBetter ? cut + 1 : cut)).filter((d) => d > today);
}

/**
 * Days after the aggregates' day on which a metric that matters in `scope` can change without
 * new events: the first such day per metric.
 */
export function metricDueDays(state: CustomerState, policy: Policy, scope: DueScope): number[] {
  return dueDaysOf(state, policy, scope === 'decisions' ? readersOf(policy) : undefined);
}

/**
 * Days after the aggregates' day, up to `until`, on which a metric one policy dimension's
 * rules read can change without new events: the days its tier can change on, hysteresis and
 * pins aside (see dimensionDueTimes).
 */
export function dimensionMetricDueDays(state: CustomerState, policy: Policy, dimension: string, until: number): number[] {
  return dueDaysOf(state, policy, dimensionReadersOf(policy, dimension), until);
}

function dueDaysOf(state: CustomerState, policy: Policy, readers: Readers | undefined, until?: number): number[] {
  const today = dayOf(state.aggregates.now);
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
export function nextDueTime(
  state: CustomerState,
  policy: Policy,
  options: {
    readonly scope?: DueScope;
    /** An assessment of the state as it is now (an evaluation that changed nothing), to save computing it again. */
    readonly assessment?: Assessment;
  } = {},
): number | undefined {
  if (state.aggregates.lastSeen['ANY'] === undefined) return undefined;
  return firstDue(state, policy, metricDueDays(state, policy, options.scope ?? 'metrics'), options.assessment);
}

/** The earliest of the metric due days (as times) and every other due time of the state, after its time. */
function firstDue(state: CustomerState, policy: Policy, metricDays: readonly number[], assessment: Assessment | undefined): number | undefined {
  const today = dayOf(state.aggregates.now);
  const candidates = metricDays.map((d) => d * DAY_MS);
  if (policy.lifecycle) candidates.push(...lifecycleDeadlines(policy.lifecycle, orderTimesOf(state), today));
  if (policy.dimensions.some((d) => d.hysteresis.graceDays > 0 || d.hysteresis.minDaysBetweenChanges > 0)) {
    const heldBy = new Map((assessment ?? assess(state, policy)).outcomes.map(({ dimension, outcome }) => [dimension, outcome.heldBy]));
    candidates.push(...hysteresisDueTimes(state, policy, heldBy));
  }
  candidates.push(...overrideExpiries(state));
  let first: number | undefined;
  for (const c of candidates) if (c > state.aggregates.now && (first === undefined || c < first)) first = c;
  return first;
}

/**
 * nextDueTime in the decisions scope for one customer while time passes without events (a
 * catch-up): the same answer for the state as it is at each call, but each metric's next
 * change day is computed again only once it is reached. Without events it cannot move before:
 * buckets and sightings only leave their windows, and the first to leave stays the first.
 * Valid only while no event is added to the state.
 */
export class DecisionDueCursor {
  private readonly metrics: readonly MetricDef[];
  private readonly readers: Readers;
  /** Per metric of the policy: its next change day that matters, undefined for never, null before the first call. */
  private readonly days: (number | undefined | null)[];

  constructor(
    private readonly state: CustomerState,
    private readonly policy: Policy,
  ) {
    this.metrics = policy.metrics;
    this.readers = readersOf(policy);
    this.days = this.metrics.map(() => null);
  }

  next(assessment?: Assessment): number | undefined {
    if (this.state.aggregates.lastSeen['ANY'] === undefined) return undefined;
    const today = dayOf(this.state.aggregates.now);
    const due: number[] = [];
    for (let i = 0; i < this.metrics.length; i++) {
      let d = this.days[i];
      if (d === null || (d !== undefined && d <= today)) this.days[i] = d = this.metricDay(this.metrics[i] as MetricDef, today);
      if (d !== undefined) due.push(d);
    }
    return firstDue(this.state, this.policy, due, assessment);
  }

  /** What dueDaysOf gives for one metric in the decisions scope: its first due day after today, if any. */
  private metricDay(m: MetricDef, today: number): number | undefined {
    if (this.readers.exact.has(m.name)) return nextChangeDay(this.state.aggregates, m);
    const cuts = this.readers.rfmRecency.get(m.name);
    const seen = m.kind === 'recency' ? this.state.aggregates.lastSeen[m.source] : undefined;
    if (!cuts || seen === undefined) return undefined;
    let first: number | undefined;
    for (const d of rfmRecencyDays(dayOf(seen), today, cuts)) if (first === undefined || d < first) first = d;
    return first;
  }
}
