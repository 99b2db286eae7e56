import { DAY_MS, type CustomerEvent } from '@tierstream/domain';
import { generatePopulation } from '@tierstream/cli/dist/demo/population';
import { seededRandom } from '@tierstream/cli/dist/demo/sample-events';
import { toUpstreamJson } from '@tierstream/cli/dist/demo/upstream-json';

/** The dataset's first day: fixed, so a seed gives the same records on any day it runs. */
export const DATASET_START = Date.UTC(2026, 0, 1);
export const DATASET_DAYS = 180;

export interface RawRecord {
  readonly key: string;
  readonly value: string;
}

export interface BenchDataset {
  /** Upstream JSON records for customer.events.raw, in event-time order, keyed by customer id. */
  readonly raw: readonly RawRecord[];
  readonly events: number;
  readonly customers: number;
  readonly lastEventTime: number;
  readonly byType: Readonly<Record<string, number>>;
  readonly seconds: number;
}

/**
 * `events` upstream events for `customers` customers over 180 days, from the demo's
 * population (Pareto spend, browsers, customers who stop buying, refunds, support contacts,
 * feedback). The population gives about 6.4 events a customer; more are made by repeating
 * customers' own orders and visits on other days (new ids), fewer by dropping a random share.
 * Deterministic for a seed.
 */
export function benchDataset(events: number, customers: number, seed: number): BenchDataset {
  const started = performance.now();
  const rnd = seededRandom(seed ^ 0x5eed);
  const population = generatePopulation({ customers, days: DATASET_DAYS, start: DATASET_START, seed, idPrefix: 'b-' });
  let all: CustomerEvent[] = population.events;
  if (all.length > events) {
    // A random subset of the wanted size, kept in time order.
    const keep = new Uint8Array(all.length);
    let kept = 0;
    for (let i = 0; i < all.length && kept < events; i++) {
      if (rnd() * (all.length - i) < events - kept) {
        keep[i] = 1;
        kept++;
      }
    }
    all = all.filter((_, i) => keep[i] === 1);
  } else if (all.length < events) {
    const repeatable = all.filter((e) => e.type === 'ORDER' || e.type === 'INTERACTION');
    const extra: CustomerEvent[] = [];
    for (let n = 0; all.length + extra.length < events; n++) {
      const e = repeatable[Math.floor(rnd() * repeatable.length)] as CustomerEvent;
      const time = DATASET_START + Math.floor(rnd() * DATASET_DAYS * DAY_MS);
      extra.push({
        ...e,
        event_id: `b-x${n}`,
        event_time: time,
        order: e.order ? { ...e.order, order_id: `b-xo${n}`, amount_minor: Math.max(100, Math.round(e.order.amount_minor * (0.5 + rnd()))) } : null,
      });
    }
    all = [...all, ...extra].sort((a, b) => a.event_time - b.event_time);
  }
  const byType: Record<string, number> = {};
  let lastEventTime = 0;
  const seen = new Set<string>();
  const raw = all.map((e) => {
    byType[e.type] = (byType[e.type] ?? 0) + 1;
    if (e.event_time > lastEventTime) lastEventTime = e.event_time;
    seen.add(e.customer_id);
    return { key: e.customer_id, value: JSON.stringify(toUpstreamJson(e)) };
  });
  return { raw, events: raw.length, customers: seen.size, lastEventTime, byType, seconds: (performance.now() - started) / 1000 };
}

/**
 * `count` canonical events of customers nobody has seen (one order each, ids under `prefix`),
 * all at `time`: each causes transitions, and none moves the watermark past `time`.
 */
export function newCustomerOrders(prefix: string, count: number, time: number): CustomerEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    event_id: `${prefix}e${i}`,
    customer_id: `${prefix}c${i}`,
    type: 'ORDER' as const,
    event_time: time,
    channel: 'web',
    region: 'CN-SH',
    customer_type: 'B2C' as const,
    industry: null,
    order: { order_id: `${prefix}o${i}`, amount_minor: 5_000 + ((i * 7919) % 500_000), currency: 'CNY', item_count: 1 },
    refund: null,
    interaction: null,
    feedback: null,
    attributes: { city: 'Shanghai' },
  }));
}
