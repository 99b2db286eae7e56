import { readEndpoints, type Endpoints } from './endpoints';
import { EnvReader, type Env } from './env-reader';

export const WORKER_NAMES = ['ingest', 'scoring', 'notifier'] as const;
export type WorkerName = (typeof WORKER_NAMES)[number];

/** Every environment variable a worker reads; docker-compose.yml and the Helm chart set only these. */
export const WORKER_ENV_VARIABLES = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'REDIS_URL', 'HTTP_PORT', 'LOG_LEVEL', 'KAFKA_CLIENT_ID', 'TIERSTREAM_NAMESPACE'] as const;

export const DEFAULT_HTTP_PORT = 8080;

export interface WorkerConfig {
  readonly worker: WorkerName;
  readonly endpoints: Endpoints;
  /** Port of /healthz, /readyz and /metrics. */
  readonly httpPort: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  readonly kafkaClientId: string;
  /** Prefix of topics, consumer groups and Redis keys; empty in production, unique per test suite. */
  readonly namespace: string;
}

/** A worker's typed configuration; throws one ConfigError naming every bad variable. */
export function workerConfigFromEnv(worker: WorkerName, env: Env): WorkerConfig {
  const reader = new EnvReader(env);
  // Workers never start a stack: all three endpoints are required.
  const endpoints = readEndpoints(reader);
  // 0 lets the OS choose (tests); the chosen port is logged and returned by startWorker.
  const httpPort = reader.integer('HTTP_PORT', DEFAULT_HTTP_PORT, { min: 0, max: 65535 });
  const logLevel = reader.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const, 'info');
  const kafkaClientId = reader.string('KAFKA_CLIENT_ID', `tierstream-${worker}`);
  const namespace = reader.matching('TIERSTREAM_NAMESPACE', /^[a-z0-9][a-z0-9.-]*\.$/, 'lower-case letters, digits, dots or dashes ending in a dot', '');
  reader.done();
  return { worker, endpoints, httpPort, logLevel, kafkaClientId, namespace };
}
