import type { CustomerEvent } from '@tierstream/domain';
import type { CanonicalEncoder } from './canonical-encoder';
import { normaliseEvent } from './normalise';
import { rejectionOf, type Rejection } from './problems';

export type Checked = { readonly ok: true; readonly event: CustomerEvent; readonly value: Buffer } | { readonly ok: false; readonly rejection: Rejection };

/** Normalises an upstream event and encodes the canonical one: what both paths accept or reject. */
export async function checkEvent(payload: unknown, now: number, encoder: Pick<CanonicalEncoder, 'encode'>): Promise<Checked> {
  const normalised = normaliseEvent(payload, now);
  if (!normalised.ok) return normalised;
  const { event } = normalised;
  const encoded = await encoder.encode(event);
  if (!encoded.ok) return { ok: false, rejection: rejectionOf([encoded.problem], { event_id: event.event_id, customer_id: event.customer_id }) };
  return { ok: true, event, value: encoded.value };
}
