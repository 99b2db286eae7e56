import type { KafkaMessage } from 'kafkajs';
import { headersAsBytes, type DeadLetter } from '@tierstream/runtime';
import type { Rejection } from './problems';

export const WORKER = 'ingest';

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
 * The dead letter of one element of a POST /v1/events body: the element as JSON (the body
 * is parsed once, so this is the element re-serialised, not a slice of the body), no key,
 * no headers, no source coordinates.
 */
export function requestLetter(element: unknown, rejection: Rejection, now: number): DeadLetter {
  return {
    error_code: rejection.code,
    error_message: rejection.message,
    original_value: Buffer.from(JSON.stringify(element) ?? 'null', 'utf8'),
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
