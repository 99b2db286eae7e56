import type { CustomerEvent, CustomerType } from '@tierstream/domain';
import { seededRandom } from './sample-events';

const DAY = 86_400_000;
const REGIONS = ['CN-SH', 'CN-BJ', 'CN-GD', 'CN-ZJ', 'CN-SC', 'CN-HB'];
const CITIES: Record<string, string> = { 'CN-SH': 'Shanghai', 'CN-BJ': 'Beijing', 'CN-GD': 'Guangzhou', 'CN-ZJ': 'Hangzhou', 'CN-SC': 'Chengdu', 'CN-HB': 'Wuhan' };
const INDUSTRIES = ['retail', 'manufacturing', 'software', 'logistics', 'hospitality'];
const CHANNELS = ['web', 'app', 'store', 'call-center'];

export interface PopulationOptions {
  readonly customers: number;
  readonly days: number;
  readonly start: number;
  readonly seed: number;
  /** Prefix of every customer and event id, so several runs never share ids. */
  readonly idPrefix: string;
}

export interface Population {
  /** Canonical events, sorted by event time. */
  readonly events: CustomerEvent[];
  readonly customers: number;
}

/**
 * A synthetic but realistic population: yearly spend Pareto-distributed (alpha 1.16, the
 * 80/20 shape), order counts rising with spend, some customers who only browse (potential),
 * some who stop buying part-way (they drift down), refunds, support contacts, campaign
 * responses, satisfaction scores and complaints.
 */
export function generatePopulation(o: PopulationOptions): Population {
  const rnd = seededRandom(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const events: CustomerEvent[] = [];
  let n = 0;
  for (let c = 0; c < o.customers; c++) {
    const customer = `${o.idPrefix}c${String(c).padStart(5, '0')}`;
    const type: CustomerType = rnd() < 0.15 ? 'B2B' : 'B2C';
    const region = pick(REGIONS);
    const industry = type === 'B2B' ? pick(INDUSTRIES) : null;
    const kind = rnd();
    const browser = kind < 0.12;
    const quitter = !browser && kind < 0.22;
    // Pareto yearly spend in fen: x_m = 200 CNY.
    const yearly = Math.min(20_000_000, Math.round(20_000 / Math.pow(1 - rnd(), 1 / 1.16)));
    const orders = browser ? 0 : Math.max(1, Math.round(Math.log10(yearly / 10_000 + 1) * 4 + rnd() * 3));
    const activeDays = quitter ? Math.floor(o.days * (0.2 + rnd() * 0.4)) : o.days;
    const firstDay = Math.floor(rnd() * o.days * 0.3);
    const base = (day: number, extra: Partial<CustomerEvent>): CustomerEvent => ({
      event_id: `${o.idPrefix}e${n++}`,
      customer_id: customer,
      type: 'ORDER',
      event_time: o.start + day * DAY + Math.floor(rnd() * DAY),
      channel: pick(CHANNELS),
      region,
      customer_type: type,
      industry,
      order: null,
      refund: null,
      interaction: null,
      feedback: null,
      attributes: { city: CITIES[region] ?? region },
      ...extra,
    });
    const span = Math.max(1, activeDays - firstDay);
    for (let i = 0; i < orders; i++) {
      const day = firstDay + Math.floor(rnd() * span);
      const amount = Math.max(100, Math.round((yearly / orders) * (0.5 + rnd())));
      const e = base(day, { type: 'ORDER', order: { order_id: `${o.idPrefix}o${n}`, amount_minor: amount, currency: rnd() < 0.03 ? 'USD' : 'CNY', item_count: 1 + Math.floor(rnd() * 5) } });
      events.push(e);
      if (rnd() < 0.05 && e.order) {
        events.push(base(Math.min(o.days - 1, day + 3 + Math.floor(rnd() * 10)), { type: 'REFUND', refund: { order_id: e.order.order_id, amount_minor: Math.round(e.order.amount_minor * (0.3 + rnd() * 0.7)), currency: e.order.currency } }));
      }
    }
    const interactions = browser ? 2 + Math.floor(rnd() * 6) : Math.floor(rnd() * 4);
    for (let i = 0; i < interactions; i++) {
      const day = browser ? o.days - 1 - Math.floor(rnd() * 80) : firstDay + Math.floor(rnd() * span);
      events.push(base(Math.max(0, day), { type: 'INTERACTION', interaction: { kind: pick(['VISIT', 'VISIT', 'SUPPORT_CONTACT', 'CAMPAIGN_RESPONSE'] as const), campaign_id: rnd() < 0.3 ? 'spring-sale' : null } }));
    }
    if (!browser && rnd() < 0.4) {
      const complaint = rnd() < 0.15;
      events.push(
        base(firstDay + Math.floor(rnd() * span), {
          type: 'FEEDBACK',
          feedback: complaint ? { kind: 'COMPLAINT', score: null, comment: 'late delivery' } : { kind: 'SATISFACTION', score: 1 + Math.floor(rnd() * 5), comment: null },
        }),
      );
    }
  }
  events.sort((a, b) => a.event_time - b.event_time);
  return { events, customers: o.customers };
}
