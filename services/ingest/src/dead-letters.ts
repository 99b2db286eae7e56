import type { KafkaMessage } from 'kafkajs';
import { headersAsBytes, type DeadLetter } from '@tierstream/runtime';
import type { Rejection } from './problems';

export const WORKER = 'ingest';

/**
 * An element of a parsed body as JSON bytes. Its depth is bounded at parse time
 * (INGEST_MAX_EVENT_DEPTH ≤ 512), so JSON.stringify cannot overflow the stack here.
 */
export const elementJson = (element: unknown): Buffer => Buffer.from(JSON.stringify(element) ?? 'null', 'utf8');

/** The dead letter of a raw record: its bytes, key, headers and coordinates kept whole. */
export function recordLetter(message: KafkaMessage, topic: string, partition: number, rejection: Rejection, now: number): DeadLetter {
  return {
    error_code: rejection.code,
    error_message: rejection.message,
    original_value: message.value,
    original_key: message.key,
    original_headers: headersAsBytes(message.headers),
    source_topic: topic,
    source_partition: partition,
    source_offset: Number(message.offset),
    worker: WORKER,
    event_id: rejection.event_id,
    customer_id: rejection.customer_id,
    failed_at: now,
  };
}

/**
 * The dead letter of one element of a POST /v1/events body: `original` is the element
 * re-serialised as JSON (the body is parsed once), or its bytes as sent when it was nested
 * too deep to be parsed whole; no key, no headers, no source coordinates.
 */
export function requestLetter(original: Buffer, rejection: Rejection, now: number): DeadLetter {
  return {
    error_code: rejection.code,
    error_message: rejection.message,
    original_value: original,
    original_key: null,
    original_headers: {},
    source_topic: null,
    source_partition: null,
    source_offset: null,
    worker: WORKER,
    event_id: rejection.event_id,
    customer_id: rejection.customer_id,
    failed_at: now,
  };
}
