/**
 * An independent reference for the e2e test, written plainly from policies/default.yaml and
 * docs/policy.md: no code shared with the scoring path. For each customer, events in the
 * order they were produced; the customer is evaluated after each event and at every UTC day
 * start (00:00) from its first event on, up to `until` (time passing alone changes tiers
 * only at day starts: windows, recency, lifecycle deadlines, grace and min days all count
 * whole UTC days). Each evaluation recomputes the metrics from the event list, picks the
 * tiers the rules give, applies the hysteresis of value and membership (keep_when margins,
 * grace_days, min_days_between_changes) and the lifecycle stage. Slow and obvious on purpose.
 */
export interface RefEvent {
  readonly customerId: string;
  readonly eventId: string;
  readonly type: 'ORDER' | 'REFUND' | 'INTERACTION' | 'FEEDBACK';
  readonly time: number;
  /** Minor units in CNY (after the policy's fx rate), for orders and refunds. */
  readonly amount: number;
  readonly interactionKind: string | null;
  readonly feedbackKind: string | null;
  readonly satisfaction: number | null;
}

const DAY = 86_400_000;
const day = (t: number) => Math.floor(t / DAY);

/** default.yaml `lifecycle:`. */
const LIFECYCLE = { newForDays: 30, atRiskAfterDays: 60, churnedAfterDays: 180, reactivatedForDays: 30 };

/** The metrics of default.yaml that the rules read, at time `now`, over `events` (all seen, none after `now`). */
function metrics(events: readonly RefEvent[], now: number) {
  // A window of N days holds the events whose day is in (day(now) - N, day(now)].
  const inWindow = (e: RefEvent, days: number) => day(e.time) > day(now) - days && day(e.time) <= day(now);
  let spend365 = 0, spend90 = 0, refunds90 = 0, orders365 = 0, orders90 = 0, interactions90 = 0, complaints90 = 0;
  let lastOrder: number | undefined;
  let scored: RefEvent | undefined;
  for (const e of events) {
    if (e.type === 'ORDER') {
      if (inWindow(e, 365)) {
        spend365 += e.amount;
        orders365++;
      }
      if (inWindow(e, 90)) {
        spend90 += e.amount;
        orders90++;
      }
      lastOrder = Math.max(lastOrder ?? e.time, e.time);
    }
    if (e.type === 'REFUND' && inWindow(e, 90)) refunds90 += e.amount;
    if (e.type === 'INTERACTION' && inWindow(e, 90)) interactions90++;
    if (e.feedbackKind === 'COMPLAINT' && inWindow(e, 90)) complaints90++;
    // The latest score; at equal times the higher one (as docs/policy.md says for `last`).
    if (e.satisfaction !== null && (!scored || e.time > scored.time || (e.time === scored.time && e.satisfaction > (scored.satisfaction ?? 0)))) scored = e;
  }
  // Whole days from the last order's day to the evaluation's day.
  const recency = lastOrder === undefined ? 99_999 : day(now) - day(lastOrder);
  const satisfaction = scored?.satisfaction ?? 0;
  return { spend365, spend90, refunds90, orders365, orders90, interactions90, complaints90, recency, satisfaction };
}

function score(m: ReturnType<typeof metrics>): number {
  const axis = (v: number, cuts: number[], lowerBetter: boolean) => 1 + cuts.filter((c) => (lowerBetter ? v <= c : v >= c)).length;
  const r = axis(m.recency, [30, 60, 120, 240], true);
  const f = axis(m.orders365, [2, 4, 8, 16], false);
  const mon = axis(m.spend365, [50000, 150000, 400000, 1000000], false);
  let points = 0;
  if (m.complaints90 > 0) points -= 10;
  if ((m.spend90 === 0 ? 0 : m.refunds90 / m.spend90) > 0.3) points -= 15;
  if (m.satisfaction >= 4 && m.orders90 > 0) points += 5;
  return 5 * r + 6 * f + 9 * mon + points;
}

/**
 * The lifecycle stage at `now` (docs/policy.md "Lifecycle"), from the orders in the order
 * they were processed. A reactivation is an order `churned_after_days` or more days after
 * the previous last order. docs/policy.md says a late order ("older than the last one")
 * neither makes nor undoes a reactivation; taken from services/domain/src/tiering/lifecycle.ts
 * (noteOrder): "the last one" is the last *order*, and an order counts as not late only when
 * strictly later than it, so an order older than a later non-order event can still be a
 * reactivation.
 */
function lifecycleStage(events: readonly RefEvent[], now: number): string {
  let first: number | undefined;
  let last: number | undefined;
  let reactivated: number | undefined;
  for (const e of events) {
    if (e.type !== 'ORDER') continue;
    if (first === undefined || last === undefined) {
      first = last = e.time;
      continue;
    }
    first = Math.min(first, e.time);
    if (e.time > last) {
      if (day(e.time) - day(last) >= LIFECYCLE.churnedAfterDays) reactivated = e.time;
      last = e.time;
    }
  }
  if (first === undefined || last === undefined) return 'prospect';
  const today = day(now);
  if (today - day(last) >= LIFECYCLE.churnedAfterDays) return 'churned';
  if (today - day(last) >= LIFECYCLE.atRiskAfterDays) return 'at_risk';
  if (today - day(first) < LIFECYCLE.newForDays) return 'new';
  if (reactivated !== undefined && today - day(reactivated) < LIFECYCLE.reactivatedForDays) return 'reactivated';
  return 'active';
}

/**
 * The tiers the rules give (the first `when` that holds, best first), before hysteresis, and
 * the lifecycle stage, at time `now` (by default the latest event's time).
 */
export function referenceTiers(events: readonly RefEvent[], now: number = Math.max(...events.map((e) => e.time))): Record<string, string> {
  const m = metrics(events, now);
  return tiersOf(events, now, m, score(m));
}

function tiersOf(events: readonly RefEvent[], now: number, m: ReturnType<typeof metrics>, s: number): Record<string, string> {
  return {
    value: m.spend365 >= 1_000_000 && s >= 80 ? 'vip' : m.spend365 >= 300_000 ? 'high' : m.spend365 >= 50_000 ? 'mid' : 'low',
    membership: m.spend365 >= 500_000 && m.orders365 >= 6 ? 'gold' : m.spend365 >= 100_000 && m.orders365 >= 3 ? 'silver' : 'normal',
    potential: m.orders365 === 0 && m.interactions90 >= 3 ? 'potential' : m.orders365 === 0 && m.interactions90 >= 1 ? 'engaged' : 'none',
    lifecycle: lifecycleStage(events, now),
  };
}

/** Per dimension of default.yaml: tiers best first, keep_when of each held tier, grace_days and min_days_between_changes. */
const HYSTERESIS: Record<string, { order: string[]; keep: (tier: string, m: ReturnType<typeof metrics>, s: number) => boolean; grace: number; minDays: number }> = {
  value: {
    order: ['vip', 'high', 'mid', 'low'],
    keep: (tier, m, s) => (tier === 'vip' ? m.spend365 >= 900_000 && s >= 75 : tier === 'high' ? m.spend365 >= 270_000 : tier === 'mid' ? m.spend365 >= 45_000 : false),
    grace: 30,
    minDays: 7,
  },
  membership: {
    order: ['gold', 'silver', 'normal'],
    keep: (tier, m) => (tier === 'gold' ? m.spend365 >= 450_000 && m.orders365 >= 5 : tier === 'silver' ? m.spend365 >= 90_000 && m.orders365 >= 2 : false),
    grace: 365,
    minDays: 30,
  },
  potential: { order: ['potential', 'engaged', 'none'], keep: () => false, grace: 0, minDays: 0 },
};

interface Held {
  tier: string;
  /** Time of the evaluation that moved the customer into the tier (the event's time, or the day start). */
  since: number;
  /** When it entered the tier, or last qualified for it (or for a better tier whose upgrade was held back) after an event. */
  earned: number;
  /** Whether it entered the tier by a downgrade. */
  cameDown: boolean;
}

/** One transition, where and why it happened. */
export interface RefTransition {
  readonly customer: string;
  readonly dimension: string;
  readonly from: string | null;
  readonly to: string;
  /** The evaluation's time: the event's time, or the day start. */
  readonly at: number;
  /** The event that caused it; null for a day-start evaluation (time passing alone). */
  readonly eventId: string | null;
}

export interface RefRun {
  /** Every transition as `customer|dimension|from|to` (`-` for the first), sorted. */
  readonly transitions: string[];
  /** Every transition with its time and cause, per customer in evaluation order. */
  readonly timeline: RefTransition[];
  /** How many transitions came from day-start evaluations (no event). */
  readonly timeDriven: number;
  /** The tiers held at the end, per customer. */
  readonly final: Map<string, Record<string, string>>;
}

/**
 * Every transition (customer, dimension, from, to) the events and time passing up to `until`
 * cause, and the final tiers. Per customer, events in the given order; before each event,
 * every day start T with (previous evaluation time) < T <= the event's time is evaluated
 * (at T equal to the event's time, the day start first), and after the last event every day
 * start up to and including `until`. Day starts before the first event are not evaluated.
 */
export function referenceRun(events: readonly RefEvent[], until: number): RefRun {
  const byCustomer = new Map<string, RefEvent[]>();
  for (const e of events) {
    const list = byCustomer.get(e.customerId) ?? [];
    list.push(e);
    byCustomer.set(e.customerId, list);
  }
  const timeline: RefTransition[] = [];
  const final = new Map<string, Record<string, string>>();
  for (const [customer, list] of byCustomer) {
    const held: Record<string, Held> = {};

    /** Evaluates the customer at `now` on the events `seen`; `event` is the event just added, if any. */
    const evaluate = (seen: readonly RefEvent[], now: number, event: RefEvent | null) => {
      const m = metrics(seen, now);
      const s = score(m);
      // The event's time (a late event's may be before `now`), or the day start.
      const at = event ? event.time : now;
      for (const [dim, candidate] of Object.entries(tiersOf(seen, now, m, s))) {
        const h = held[dim];
        let move: boolean;
        let cameDown = false;
        if (dim === 'lifecycle') {
          // No hysteresis: the stage moves whenever it differs (the first one included).
          move = h?.tier !== candidate;
        } else {
          const rules = HYSTERESIS[dim];
          if (!rules) throw new Error(`reference: no rules for ${dim}`);
          if (!h) move = true;
          else if (h.tier === candidate) {
            if (event) h.earned = now; // qualified again after an event: the grace restarts
            move = false;
          } else if (rules.order.indexOf(candidate) < rules.order.indexOf(h.tier)) {
            // Upgrades are immediate, except one reversing a downgrade within min days (the
            // customer then qualifies for better than the held tier: after an event, the grace restarts).
            move = !(h.cameDown && day(now) - day(h.since) < rules.minDays);
            if (!move && event) h.earned = now;
          } else if (rules.keep(h.tier, m, s)) move = false;
          else if (day(now) - day(h.earned) < rules.grace) move = false;
          else if (day(now) - day(h.since) < rules.minDays) move = false;
          else move = true;
          cameDown = h !== undefined && rules.order.indexOf(candidate) > rules.order.indexOf(h.tier);
        }
        if (!move) continue;
        timeline.push({ customer, dimension: dim, from: h?.tier ?? null, to: candidate, at, eventId: event?.eventId ?? null });
        // Entering a tier earns it, at an event or a day start alike.
        held[dim] = { tier: candidate, since: at, earned: now, cameDown };
      }
    };

    let now = -Infinity; // the customer's time: its latest evaluation
    const seen: RefEvent[] = [];
    const daysUpTo = (t: number) => {
      // Every day start T with now < T <= t, in order.
      for (let T = (day(now) + 1) * DAY; T <= t; T += DAY) {
        now = T;
        evaluate(seen, T, null);
      }
    };
    for (const event of list) {
      if (seen.length > 0) daysUpTo(event.time);
      seen.push(event);
      now = Math.max(now, event.time); // a late event does not move the customer's time back
      evaluate(seen, now, event);
    }
    daysUpTo(until);
    final.set(customer, Object.fromEntries(Object.entries(held).map(([dim, h]) => [dim, h.tier])));
  }
  return {
    transitions: timeline.map((t) => `${t.customer}|${t.dimension}|${t.from ?? '-'}|${t.to}`).sort(),
    timeline,
    timeDriven: timeline.filter((t) => t.eventId === null).length,
    final,
  };
}
