/**
 * The exactly-once invariant, as a pure comparison of what a fault run produced with what
 * a fault-free run of the same data produced. No I/O: collect.ts gathers the inputs.
 */

/** One transition as a read_committed consumer of customer.tier-changed.v1 saw it. */
export interface ObservedTransition {
  readonly transitionId: string;
  readonly customerId: string;
  readonly dimension: string;
  readonly tierVersion: number;
  readonly toTier: string;
  /** The record without its wall-clock fields (emitted_at), as canonical JSON. */
  readonly content: string;
}

/** What one run left behind. */
export interface RunOutcome {
  /** Event ids of customer.events.v1 (read_committed), commands excluded, in topic order. */
  readonly canonicalEventIds: readonly string[];
  readonly transitions: readonly ObservedTransition[];
  /** Per customer, its scoring state in Redis (tiers with versions, aggregates, metrics) as canonical JSON. */
  readonly customerState: ReadonlyMap<string, string>;
  /** Offset-independent keys (`<event id or payload hash>|<error code>`) of customer.events.dlq. */
  readonly deadLetters: readonly string[];
  /** The same for customer.tier-changed.dlq (the notifier's). */
  readonly notifierDeadLetters: readonly string[];
  /** Per subscriber, per webhook-id: the times (epoch ms) each verified delivery arrived. */
  readonly deliveries: ReadonlyMap<string, ReadonlyMap<string, readonly number[]>>;
  /** Requests whose signature did not verify. */
  readonly unverifiedDeliveries: number;
}

/**
 * A fault that may repeat deliveries (docs/delivery-guarantees.md, "The duplicate window"):
 * a kill -9 of the notifier, or Redis unreachable while it delivers. A delivery may arrive
 * again after it when its previous arrival falls in [from, to], at most once per
 * (subscriber, customer) per window: one notifier chain per (subscriber, customer) has a
 * delivery in progress at a time.
 */
export interface DuplicateWindow {
  readonly cause: string;
  readonly from: number;
  readonly to: number;
}

export interface Figures {
  readonly eventsCounted: number;
  readonly eventsExpected: number;
  readonly eventsDuplicated: number;
  readonly eventsMissing: number;
  readonly transitionsExpected: number;
  readonly transitionsFound: number;
  readonly transitionsDuplicated: number;
  readonly transitionsMissing: number;
  readonly transitionsUnexpected: number;
  readonly transitionsDiffering: number;
  readonly versionGaps: number;
  readonly finalTierDifferences: number;
  readonly stateDifferences: number;
  readonly deadLettersExpected: number;
  readonly deadLettersFound: number;
  readonly deliveriesExpected: number;
  readonly deliveriesDelivered: number;
  readonly deliveriesMissing: number;
  readonly deliveriesDuplicated: number;
  readonly deliveriesDuplicatedOutsideWindow: number;
  /** Repeats by the fault whose window explains them. */
  readonly deliveriesDuplicatedByCause: Readonly<Record<string, number>>;
}

export type Area = 'events' | 'transitions' | 'state' | 'dead-letters' | 'deliveries';

export interface Problem {
  readonly area: Area;
  readonly message: string;
}

export interface Verdict {
  readonly figures: Figures;
  /** Every difference, by what it concerns; empty when the invariant holds. */
  readonly problems: readonly Problem[];
}

/** Collects problems of one area. */
type Report = (message: string) => void;

export interface CheckInput {
  readonly reference: RunOutcome;
  readonly run: RunOutcome;
  /** Per subscriber, the transition ids its filter selects (from the reference transitions). */
  readonly expectedDeliveries: ReadonlyMap<string, readonly string[]>;
  readonly windows: readonly DuplicateWindow[];
}

const SHOWN = 5;

function counts(xs: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

const sample = (xs: readonly string[]): string => `${xs.slice(0, SHOWN).join(', ')}${xs.length > SHOWN ? `, … (${xs.length} in all)` : ''}`;

/** Versions of each (customer, dimension) must be 1..n without a hole. */
export function versionGaps(transitions: readonly ObservedTransition[]): string[] {
  const versions = new Map<string, Set<number>>();
  for (const t of transitions) {
    const key = `${t.customerId}/${t.dimension}`;
    const set = versions.get(key) ?? new Set<number>();
    set.add(t.tierVersion);
    versions.set(key, set);
  }
  const gaps: string[] = [];
  for (const [key, set] of versions) {
    const max = Math.max(...set);
    for (let v = 1; v <= max; v++) if (!set.has(v)) gaps.push(`${key}/${v}`);
  }
  return gaps.sort();
}

/** The last tier per (customer, dimension): the tier of its highest version. */
export function finalTiers(transitions: readonly ObservedTransition[]): Map<string, string> {
  const last = new Map<string, ObservedTransition>();
  for (const t of transitions) {
    const key = `${t.customerId}/${t.dimension}`;
    const seen = last.get(key);
    if (!seen || seen.tierVersion < t.tierVersion) last.set(key, t);
  }
  return new Map([...last].map(([k, t]) => [k, t.toTier]));
}

function checkEvents(reference: RunOutcome, run: RunOutcome, report: Report) {
  const expected = new Set(reference.canonicalEventIds);
  const got = counts(run.canonicalEventIds);
  const duplicated = [...got].filter(([, n]) => n > 1).map(([id]) => id);
  const missing = [...expected].filter((id) => !got.has(id));
  const unexpected = [...got.keys()].filter((id) => !expected.has(id));
  const refDup = reference.canonicalEventIds.length - expected.size;
  if (refDup > 0) report(`reference: ${refDup} canonical events twice on customer.events.v1`);
  if (duplicated.length > 0) report(`canonical events twice on customer.events.v1: ${sample(duplicated)}`);
  if (missing.length > 0) report(`canonical events missing on customer.events.v1: ${sample(missing)}`);
  if (unexpected.length > 0) report(`canonical events the reference has not: ${sample(unexpected)}`);
  return { eventsCounted: got.size, eventsExpected: expected.size, eventsDuplicated: run.canonicalEventIds.length - got.size, eventsMissing: missing.length };
}

function checkTransitions(reference: RunOutcome, run: RunOutcome, report: Report) {
  const expected = new Map(reference.transitions.map((t) => [t.transitionId, t]));
  if (expected.size !== reference.transitions.length) report(`reference: ${reference.transitions.length - expected.size} transitions twice`);
  const got = new Map<string, ObservedTransition>();
  const duplicated: string[] = [];
  for (const t of run.transitions) {
    if (got.has(t.transitionId)) duplicated.push(t.transitionId);
    else got.set(t.transitionId, t);
  }
  const missing = [...expected.keys()].filter((id) => !got.has(id));
  const unexpected = [...got.keys()].filter((id) => !expected.has(id));
  const differing = [...got.values()].filter((t) => {
    const ref = expected.get(t.transitionId);
    return ref !== undefined && ref.content !== t.content;
  });
  if (duplicated.length > 0) report(`transitions twice for a read_committed consumer: ${sample(duplicated)}`);
  if (missing.length > 0) report(`transitions missing: ${sample(missing)}`);
  if (unexpected.length > 0) report(`transitions the reference has not: ${sample(unexpected)}`);
  if (differing.length > 0) {
    const first = differing[0] as ObservedTransition;
    report(`transitions whose content differs from the reference: ${sample(differing.map((t) => t.transitionId))}; first: ${first.content} vs ${expected.get(first.transitionId)?.content}`);
  }
  const gaps = versionGaps(run.transitions);
  if (gaps.length > 0) report(`tier_version gaps (customer/dimension/version): ${sample(gaps)}`);
  const refFinal = finalTiers(reference.transitions);
  const runFinal = finalTiers(run.transitions);
  const tierDiffs = [...new Set([...refFinal.keys(), ...runFinal.keys()])].filter((k) => refFinal.get(k) !== runFinal.get(k)).sort();
  if (tierDiffs.length > 0) report(`final tiers differ (customer/dimension): ${sample(tierDiffs.map((k) => `${k} ${refFinal.get(k) ?? '-'} vs ${runFinal.get(k) ?? '-'}`))}`);
  return {
    transitionsExpected: expected.size,
    transitionsFound: got.size,
    transitionsDuplicated: duplicated.length,
    transitionsMissing: missing.length,
    transitionsUnexpected: unexpected.length,
    transitionsDiffering: differing.length,
    versionGaps: gaps.length,
    finalTierDifferences: tierDiffs.length,
  };
}

function checkState(reference: RunOutcome, run: RunOutcome, report: Report): number {
  const ids = [...new Set([...reference.customerState.keys(), ...run.customerState.keys()])].sort();
  const differing = ids.filter((id) => reference.customerState.get(id) !== run.customerState.get(id));
  if (differing.length > 0) {
    const first = differing[0] as string;
    report(`scoring state in Redis differs (events counted, tiers): ${sample(differing)}; first: ${run.customerState.get(first) ?? 'absent'} vs ${reference.customerState.get(first) ?? 'absent'}`);
  }
  return differing.length;
}

function checkDeadLetters(reference: RunOutcome, run: RunOutcome, report: Report) {
  for (const [what, ref, got] of [
    ['customer.events.dlq', reference.deadLetters, run.deadLetters],
    ['customer.tier-changed.dlq', reference.notifierDeadLetters, run.notifierDeadLetters],
  ] as const) {
    const refSet = new Set(ref);
    const gotSet = new Set(got);
    const missing = [...refSet].filter((k) => !gotSet.has(k));
    const extra = [...gotSet].filter((k) => !refSet.has(k));
    if (missing.length > 0) report(`${what}: dead letters of the reference missing: ${sample(missing)}`);
    if (extra.length > 0) report(`${what}: dead letters the reference has not: ${sample(extra)}`);
  }
  return { deadLettersExpected: new Set(reference.deadLetters).size, deadLettersFound: new Set(run.deadLetters).size };
}

function checkDeliveries(input: CheckInput, report: Report) {
  const { run, expectedDeliveries, windows } = input;
  const customerOf = new Map([...input.reference.transitions, ...run.transitions].map((t) => [t.transitionId, t.customerId]));
  let expectedTotal = 0;
  let delivered = 0;
  let missingTotal = 0;
  let duplicatedTotal = 0;
  let outside = 0;
  const byCause: Record<string, number> = {};
  if (run.unverifiedDeliveries > 0) report(`${run.unverifiedDeliveries} webhook requests failed signature verification`);
  for (const [subscriber, ids] of expectedDeliveries) {
    const got = run.deliveries.get(subscriber) ?? new Map<string, readonly number[]>();
    const want = new Set(ids);
    expectedTotal += want.size;
    const missing = [...want].filter((id) => !got.has(id));
    const unexpected = [...got.keys()].filter((id) => !want.has(id));
    missingTotal += missing.length;
    delivered += [...got.keys()].filter((id) => want.has(id)).length;
    if (missing.length > 0) report(`subscriber ${subscriber}: filtered transitions never delivered: ${sample(missing)}`);
    if (unexpected.length > 0) report(`subscriber ${subscriber}: deliveries its filter does not select: ${sample(unexpected)}`);
    const used = new Map<DuplicateWindow, Set<string>>(windows.map((w) => [w, new Set<string>()]));
    const unexplained: string[] = [];
    for (const [id, times] of got) {
      if (times.length < 2) continue;
      duplicatedTotal += times.length - 1;
      const chain = `${customerOf.get(id) ?? id}`;
      const sorted = [...times].sort((a, b) => a - b);
      // Each copy needs a window around the arrival before it, unused by this chain.
      let explained = true;
      for (let i = 0; i + 1 < sorted.length; i++) {
        const before = sorted[i] as number;
        const window = windows.find((w) => before >= w.from && before <= w.to && !used.get(w)?.has(chain));
        if (window) {
          used.get(window)?.add(chain);
          byCause[window.cause] = (byCause[window.cause] ?? 0) + 1;
        } else {
          explained = false;
          outside++;
        }
      }
      if (!explained) unexplained.push(id);
    }
    if (unexplained.length > 0) report(`subscriber ${subscriber}: deliveries repeated outside the duplicate window: ${sample(unexplained)}`);
  }
  return { deliveriesExpected: expectedTotal, deliveriesDelivered: delivered, deliveriesMissing: missingTotal, deliveriesDuplicated: duplicatedTotal, deliveriesDuplicatedOutsideWindow: outside, deliveriesDuplicatedByCause: byCause };
}

/** Compares a run with the reference; every difference is a problem. */
export function checkInvariants(input: CheckInput): Verdict {
  const problems: Problem[] = [];
  const to = (area: Area): Report => (message) => problems.push({ area, message });
  const figures: Figures = {
    ...checkEvents(input.reference, input.run, to('events')),
    ...checkTransitions(input.reference, input.run, to('transitions')),
    stateDifferences: checkState(input.reference, input.run, to('state')),
    ...checkDeadLetters(input.reference, input.run, to('dead-letters')),
    ...checkDeliveries(input, to('deliveries')),
  };
  return { figures, problems };
}
