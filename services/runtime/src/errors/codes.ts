/**
 * Every error code tierstream raises, with its meaning. Codes are stable: DLQ records,
 * logs and exit messages carry them, so one is never reused for another meaning.
 * docs/errors.md lists the same codes; a unit test keeps the two in step.
 */
export const ErrorCodes = {
  TS_ERR_CONFIG: 'an environment variable or option is missing or invalid',
  TS_ERR_STACK_START: 'a part of the local stack did not become healthy in time',
  TS_ERR_STACK_PORT_IN_USE: 'a port the local stack needs is taken by a process it did not start',
  TS_ERR_STACK_PREREQUISITE: 'a program the local stack needs (java, mvn, redis-server) is missing or too old',
  TS_ERR_TOPICS_FILE: 'the declarative topics file is invalid',
  TS_ERR_TOPIC_DRIFT: 'a topic on the cluster differs from its declaration',
  TS_ERR_SCHEMA_FILE: 'an Avro schema file cannot be read or parsed',
  TS_ERR_SCHEMA_INCOMPATIBLE: 'the registry refused a schema as incompatible with the registered versions',
  TS_ERR_SCHEMA_REGISTRY: 'the schema registry answered an unexpected error',
  // notifier
  TS_ERR_SUBSCRIBERS_FILE: "the notifier's subscribers file is invalid",
  TS_ERR_WEBHOOK_REJECTED: 'a webhook receiver refused a delivery with a status that is not retried',
  TS_ERR_WEBHOOK_EXHAUSTED: 'a webhook delivery failed on every allowed attempt',
  TS_ERR_NOTIFIER_UNDECODABLE: 'a tier-changed record is not Avro the notifier can decode',
  TS_ERR_DELIVERY_ABORTED: 'a batch was left before all its deliveries settled and will be fetched again',
  TS_ERR_REDIS: 'a Redis command failed',
  TS_ERR_FENCE_CONFLICT: "a customer's state was written by another worker since it was read",
  TS_ERR_POLICY: 'the tiering policy file is invalid',
  TS_ERR_CUSTOMER_NOT_FOUND: 'no state is stored for the customer asked for',
  TS_ERR_SCORING_DECODE: 'a record on the canonical events topic is not a decodable CustomerEvent',
  TS_ERR_SCORING_CURRENCY: 'an amount is in a currency the policy has no fx rate for',
  TS_ERR_SCORING_LATE: "an event is older than its partition's watermark minus the allowed lateness",
  // ingest
  TS_ERR_INGEST_EMPTY_RECORD: 'a raw record has no value (null or zero bytes)',
  TS_ERR_INGEST_TOO_LARGE: 'a raw record is larger than the per-event limit INGEST_MAX_EVENT_BYTES',
  TS_ERR_INGEST_NOT_JSON: 'a raw record is neither Avro in the Confluent wire format nor valid UTF-8 JSON',
  TS_ERR_INGEST_AVRO_DECODE: 'an Avro raw record names a schema id the registry does not know, or does not decode with it',
  TS_ERR_INGEST_NOT_OBJECT: 'an event is not a JSON object (or Avro record)',
  TS_ERR_INGEST_MISSING_FIELD: 'a required event field is absent, null or blank',
  TS_ERR_INGEST_INVALID_FIELD: 'an event field has the wrong type or a value outside its allowed set',
  TS_ERR_INGEST_UNKNOWN_CURRENCY: 'a currency is not an ISO-4217 currency code with a minor unit',
  TS_ERR_INGEST_INVALID_AMOUNT: 'an amount is malformed, has more decimals than its currency allows, or is zero for a refund',
  TS_ERR_INGEST_NEGATIVE_AMOUNT: 'an amount is negative',
  TS_ERR_INGEST_AMOUNT_TOO_LARGE: 'an amount is above the cap of 10^12 minor units',
  TS_ERR_INGEST_EVENT_TIME_OUT_OF_RANGE: 'an event time is before 2000 or more than one day ahead of the ingest clock',
  TS_ERR_INGEST_DUPLICATE_IN_FLIGHT: 'an event with the same event_id is being ingested by another request right now',
  TS_ERR_INGEST_METHOD_NOT_ALLOWED: 'a request to /v1/events uses a method other than POST',
  TS_ERR_INGEST_UNSUPPORTED_MEDIA_TYPE: 'a POST /v1/events body is not declared as uncompressed application/json',
  TS_ERR_INGEST_BODY_TOO_LARGE: 'a POST /v1/events body is larger than INGEST_MAX_BODY_BYTES',
  TS_ERR_INGEST_TOO_MANY_EVENTS: 'a POST /v1/events body holds more events than INGEST_MAX_EVENTS',
  TS_ERR_INGEST_MALFORMED_BODY: 'a POST /v1/events body is not a JSON array',
  TS_ERR_INGEST_NOT_ACCEPTING: 'the ingest worker is starting or stopping and does not take requests',
  TS_ERR_INGEST_DEDUPE: 'the dedupe markers in Redis could not be read or written',
  TS_ERR_INGEST_PRODUCE: 'canonical events could not be produced to Kafka or their transaction not committed',
  TS_ERR_INGEST_DEAD_LETTER: 'dead letters could not be written to the DLQ topic',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;
