import type { KafkaMessage } from 'kafkajs';
import { deadLetterOf, type DeadLetter } from '@tierstream/runtime';
import type { Rejection } from './problems';

export const WORKER = 'ingest';

/**
 * An element of a parsed body as JSON bytes. Its depth is bounded at parse time
 * (INGEST_MAX_EVENT_DEPTH ≤ 512), so JSON.stringify cannot overflow the stack here.
 */
export const elementJson = (element: unknown): Buffer => Buffer.from(JSON.stringify(element) ?? 'null', 'utf8');

/** The dead letter of a raw record: its bytes, key, headers and coordinates kept whole. */
export function recordLetter(message: KafkaMessage, topic: string, partition: number, rejection: Rejection, now: number): DeadLetter {
  return deadLetterOf({ topic, partition, message }, reasonOf(rejection), WORKER, now);
}

const reasonOf = (r: Rejection) => ({ code: r.code, message: r.message, eventId: r.event_id, customerId: r.customer_id });

/**
 * The dead letter of one element of a POST /v1/events body: `original` is the element
 * re-serialised as JSON (the body is parsed once), or its bytes as sent when it was nested
 * too deep to be parsed whole; no key, no headers, no source coordinates.
 */
export function requestLetter(original: Buffer, rejection: Rejection, now: number): DeadLetter {
  return deadLetterOf({ bytes: original }, reasonOf(rejection), WORKER, now);
}
