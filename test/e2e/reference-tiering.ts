/**
 * An independent reference for the e2e test, written plainly from policies/default.yaml and
 * docs/policy.md: no code shared with the scoring path. For each customer, events in the
 * order they were produced; after each, recompute the metrics from the full event list, pick
 * the tiers the rules give, and apply the hysteresis of value and membership (keep_when
 * margins, grace_days, min_days_between_changes). Slow and obvious on purpose.
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

function metrics(events: readonly RefEvent[]) {
  const now = Math.max(...events.map((e) => e.time));
  const inWindow = (e: RefEvent, days: number) => day(e.time) > day(now) - days && day(e.time) <= day(now);
  const orders = events.filter((e) => e.type === 'ORDER');
  const spend365 = orders.filter((e) => inWindow(e, 365)).reduce((a, e) => a + e.amount, 0);
  const spend90 = orders.filter((e) => inWindow(e, 90)).reduce((a, e) => a + e.amount, 0);
  const refunds90 = events.filter((e) => e.type === 'REFUND' && inWindow(e, 90)).reduce((a, e) => a + e.amount, 0);
  const orders365 = orders.filter((e) => inWindow(e, 365)).length;
  const orders90 = orders.filter((e) => inWindow(e, 90)).length;
  const interactions90 = events.filter((e) => e.type === 'INTERACTION' && inWindow(e, 90)).length;
  const complaints90 = events.filter((e) => e.feedbackKind === 'COMPLAINT' && inWindow(e, 90)).length;
  const lastOrder = orders.length === 0 ? undefined : Math.max(...orders.map((e) => e.time));
  const recency = lastOrder === undefined ? 99_999 : day(now) - day(lastOrder);
  // The latest score; at equal times the higher one (as docs/policy.md says for `last`).
  const scored = events.filter((e) => e.satisfaction !== null).sort((a, b) => a.time - b.time || (a.satisfaction ?? 0) - (b.satisfaction ?? 0));
  const satisfaction = scored.length === 0 ? 0 : (scored[scored.length - 1]?.satisfaction ?? 0);
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

/** The tiers the rules give (the first `when` that holds, best first), before hysteresis. */
export function referenceTiers(events: readonly RefEvent[]): Record<string, string> {
  const m = metrics(events);
  const s = score(m);
  return {
    value: m.spend365 >= 1_000_000 && s >= 80 ? 'vip' : m.spend365 >= 300_000 ? 'high' : m.spend365 >= 50_000 ? 'mid' : 'low',
    membership: m.spend365 >= 500_000 && m.orders365 >= 6 ? 'gold' : m.spend365 >= 100_000 && m.orders365 >= 3 ? 'silver' : 'normal',
    potential: m.orders365 === 0 && m.interactions90 >= 3 ? 'potential' : m.orders365 === 0 && m.interactions90 >= 1 ? 'engaged' : 'none',
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
  /** Event time of the event that moved the customer into the tier. */
  since: number;
  /** The customer's time when it entered the tier or last qualified for it after an event. */
  earned: number;
  /** Whether it entered the tier by a downgrade. */
  cameDown: boolean;
}

/** Every transition (customer, dimension, from, to) the events cause, in order, and the final tiers. */
export function referenceRun(events: readonly RefEvent[]): { transitions: string[]; final: Map<string, Record<string, string>> } {
  const byCustomer = new Map<string, RefEvent[]>();
  for (const e of events) byCustomer.set(e.customerId, [...(byCustomer.get(e.customerId) ?? []), e]);
  const transitions: string[] = [];
  const final = new Map<string, Record<string, string>>();
  for (const [customer, list] of byCustomer) {
    const held: Record<string, Held> = {};
    for (let i = 1; i <= list.length; i++) {
      const seen = list.slice(0, i);
      const event = seen[seen.length - 1] as RefEvent;
      const now = Math.max(...seen.map((e) => e.time));
      const m = metrics(seen);
      const s = score(m);
      for (const [dim, candidate] of Object.entries(referenceTiers(seen))) {
        const h = held[dim];
        const rules = HYSTERESIS[dim];
        if (!rules) throw new Error(`reference: no rules for ${dim}`);
        let move: boolean;
        if (!h) move = true;
        else if (h.tier === candidate) {
          h.earned = now; // qualified again after an event: the grace restarts
          move = false;
        } else if (rules.order.indexOf(candidate) < rules.order.indexOf(h.tier)) {
          // Upgrades are immediate, except one reversing a downgrade within min days (the
          // customer then qualifies for better than the held tier: the grace restarts).
          move = !(h.cameDown && day(now) - day(h.since) < rules.minDays);
          if (!move) h.earned = now;
        } else if (rules.keep(h.tier, m, s)) move = false;
        else if (day(now) - day(h.earned) < rules.grace) move = false;
        else if (day(now) - day(h.since) < rules.minDays) move = false;
        else move = true;
        if (!move) continue;
        transitions.push(`${customer}|${dim}|${h?.tier ?? '-'}|${candidate}`);
        held[dim] = { tier: candidate, since: event.time, earned: now, cameDown: h !== undefined && rules.order.indexOf(candidate) > rules.order.indexOf(h.tier) };
      }
    }
    final.set(customer, Object.fromEntries(Object.entries(held).map(([dim, h]) => [dim, h.tier])));
  }
  return { transitions: transitions.sort(), final };
}
