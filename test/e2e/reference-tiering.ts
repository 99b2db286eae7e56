/**
 * An independent reference for the e2e test, written plainly from policies/default.yaml and
 * docs/policy.md: no code shared with the scoring path. For each customer, events in the
 * order they were produced; after each, recompute the metrics from the full event list and
 * pick the tiers. Slow and obvious on purpose.
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
  const scored = events.filter((e) => e.satisfaction !== null).sort((a, b) => a.time - b.time);
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

export function referenceTiers(events: readonly RefEvent[]): Record<string, string> {
  const m = metrics(events);
  const s = score(m);
  return {
    value: m.spend365 >= 1_000_000 && s >= 80 ? 'vip' : m.spend365 >= 300_000 ? 'high' : m.spend365 >= 50_000 ? 'mid' : 'low',
    membership: m.spend365 >= 500_000 && m.orders365 >= 6 ? 'gold' : m.spend365 >= 100_000 && m.orders365 >= 3 ? 'silver' : 'normal',
    potential: m.orders365 === 0 && m.interactions90 >= 3 ? 'potential' : m.orders365 === 0 && m.interactions90 >= 1 ? 'engaged' : 'none',
  };
}

/** Every transition (customer, dimension, from, to) the events cause, in order, and the final tiers. */
export function referenceRun(events: readonly RefEvent[]): { transitions: string[]; final: Map<string, Record<string, string>> } {
  const byCustomer = new Map<string, RefEvent[]>();
  for (const e of events) byCustomer.set(e.customerId, [...(byCustomer.get(e.customerId) ?? []), e]);
  const transitions: string[] = [];
  const final = new Map<string, Record<string, string>>();
  for (const [customer, list] of byCustomer) {
    let held: Record<string, string> = {};
    for (let i = 1; i <= list.length; i++) {
      const tiers = referenceTiers(list.slice(0, i));
      for (const [dim, tier] of Object.entries(tiers)) if (held[dim] !== tier) transitions.push(`${customer}|${dim}|${held[dim] ?? '-'}|${tier}`);
      held = tiers;
    }
    final.set(customer, held);
  }
  return { transitions: transitions.sort(), final };
}
