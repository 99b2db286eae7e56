import type { CountSource, LastSource, MetricDef, Policy, SumSource } from '../policy/policy-model';
import type { CustomerEvent } from '../events';

export const DAY_MS = 86_400_000;
/** recency_days of a customer who never did the thing: larger than any window. */
export const NEVER_DAYS = 99_999;

/**
 * A customer's rolling aggregates, JSON-serialisable. Daily buckets per series plus a
 * running sum per (series, window): an event adds to its bucket and to the running sums
 * whose window holds its day; advancing time subtracts the buckets that slid out. Each
 * bucket is added once and subtracted once per window: O(1) amortised per event, and
 * memory bounded by the longest window.
 */
export interface AggregateState {
  /** The latest event time seen for this customer (ms); windows end on its day. */
  now: number;
  /** series → its day buckets (sum, count, or the day's max), see DayBuckets. */
  buckets: Record<string, DayBuckets>;
  /** `series@days` → running total over days [from, today]. */
  running: Record<string, { sum: number; from: number }>;
  /** series → total (or max) over the customer's lifetime. */
  lifetime: Record<string, number>;
  /** `distinct:<source>` → value → last day seen. */
  distinct: Record<string, Record<string, number>>;
  /** `last:<source>` → latest value by event time. */
  last: Record<string, { value: number; at: number }>;
  /** count source → latest event time of that kind. */
  lastSeen: Record<string, number>;
}

/**
 * One series' day buckets as a flat array `[day, value, day, value, …]`, days ascending and
 * distinct. An array rather than an object keyed by day: day numbers are sparse array
 * indices, which V8 keeps in a slow dictionary, and every window slide, evaluation and
 * record write walks these.
 */
export type DayBuckets = number[];

/** The index (even) of the first bucket on or after `day`, or `b.length`. */
export function firstBucketFrom(b: DayBuckets, day: number): number {
  let lo = 0;
  let hi = b.length >> 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((b[mid * 2] as number) < day) lo = mid + 1;
    else hi = mid;
  }
  return lo * 2;
}

export const emptyAggregates = (): AggregateState => ({ now: 0, buckets: {}, running: {}, lifetime: {}, distinct: {}, last: {}, lastSeen: {} });

export class CurrencyError extends Error {
  constructor(readonly currency: string, policyCurrency: string) {
    super(`no fx rate from ${currency} to the policy currency ${policyCurrency}`);
    this.name = 'CurrencyError';
  }
}

/** The UTC calendar day of an event time: windows, recency and every deadline count in these. */
export const dayOf = (ms: number): number => Math.floor(ms / DAY_MS);

/** The kinds an event counts as, for count and recency metrics. */
export function countSourcesOf(e: CustomerEvent): CountSource[] {
  const kinds: CountSource[] = ['ANY', e.type];
  if (e.interaction) kinds.push(e.interaction.kind === 'OTHER' ? 'INTERACTION' : e.interaction.kind);
  if (e.feedback) kinds.push(e.feedback.kind);
  return kinds;
}

/** The currency of the event's money that the policy cannot convert, if any. */
export function unconvertibleCurrency(e: CustomerEvent, policy: Policy): string | undefined {
  const currency = e.order?.currency ?? e.refund?.currency;
  return currency === undefined || currency === policy.currency || policy.fxRates[currency] !== undefined ? undefined : currency;
}

function toPolicyCurrency(amountMinor: number, currency: string, policy: Policy): number {
  if (currency === policy.currency) return amountMinor;
  const rate = policy.fxRates[currency];
  if (rate === undefined) throw new CurrencyError(currency, policy.currency);
  return Math.round(amountMinor * rate);
}

function sumSourceValue(e: CustomerEvent, source: SumSource, policy: Policy): number | undefined {
  switch (source) {
    case 'order.amount':
      return e.order ? toPolicyCurrency(e.order.amount_minor, e.order.currency, policy) : undefined;
    case 'refund.amount':
      return e.refund ? toPolicyCurrency(e.refund.amount_minor, e.refund.currency, policy) : undefined;
    case 'order.items':
      return e.order ? e.order.item_count : undefined;
  }
}

const seriesOf = (m: MetricDef): string | undefined =>
  m.kind === 'sum' || m.kind === 'count' || m.kind === 'max' ? `${m.kind}:${m.source}` : m.kind === 'distinct' ? `distinct:${m.source}` : undefined;

/**
 * Slides every running window to end on `nowDay` (a window new to the policy starts from
 * the buckets already kept), and on a new day drops buckets no window needs any more.
 */
interface WindowPlan {
  /** `series@days` of every windowed sum and count. */
  readonly keys: ReadonlySet<string>;
  readonly windows: readonly { readonly series: string; readonly key: string; readonly days: number }[];
  /** Distinct series kept for the customer's lifetime: never expired. */
  readonly lifetimeDistinct: ReadonlySet<string>;
}

// Per metric list, built once: advance runs for every event and every simulated day.
const windowPlans = new WeakMap<readonly MetricDef[], WindowPlan>();

function windowPlanOf(policy: Policy): WindowPlan {
  let plan = windowPlans.get(policy.metrics);
  if (!plan) {
    const windows: { series: string; key: string; days: number }[] = [];
    for (const m of policy.metrics) {
      if ((m.kind !== 'sum' && m.kind !== 'count') || m.window === null) continue;
      const series = `${m.kind}:${m.source}`;
      const key = `${series}@${m.window}`;
      if (!windows.some((w) => w.key === key)) windows.push({ series, key, days: m.window });
    }
    const lifetimeDistinct = new Set(policy.metrics.filter((m) => m.kind === 'distinct' && m.window === null).map((m) => `distinct:${'source' in m ? m.source : ''}`));
    plan = { keys: new Set(windows.map((w) => w.key)), windows, lifetimeDistinct };
    windowPlans.set(policy.metrics, plan);
  }
  return plan;
}

function advance(state: AggregateState, policy: Policy, nowDay: number, newDay: boolean): void {
  const plan = windowPlanOf(policy);
  // A window the policy no longer has would be stale if it came back (a rollback): forget it.
  for (const key in state.running) if (!plan.keys.has(key)) delete state.running[key];
  for (const { series, key, days } of plan.windows) {
    const from = nowDay - days + 1;
    const r = state.running[key];
    const b = state.buckets[series];
    if (!r) {
      let sum = 0;
      if (b) for (let i = firstBucketFrom(b, from); i < b.length; i += 2) sum += b[i + 1] as number;
      state.running[key] = { sum, from };
      continue;
    }
    if (from <= r.from) continue;
    // Subtract the buckets that slid out.
    if (b) for (let i = firstBucketFrom(b, r.from); i < b.length && (b[i] as number) < from; i += 2) r.sum -= b[i + 1] as number;
    r.from = from;
  }
  if (!newDay) return;
  const oldest = nowDay - policy.maxWindowDays + 1;
  for (const series in state.buckets) {
    const b = state.buckets[series] as DayBuckets;
    if (b.length > 0 && (b[0] as number) < oldest) b.splice(0, firstBucketFrom(b, oldest));
  }
  for (const series in state.distinct) {
    if (plan.lifetimeDistinct.has(series)) continue;
    const values = state.distinct[series] ?? {};
    for (const v in values) if ((values[v] ?? 0) < oldest) delete values[v];
  }
}

/** Adds `value` to the bucket of `day` (or keeps the larger, for a max series), making the bucket if there is none. */
function addToBucket(b: DayBuckets, day: number, value: number, isMax: boolean): void {
  const n = b.length;
  // Events mostly come in time order: the bucket is the last one, or a new last one.
  const i = n > 0 && (b[n - 2] as number) < day ? n : n > 0 && b[n - 2] === day ? n - 2 : firstBucketFrom(b, day);
  if (i < n && b[i] === day) {
    b[i + 1] = isMax ? Math.max(b[i + 1] as number, value) : (b[i + 1] as number) + value;
    return;
  }
  const v = isMax ? Math.max(0, value) : value;
  if (i === n) b.push(day, v);
  else b.splice(i, 0, day, v);
}

/**
 * Adds one event to the aggregates (mutating `state`). Late events count wherever
 * their day still lies inside a window; events older than every window count only
 * towards lifetime metrics. Throws CurrencyError for money it cannot convert.
 */
export function addEvent(state: AggregateState, e: CustomerEvent, policy: Policy): void {
  const previousDay = dayOf(state.now);
  state.now = Math.max(state.now, e.event_time);
  const nowDay = dayOf(state.now);
  advance(state, policy, nowDay, nowDay !== previousDay);
  const day = dayOf(e.event_time);
  const oldest = nowDay - policy.maxWindowDays + 1;
  const counts = countSourcesOf(e);
  const added = new Set<string>();
  for (const m of policy.metrics) {
    const series = seriesOf(m);
    if (series === undefined || added.has(series)) continue;
    let value: number | undefined;
    if (m.kind === 'sum' || m.kind === 'max') value = sumSourceValue(e, m.source, policy);
    else if (m.kind === 'count') value = counts.includes(m.source) ? 1 : undefined;
    else if (m.kind === 'distinct') {
      const v = m.source === 'channel' ? e.channel : e.region;
      if (v !== null && (day >= oldest || m.window === null)) {
        const seen = (state.distinct[series] ??= {});
        seen[v] = Math.max(seen[v] ?? day, day);
      }
      added.add(series);
      continue;
    }
    if (value === undefined) continue;
    added.add(series);
    const isMax = m.kind === 'max';
    state.lifetime[series] = isMax ? Math.max(state.lifetime[series] ?? 0, value) : (state.lifetime[series] ?? 0) + value;
    if (day < oldest) continue;
    addToBucket((state.buckets[series] ??= []), day, value, isMax);
    if (isMax) continue;
    for (const w of policy.metrics) {
      if ((w.kind !== 'sum' && w.kind !== 'count') || w.kind !== m.kind || w.source !== m.source || w.window === null) continue;
      const r = state.running[`${series}@${w.window}`];
      if (r && day >= r.from && day <= nowDay) r.sum += value;
    }
  }
  for (const kind of counts) state.lastSeen[kind] = Math.max(state.lastSeen[kind] ?? 0, e.event_time);
  noteLast(state, 'feedback.score', e.feedback?.score ?? null, e.event_time);
  if (e.order && policy.metrics.some((m) => m.kind === 'last' && m.source === 'order.amount')) noteLast(state, 'order.amount', sumSourceValue(e, 'order.amount', policy) ?? null, e.event_time);
}

function noteLast(state: AggregateState, source: LastSource, value: number | null, at: number): void {
  if (value === null) return;
  const prev = state.last[`last:${source}`];
  // Equal times: the higher value wins, so the result does not depend on arrival order.
  if (!prev || at > prev.at || (at === prev.at && value > prev.value)) state.last[`last:${source}`] = { value, at };
}

/**
 * Moves the aggregates' clock to `at` without an event (re-evaluation): windows slide to end
 * on `at`'s day, buckets no window needs expire, recency grows. Nothing happens when `at` is
 * not later than `now`. Returns whether the clock moved. Events older than `at` applied
 * afterwards are late events.
 */
export function advanceTime(state: AggregateState, policy: Policy, at: number): boolean {
  if (at <= state.now) return false;
  const previousDay = dayOf(state.now);
  state.now = at;
  const nowDay = dayOf(at);
  advance(state, policy, nowDay, nowDay !== previousDay);
  return true;
}

/**
 * The first day after the aggregates' day on which the value of windowed metric `m` changes
 * without any new event (a contribution slides out of its window), or undefined if it never
 * does (lifetime windows, `last`, `ratio`: a ratio changes with its two metrics). `recency`
 * grows every day once the kind was seen: the next day.
 */
export function nextChangeDay(state: AggregateState, m: MetricDef): number | undefined {
  const nowDay = dayOf(state.now);
  if (m.kind === 'recency') return state.lastSeen[m.source] === undefined ? undefined : nowDay + 1;
  if (m.kind === 'last' || m.kind === 'ratio' || m.window === null) return undefined;
  const from = nowDay - m.window + 1;
  if (m.kind === 'distinct') {
    let first: number | undefined;
    for (const d of Object.values(state.distinct[`distinct:${m.source}`] ?? {})) if (d >= from && (first === undefined || d < first)) first = d;
    return first === undefined ? undefined : first + m.window;
  }
  const b = state.buckets[`${m.kind}:${m.source}`] ?? [];
  if (m.kind === 'max') {
    // The maximum changes once the last bucket holding it has left the window.
    let max = 0;
    let lastOfMax: number | undefined;
    for (let i = firstBucketFrom(b, from); i < b.length; i += 2) {
      const d = b[i] as number;
      const v = b[i + 1] as number;
      if (v <= 0) continue;
      if (v > max) {
        max = v;
        lastOfMax = d;
      } else if (v === max && (lastOfMax === undefined || d > lastOfMax)) lastOfMax = d;
    }
    return lastOfMax === undefined ? undefined : lastOfMax + m.window;
  }
  // Ascending: the first nonzero bucket inside the window is the earliest.
  for (let i = firstBucketFrom(b, from); i < b.length; i += 2) if (b[i + 1] !== 0) return (b[i] as number) + m.window;
  return undefined;
}

/**
 * Every day after the aggregates' day on which a contribution now inside windowed metric
 * `m`'s window leaves it (for `max`, a positive one; it may or may not be the maximum): a
 * superset of the days its value changes without new events. Empty for lifetime windows,
 * `last`, `ratio` and `recency` (which grows every day).
 */
export function windowExitDays(state: AggregateState, m: MetricDef): number[] {
  if (m.kind === 'recency' || m.kind === 'last' || m.kind === 'ratio' || m.window === null) return [];
  const from = dayOf(state.now) - m.window + 1;
  const out: number[] = [];
  if (m.kind === 'distinct') {
    for (const d of Object.values(state.distinct[`distinct:${m.source}`] ?? {})) if (d >= from) out.push(d + m.window);
    return out;
  }
  const b = state.buckets[`${m.kind}:${m.source}`] ?? [];
  for (let i = firstBucketFrom(b, from); i < b.length; i += 2) {
    const v = b[i + 1] as number;
    if (m.kind === 'max' ? v > 0 : v !== 0) out.push((b[i] as number) + m.window);
  }
  return out;
}

/** Where each metric's value is read from, with its keys built once per policy (metricValues runs for every evaluation). */
type MetricRead =
  | { readonly kind: 'running'; readonly name: string; readonly key: string }
  | { readonly kind: 'lifetime'; readonly name: string; readonly key: string }
  | { readonly kind: 'max'; readonly name: string; readonly key: string; readonly window: number }
  | { readonly kind: 'distinct'; readonly name: string; readonly key: string; readonly window: number | null }
  | { readonly kind: 'last'; readonly name: string; readonly key: string }
  | { readonly kind: 'recency'; readonly name: string; readonly key: string };

const metricReads = new WeakMap<readonly MetricDef[], MetricRead[]>();

function metricReadsOf(policy: Policy): MetricRead[] {
  let reads = metricReads.get(policy.metrics);
  if (!reads) {
    reads = [];
    for (const m of policy.metrics) {
      switch (m.kind) {
        case 'sum':
        case 'count':
          reads.push(m.window === null ? { kind: 'lifetime', name: m.name, key: `${m.kind}:${m.source}` } : { kind: 'running', name: m.name, key: `${m.kind}:${m.source}@${m.window}` });
          break;
        case 'max':
          reads.push(m.window === null ? { kind: 'lifetime', name: m.name, key: `max:${m.source}` } : { kind: 'max', name: m.name, key: `max:${m.source}`, window: m.window });
          break;
        case 'distinct':
          reads.push({ kind: 'distinct', name: m.name, key: `distinct:${m.source}`, window: m.window });
          break;
        case 'last':
          reads.push({ kind: 'last', name: m.name, key: `last:${m.source}` });
          break;
        case 'recency':
          reads.push({ kind: 'recency', name: m.name, key: m.source });
          break;
        case 'ratio':
          break;
      }
    }
    metricReads.set(policy.metrics, reads);
  }
  return reads;
}

/** Every metric's value at the aggregates' `now` (money in minor units of the policy currency). */
export function metricValues(state: AggregateState, policy: Policy): Record<string, number> {
  const nowDay = dayOf(state.now);
  const out: Record<string, number> = {};
  for (const r of metricReadsOf(policy)) {
    switch (r.kind) {
      case 'running':
        out[r.name] = state.running[r.key]?.sum ?? 0;
        break;
      case 'lifetime':
        out[r.name] = state.lifetime[r.key] ?? 0;
        break;
      case 'max': {
        const b = state.buckets[r.key] ?? [];
        let max = 0;
        for (let i = firstBucketFrom(b, nowDay - r.window + 1); i < b.length; i += 2) if ((b[i + 1] as number) > max) max = b[i + 1] as number;
        out[r.name] = max;
        break;
      }
      case 'distinct': {
        const from = r.window === null ? Number.NEGATIVE_INFINITY : nowDay - r.window + 1;
        const seen = state.distinct[r.key] ?? {};
        let n = 0;
        for (const v in seen) if ((seen[v] ?? 0) >= from) n++;
        out[r.name] = n;
        break;
      }
      case 'last':
        out[r.name] = state.last[r.key]?.value ?? 0;
        break;
      case 'recency': {
        const at = state.lastSeen[r.key];
        out[r.name] = at === undefined ? NEVER_DAYS : nowDay - dayOf(at);
        break;
      }
    }
  }
  for (const m of policy.metrics) {
    if (m.kind !== 'ratio') continue;
    const den = out[m.denominator] ?? 0;
    out[m.name] = den === 0 ? 0 : (out[m.numerator] ?? 0) / den;
  }
  return out;
}
