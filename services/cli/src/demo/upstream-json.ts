import type { CustomerEvent } from '@tierstream/domain';

const pad = (n: number): string => String(n).padStart(2, '0');

/** ISO-8601 in China Standard Time, as a typical upstream system writes it. */
export function isoCst(ms: number): string {
  const d = new Date(ms + 8 * 3_600_000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}+08:00`;
}

/**
 * A canonical event as an upstream system sends it to ingest (docs/ingest.md): lower-case
 * enums, local time with an offset, amounts as decimal strings in major units.
 */
export function toUpstreamJson(e: CustomerEvent): Record<string, unknown> {
  const money = (minor: number) => (minor / 100).toFixed(2);
  return {
    event_id: e.event_id,
    customer_id: e.customer_id,
    type: e.type.toLowerCase(),
    occurred_at: isoCst(e.event_time),
    channel: e.channel,
    region: e.region,
    customer_type: e.customer_type?.toLowerCase() ?? null,
    industry: e.industry,
    attributes: e.attributes,
    ...(e.order ? { order: { order_id: e.order.order_id, amount: money(e.order.amount_minor), currency: e.order.currency.toLowerCase(), item_count: e.order.item_count } } : {}),
    ...(e.refund ? { refund: { order_id: e.refund.order_id, amount: money(e.refund.amount_minor), currency: e.refund.currency } } : {}),
    ...(e.interaction ? { interaction: { kind: e.interaction.kind.toLowerCase(), campaign_id: e.interaction.campaign_id } } : {}),
    ...(e.feedback ? { feedback: { kind: e.feedback.kind.toLowerCase(), score: e.feedback.score, comment: e.feedback.comment } } : {}),
  };
}

/** Records a careless upstream sends: each must end in the DLQ with its reason, never stop ingest. */
export function badRecords(prefix: string, at: number): { key: string; value: string; expected: string }[] {
  const good = (n: number) => ({ event_id: `${prefix}bad${n}`, customer_id: `${prefix}c00001`, type: 'order', occurred_at: isoCst(at) });
  return [
    { key: `${prefix}c00001`, value: '{"event_id": "broken", "customer_id": ', expected: 'not JSON' },
    { key: `${prefix}c00001`, value: JSON.stringify({ ...good(1), order: { order_id: 'x1', amount: '-12.00', currency: 'CNY' } }), expected: 'negative amount' },
    { key: `${prefix}c00001`, value: JSON.stringify({ ...good(2), order: { order_id: 'x2', amount: '12.00', currency: 'ABC' } }), expected: 'unknown currency' },
    { key: `${prefix}c00001`, value: JSON.stringify({ ...good(3), customer_id: '  ', order: { order_id: 'x3', amount: '5.00', currency: 'CNY' } }), expected: 'missing customer id' },
    { key: `${prefix}c00001`, value: JSON.stringify({ ...good(4), order: { order_id: 'x4', amount: 12, currency: 'CNY', item_count: 'three' } }), expected: 'wrong type' },
    { key: `${prefix}c00001`, value: JSON.stringify({ ...good(5), order: { order_id: 'x5', amount: '99999999999999.00', currency: 'CNY' } }), expected: 'absurd amount' },
  ];
}
