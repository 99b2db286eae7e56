import type { CustomerEvent } from '@tierstream/domain';

/** A canonical ORDER event in CNY, as ingest would publish it. */
export const orderEvent = (id: string, customer: string, time: number, amountMinor = 10_000): CustomerEvent => ({
  event_id: id,
  customer_id: customer,
  type: 'ORDER',
  event_time: time,
  channel: 'web',
  region: null,
  customer_type: 'B2C',
  industry: null,
  order: { order_id: `o-${id}`, amount_minor: amountMinor, currency: 'CNY', item_count: 1 },
  refund: null,
  interaction: null,
  feedback: null,
  attributes: {},
});
