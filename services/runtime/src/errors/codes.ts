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
} as const;

export type ErrorCode = keyof typeof ErrorCodes;
