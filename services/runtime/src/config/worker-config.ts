import { readEndpoints, type Endpoints } from './endpoints';
import { EnvReader, type Env } from './env-reader';

export const WORKER_NAMES = ['ingest', 'scoring', 'notifier'] as const;
export type WorkerName = (typeof WORKER_NAMES)[number];

/** Every environment variable a worker reads; docker-compose.yml and the Helm chart set only these. */
export const WORKER_ENV_VARIABLES = [
  'KAFKA_BROKERS',
  'SCHEMA_REGISTRY_URL',
  'REDIS_URL',
  'HTTP_PORT',
  'LOG_LEVEL',
  'KAFKA_CLIENT_ID',
  'TIERSTREAM_NAMESPACE',
  'KAFKA_SESSION_TIMEOUT_MS',
  'KAFKA_HEARTBEAT_INTERVAL_MS',
  'REDIS_COMMAND_TIMEOUT_MS',
] as const;

export const DEFAULT_HTTP_PORT = 8080;

/** How a worker's consumers keep their group membership (docs/operations.md). */
export interface GroupTiming {
  /** A member silent this long leaves the group; a killed worker's partitions wait this long. */
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
}

/**
 * The broker's default group.min.session.timeout.ms: the shortest session it accepts, so the
 * quickest a killed member's partitions move on (kafkajs has no static membership).
 */
export const DEFAULT_GROUP_TIMING: GroupTiming = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000 };

/** A Redis command unanswered this long fails, so a batch fails and is retried instead of hanging. */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 10_000;

export interface WorkerConfig {
  readonly worker: WorkerName;
  readonly endpoints: Endpoints;
  /** Port of /healthz, /readyz and /metrics. */
  readonly httpPort: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  readonly kafkaClientId: string;
  /** Prefix of topics, consumer groups and Redis keys; empty in production, unique per test suite. */
  readonly namespace: string;
  readonly consumerGroup: GroupTiming;
  readonly redisCommandTimeoutMs: number;
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
  const consumerGroup = readGroupTiming(reader);
  const redisCommandTimeoutMs = reader.integer('REDIS_COMMAND_TIMEOUT_MS', DEFAULT_REDIS_COMMAND_TIMEOUT_MS, { min: 100, max: 600_000 });
  reader.done();
  return { worker, endpoints, httpPort, logLevel, kafkaClientId, namespace, consumerGroup, redisCommandTimeoutMs };
}

function readGroupTiming(reader: EnvReader): GroupTiming {
  // The broker's default group.min/max.session.timeout.ms: outside them it refuses the join.
  const sessionTimeoutMs = reader.integer('KAFKA_SESSION_TIMEOUT_MS', DEFAULT_GROUP_TIMING.sessionTimeoutMs, { min: 6000, max: 1_800_000 });
  const heartbeatIntervalMs = reader.integer('KAFKA_HEARTBEAT_INTERVAL_MS', DEFAULT_GROUP_TIMING.heartbeatIntervalMs, { min: 100, max: 600_000 });
  // Two heartbeats may be lost before the session ends, as Kafka's own clients advise.
  if (heartbeatIntervalMs * 3 > sessionTimeoutMs) {
    reader.reject('KAFKA_HEARTBEAT_INTERVAL_MS', `must be at most a third of KAFKA_SESSION_TIMEOUT_MS (${sessionTimeoutMs}), got ${heartbeatIntervalMs}`);
  }
  return { sessionTimeoutMs, heartbeatIntervalMs };
}
