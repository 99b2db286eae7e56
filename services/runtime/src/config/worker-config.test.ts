import { thrownBy } from '../testing/thrown-by';
import { ConfigError } from '../errors';
import { ENDPOINT_VARIABLES, endpointsFromEnv } from './endpoints';
import type { Env } from './env-reader';
import { DEFAULT_GROUP_TIMING, DEFAULT_HTTP_PORT, DEFAULT_REDIS_COMMAND_TIMEOUT_MS, WORKER_ENV_VARIABLES, WORKER_NAMES, workerConfigFromEnv } from './worker-config';

const ENDPOINTS_ENV = {
  KAFKA_BROKERS: 'kafka-1:9092,kafka-2:9092',
  SCHEMA_REGISTRY_URL: 'http://registry:8081/apis/ccompat/v7',
  REDIS_URL: 'redis://redis:6379',
} as const;

const configErrorFrom = (fn: () => unknown): ConfigError => thrownBy(fn, ConfigError);

const variablesOf = (err: ConfigError): string[] => err.problems.map((p) => p.variable);

/** An environment that records every variable read from it. */
function recordingEnv(values: Record<string, string>): { env: Env; read: Set<string> } {
  const read = new Set<string>();
  const env = new Proxy(values, {
    get(target, key) {
      if (typeof key === 'string') read.add(key);
      return typeof key === 'string' ? target[key] : undefined;
    },
  });
  return { env, read };
}

describe('workerConfigFromEnv', () => {
  it('reads the endpoints and applies the defaults', () => {
    expect(workerConfigFromEnv('scoring', ENDPOINTS_ENV)).toEqual({
      worker: 'scoring',
      endpoints: {
        kafkaBrokers: ['kafka-1:9092', 'kafka-2:9092'],
        schemaRegistryUrl: 'http://registry:8081/apis/ccompat/v7',
        redisUrl: 'redis://redis:6379',
      },
      httpPort: DEFAULT_HTTP_PORT,
      logLevel: 'info',
      kafkaClientId: 'tierstream-scoring',
      namespace: '',
      consumerGroup: DEFAULT_GROUP_TIMING,
      redisCommandTimeoutMs: DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
    });
    expect(DEFAULT_HTTP_PORT).toBe(8080);
  });

  it('defaults the group session to the broker minimum, with a heartbeat a sixth of it, and Redis commands to 10 s', () => {
    // The broker's group.min.session.timeout.ms: a killed member's partitions move on after it.
    expect(DEFAULT_GROUP_TIMING).toEqual({ sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000 });
    expect(DEFAULT_REDIS_COMMAND_TIMEOUT_MS).toBe(10_000);
  });

  it('takes the session timeout, heartbeat interval and Redis command timeout from the environment', () => {
    const config = workerConfigFromEnv('notifier', { ...ENDPOINTS_ENV, KAFKA_SESSION_TIMEOUT_MS: '45000', KAFKA_HEARTBEAT_INTERVAL_MS: '15000', REDIS_COMMAND_TIMEOUT_MS: '2500' });
    expect(config.consumerGroup).toEqual({ sessionTimeoutMs: 45_000, heartbeatIntervalMs: 15_000 });
    expect(config.redisCommandTimeoutMs).toBe(2500);
  });

  it.each([
    ['KAFKA_SESSION_TIMEOUT_MS', '5999', 'must be between 6000 and 1800000, got 5999'],
    ['KAFKA_SESSION_TIMEOUT_MS', '1800001', 'must be between 6000 and 1800000, got 1800001'],
    ['KAFKA_SESSION_TIMEOUT_MS', '6s', "must be a whole number, got '6s'"],
    ['KAFKA_HEARTBEAT_INTERVAL_MS', '99', 'must be between 100 and 600000, got 99'],
    ['REDIS_COMMAND_TIMEOUT_MS', '50', 'must be between 100 and 600000, got 50'],
  ])('names %s when it is %j', (variable, value, reason) => {
    expect(configErrorFrom(() => workerConfigFromEnv('ingest', { ...ENDPOINTS_ENV, [variable]: value })).problems).toEqual([{ variable, reason }]);
  });

  it('refuses a heartbeat interval above a third of the session timeout, naming both values', () => {
    const err = configErrorFrom(() => workerConfigFromEnv('scoring', { ...ENDPOINTS_ENV, KAFKA_SESSION_TIMEOUT_MS: '9000', KAFKA_HEARTBEAT_INTERVAL_MS: '3001' }));
    expect(err.problems).toEqual([{ variable: 'KAFKA_HEARTBEAT_INTERVAL_MS', reason: 'must be at most a third of KAFKA_SESSION_TIMEOUT_MS (9000), got 3001' }]);
    expect(workerConfigFromEnv('scoring', { ...ENDPOINTS_ENV, KAFKA_SESSION_TIMEOUT_MS: '9000', KAFKA_HEARTBEAT_INTERVAL_MS: '3000' }).consumerGroup.heartbeatIntervalMs).toBe(3000);
    // Against the default session (6000 ms) too.
    expect(configErrorFrom(() => workerConfigFromEnv('scoring', { ...ENDPOINTS_ENV, KAFKA_HEARTBEAT_INTERVAL_MS: '2500' })).problems).toEqual([
      { variable: 'KAFKA_HEARTBEAT_INTERVAL_MS', reason: 'must be at most a third of KAFKA_SESSION_TIMEOUT_MS (6000), got 2500' },
    ]);
  });

  it('accepts a namespace ending in a dot and names TIERSTREAM_NAMESPACE when it is malformed', () => {
    expect(workerConfigFromEnv('ingest', { ...ENDPOINTS_ENV, TIERSTREAM_NAMESPACE: 'suite-1.' }).namespace).toBe('suite-1.');
    const err = configErrorFrom(() => workerConfigFromEnv('ingest', { ...ENDPOINTS_ENV, TIERSTREAM_NAMESPACE: 'No Dot' }));
    expect(err.problems).toEqual([{ variable: 'TIERSTREAM_NAMESPACE', reason: expect.stringContaining("got 'No Dot'") }]);
  });

  it.each(WORKER_NAMES)('defaults the Kafka client id of %s to tierstream-<worker>', (worker) => {
    expect(workerConfigFromEnv(worker, ENDPOINTS_ENV).kafkaClientId).toBe(`tierstream-${worker}`);
  });

  it('takes HTTP_PORT, LOG_LEVEL and KAFKA_CLIENT_ID from the environment', () => {
    const config = workerConfigFromEnv('ingest', { ...ENDPOINTS_ENV, HTTP_PORT: '9464', LOG_LEVEL: 'debug', KAFKA_CLIENT_ID: 'ingest-7' });
    expect(config).toMatchObject({ httpPort: 9464, logLevel: 'debug', kafkaClientId: 'ingest-7' });
  });

  it('treats blank optional variables as unset', () => {
    const config = workerConfigFromEnv('notifier', { ...ENDPOINTS_ENV, HTTP_PORT: ' ', LOG_LEVEL: '', KAFKA_CLIENT_ID: '  ' });
    expect(config).toMatchObject({ httpPort: DEFAULT_HTTP_PORT, logLevel: 'info', kafkaClientId: 'tierstream-notifier' });
  });

  it('requires all three endpoint variables and names each missing one', () => {
    const err = configErrorFrom(() => workerConfigFromEnv('scoring', {}));
    expect(err.problems).toEqual(ENDPOINT_VARIABLES.map((variable) => ({ variable, reason: 'is required but not set' })));
    for (const variable of ENDPOINT_VARIABLES) expect(err.message).toContain(`${variable}: is required but not set`);
  });

  it.each(ENDPOINT_VARIABLES)('fails naming only %s when that one is missing or blank', (missing) => {
    const { [missing]: _dropped, ...rest } = ENDPOINTS_ENV;
    expect(variablesOf(configErrorFrom(() => workerConfigFromEnv('ingest', rest)))).toEqual([missing]);
    expect(variablesOf(configErrorFrom(() => workerConfigFromEnv('ingest', { ...ENDPOINTS_ENV, [missing]: '   ' })))).toEqual([missing]);
  });

  it('reports several bad variables together in one error', () => {
    const err = configErrorFrom(() => workerConfigFromEnv('scoring', { ...ENDPOINTS_ENV, HTTP_PORT: 'abc', LOG_LEVEL: 'loud', REDIS_URL: 'http://x' }));
    expect(err.problems).toEqual([
      { variable: 'REDIS_URL', reason: "must use redis or rediss, got 'http:'" },
      { variable: 'HTTP_PORT', reason: "must be a whole number, got 'abc'" },
      { variable: 'LOG_LEVEL', reason: "must be one of fatal, error, warn, info, debug, trace, got 'loud'" },
    ]);
    for (const p of err.problems) expect(err.message).toContain(`${p.variable}: ${p.reason}`);
    expect(err.code).toBe('TS_ERR_CONFIG');
  });

  it('reports missing endpoints together with other bad variables', () => {
    const err = configErrorFrom(() => workerConfigFromEnv('scoring', { HTTP_PORT: '70000', SCHEMA_REGISTRY_URL: 'ftp://registry' }));
    expect(variablesOf(err)).toEqual(['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'REDIS_URL', 'HTTP_PORT']);
  });

  it('reads no variable outside WORKER_ENV_VARIABLES, and all of them', () => {
    const { env, read } = recordingEnv({ ...ENDPOINTS_ENV });
    workerConfigFromEnv('ingest', env);
    expect([...read].sort()).toEqual([...WORKER_ENV_VARIABLES].sort());
  });
});

describe('endpointsFromEnv', () => {
  it('returns undefined when none of the three variables is set', () => {
    expect(endpointsFromEnv({})).toBeUndefined();
    expect(endpointsFromEnv({ HTTP_PORT: 'abc', LOG_LEVEL: 'loud' })).toBeUndefined();
  });

  it('returns undefined when all three are blank', () => {
    expect(endpointsFromEnv({ KAFKA_BROKERS: '', SCHEMA_REGISTRY_URL: '  ', REDIS_URL: '\t' })).toBeUndefined();
  });

  it('returns the endpoints when all three are set', () => {
    expect(endpointsFromEnv({ ...ENDPOINTS_ENV, REDIS_URL: 'rediss://cache:6380' })).toEqual({
      kafkaBrokers: ['kafka-1:9092', 'kafka-2:9092'],
      schemaRegistryUrl: 'http://registry:8081/apis/ccompat/v7',
      redisUrl: 'rediss://cache:6380',
    });
  });

  it.each([
    ['KAFKA_BROKERS', 'kafka-1', "must be a comma-separated list of host:port, got 'kafka-1'"],
    ['SCHEMA_REGISTRY_URL', 'registry:8081', "must use http or https, got 'registry:'"],
    ['SCHEMA_REGISTRY_URL', 'not a url', "must be a URL (http or https), got 'not a url'"],
    ['REDIS_URL', 'http://x', "must use redis or rediss, got 'http:'"],
  ])('throws naming %s when it is %j', (variable, value, reason) => {
    const err = configErrorFrom(() => endpointsFromEnv({ ...ENDPOINTS_ENV, [variable]: value }));
    expect(err.problems).toEqual([{ variable, reason }]);
    expect(err.message).toContain(`${variable}: ${reason}`);
  });

  it('throws naming the missing variables when only some are set', () => {
    const err = configErrorFrom(() => endpointsFromEnv({ REDIS_URL: 'redis://redis:6379' }));
    expect(err.problems).toEqual([
      { variable: 'KAFKA_BROKERS', reason: 'is required but not set' },
      { variable: 'SCHEMA_REGISTRY_URL', reason: 'is required but not set' },
    ]);
  });
});
