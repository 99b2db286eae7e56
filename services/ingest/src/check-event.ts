import type { CustomerEvent } from '@tierstream/domain';
import type { CanonicalEncoder } from './canonical-encoder';
import type { NumberTokens } from './json-text';
import { normaliseEvent } from './normalise';
import { problemText, rejectionOf, type Problem, type Rejection } from './problems';

export type Checked = { readonly ok: true; readonly event: CustomerEvent; readonly value: Buffer } | { readonly ok: false; readonly rejection: Rejection };

/** What decoding learnt about an event beyond its value (json-text.ts). */
export interface EventReading {
  /** JSON number tokens written otherwise than their value prints (`1e2`), by path within the event. */
  readonly numbers?: NumberTokens;
  /**
   * The event is nested deeper than INGEST_MAX_EVENT_DEPTH: it is rejected with this problem.
   * Its value has the too-deep containers cut (null), so its ids and other problems can
   * still be read for the rejection.
   */
  readonly tooDeep?: Problem;
}

export const tooDeepProblem = (depth: number, limit: number): Problem => ({
  code: 'TS_ERR_INGEST_TOO_DEEP',
  field: '',
  reason: `the event is nested ${depth} levels deep; at most ${limit} are accepted (INGEST_MAX_EVENT_DEPTH)`,
});

/** Normalises an upstream event and encodes the canonical one: what both paths accept or reject. */
export async function checkEvent(payload: unknown, now: number, encoder: Pick<CanonicalEncoder, 'encode'>, reading: EventReading = {}): Promise<Checked> {
  const normalised = normaliseEvent(payload, now, reading.numbers);
  if (reading.tooDeep) {
    const ids = normalised.ok ? normalised.event : normalised.rejection;
    const also = normalised.ok ? '' : `; ${normalised.rejection.message}`;
    return { ok: false, rejection: { code: reading.tooDeep.code, message: `${problemText(reading.tooDeep)}${also}`, event_id: ids.event_id, customer_id: ids.customer_id } };
  }
  if (!normalised.ok) return normalised;
  const { event } = normalised;
  const encoded = await encoder.encode(event);
  if (!encoded.ok) return { ok: false, rejection: rejectionOf([encoded.problem], { event_id: event.event_id, customer_id: event.customer_id }) };
  return { ok: true, event, value: encoded.value };
}
