import { EnvReader, type Env } from './env-reader';

/** Where the three backing services are. */
export interface Endpoints {
  readonly kafkaBrokers: readonly string[];
  readonly schemaRegistryUrl: string;
  readonly redisUrl: string;
}

export const ENDPOINT_VARIABLES = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'REDIS_URL'] as const;

/**
 * The endpoints given by the environment, or undefined when none of the three variables
 * is set. Setting only some of them is an error: half a stack from env and half started
 * locally would be a confusing mix.
 */
export function endpointsFromEnv(env: Env): Endpoints | undefined {
  const set = ENDPOINT_VARIABLES.filter((v) => (env[v] ?? '').trim() !== '');
  if (set.length === 0) return undefined;
  const reader = new EnvReader(env);
  const endpoints = readEndpoints(reader);
  reader.done();
  return endpoints;
}

/** Reads the three endpoint variables into a reader that reports their problems with the rest. */
export function readEndpoints(reader: EnvReader): Endpoints {
  return {
    kafkaBrokers: reader.hostPorts('KAFKA_BROKERS'),
    schemaRegistryUrl: reader.url('SCHEMA_REGISTRY_URL', ['http', 'https']),
    redisUrl: reader.url('REDIS_URL', ['redis', 'rediss']),
  };
}
