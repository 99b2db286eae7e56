import type { ErrorCode } from '@tierstream/runtime';

/** The reason codes a single event can be rejected with (docs/errors.md, docs/ingest.md). */
export type RejectCode = Extract<
  ErrorCode,
  | 'TS_ERR_INGEST_EMPTY_RECORD'
  | 'TS_ERR_INGEST_TOO_LARGE'
  | 'TS_ERR_INGEST_NOT_JSON'
  | 'TS_ERR_INGEST_AVRO_DECODE'
  | 'TS_ERR_INGEST_NOT_OBJECT'
  | 'TS_ERR_INGEST_TOO_DEEP'
  | 'TS_ERR_INGEST_MISSING_FIELD'
  | 'TS_ERR_INGEST_INVALID_FIELD'
  | 'TS_ERR_INGEST_UNKNOWN_CURRENCY'
  | 'TS_ERR_INGEST_INVALID_AMOUNT'
  | 'TS_ERR_INGEST_NEGATIVE_AMOUNT'
  | 'TS_ERR_INGEST_AMOUNT_TOO_LARGE'
  | 'TS_ERR_INGEST_EVENT_TIME_OUT_OF_RANGE'
  | 'TS_ERR_INGEST_DUPLICATE_IN_FLIGHT'
>;

/** One thing wrong with one field of an event. */
export interface Problem {
  readonly code: RejectCode;
  /** Dotted path of the field as the producer sent it, e.g. `order.amount`; empty for the whole event. */
  readonly field: string;
  readonly reason: string;
}

/** Why an event was not accepted: the first problem's code and every problem in the message. */
export interface Rejection {
  readonly code: RejectCode;
  readonly message: string;
  /** The ids when they could be read, for the DLQ record, logs and HTTP answers. */
  readonly event_id: string | null;
  readonly customer_id: string | null;
}

export const problemText = (p: Problem): string => (p.field === '' ? p.reason : `${p.field}: ${p.reason}`);

export function rejectionOf(problems: readonly [Problem, ...Problem[]], ids: { event_id: string | null; customer_id: string | null }): Rejection {
  return { code: problems[0].code, message: problems.map(problemText).join('; '), ...ids };
}

/** A short description of a JSON value's type for messages: never the value itself. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (Buffer.isBuffer(value)) return 'bytes';
  return typeof value;
}

/** Objects from JSON.parse or avsc (records are class instances, maps plain objects). */
export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value) && !(value instanceof Date);
}
