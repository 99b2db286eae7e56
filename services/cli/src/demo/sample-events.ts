import type { CustomerEvent, CustomerType } from '@tierstream/domain';

/** mulberry32: a tiny seeded PRNG, so the demo's population is the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REGIONS = ['CN-SH', 'CN-BJ', 'CN-GD', 'CN-ZJ', 'CN-SC'];
const INDUSTRIES = ['retail', 'manufacturing', 'software', 'logistics'];
const CHANNELS = ['web', 'app', 'store', 'call-center'];

/** A small mixed batch of canonical events: orders, a refund, interactions and feedback. */
export function sampleEvents(count: number, startTime: number, seed = 42): CustomerEvent[] {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const events: CustomerEvent[] = [];
  for (let i = 0; i < count; i++) {
    const customer = `c-${String(1 + Math.floor(rnd() * Math.max(1, count / 3))).padStart(5, '0')}`;
    const customerType: CustomerType = rnd() < 0.2 ? 'B2B' : 'B2C';
    const kind = pick(['ORDER', 'ORDER', 'ORDER', 'REFUND', 'INTERACTION', 'FEEDBACK'] as const);
    // Pareto-shaped spend: most orders small, a few large.
    const amount = Math.round(1000 * (1 / Math.pow(1 - rnd(), 1 / 1.16)));
    const base = {
      event_id: `demo-${seed}-${i}`,
      customer_id: customer,
      event_time: startTime + i * 60_000,
      channel: pick(CHANNELS),
      region: pick(REGIONS),
      customer_type: customerType,
      industry: customerType === 'B2B' ? pick(INDUSTRIES) : null,
      order: null,
      refund: null,
      interaction: null,
      feedback: null,
      attributes: {},
    };
    if (kind === 'ORDER') events.push({ ...base, type: 'ORDER', order: { order_id: `o-${i}`, amount_minor: amount, currency: 'CNY', item_count: 1 + Math.floor(rnd() * 4) } });
    else if (kind === 'REFUND') events.push({ ...base, type: 'REFUND', refund: { order_id: `o-${Math.max(0, i - 1)}`, amount_minor: Math.round(amount / 2), currency: 'CNY' } });
    else if (kind === 'INTERACTION') events.push({ ...base, type: 'INTERACTION', interaction: { kind: pick(['VISIT', 'SUPPORT_CONTACT', 'CAMPAIGN_RESPONSE'] as const), campaign_id: null } });
    else events.push({ ...base, type: 'FEEDBACK', feedback: { kind: 'SATISFACTION', score: 1 + Math.floor(rnd() * 5), comment: null } });
  }
  return events;
}
