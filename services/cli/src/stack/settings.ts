import os from 'node:os';
import path from 'node:path';
import { EnvReader, type Env } from '@tierstream/runtime';

/** The repository root, found from this file in src/ or dist/. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');

/** Kafka versions the project is tested against; the first is the default (see README). */
export const TESTED_KAFKA_VERSIONS = ['4.4.0', '3.9.2'] as const;
export const DEFAULT_KAFKA_VERSION = TESTED_KAFKA_VERSIONS[0];
export const DEFAULT_APICURIO_VERSION = '3.3.3';

export interface StackPorts {
  readonly kafka: number;
  readonly kafkaController: number;
  readonly registry: number;
  readonly registryManagement: number;
  readonly redis: number;
}

export interface StackSettings {
  /** Data, logs and PID files of this stack; per Kafka version, since storage formats differ. */
  readonly runDir: string;
  /** Downloaded jars, shared by every checkout on the machine. */
  readonly cacheDir: string;
  readonly kafkaVersion: string;
  readonly apicurioVersion: string;
  readonly ports: StackPorts;
  /** A JDK home to use instead of searching for one. */
  readonly javaHome: string | undefined;
  readonly startTimeoutMs: number;
}

export function stackSettingsFromEnv(env: Env = process.env): StackSettings {
  const r = new EnvReader(env);
  const kafkaVersion = r.matching('KAFKA_VERSION', /^\d+\.\d+\.\d+$/, 'a version such as 4.4.0', DEFAULT_KAFKA_VERSION);
  const baseRunDir = r.string('TIERSTREAM_RUN_DIR', path.join(REPO_ROOT, '.tierstream', 'run'));
  const settings: StackSettings = {
    runDir: path.resolve(baseRunDir, `kafka-${kafkaVersion}`),
    cacheDir: path.resolve(r.string('TIERSTREAM_CACHE_DIR', path.join(os.homedir(), '.cache', 'tierstream'))),
    kafkaVersion,
    apicurioVersion: r.string('APICURIO_VERSION', DEFAULT_APICURIO_VERSION),
    ports: {
      kafka: r.port('TIERSTREAM_KAFKA_PORT', 19092),
      kafkaController: r.port('TIERSTREAM_KAFKA_CONTROLLER_PORT', 19093),
      registry: r.port('TIERSTREAM_REGISTRY_PORT', 18081),
      registryManagement: r.port('TIERSTREAM_REGISTRY_MANAGEMENT_PORT', 18082),
      redis: r.port('TIERSTREAM_REDIS_PORT', 16379),
    },
    javaHome: r.optionalString('TIERSTREAM_JAVA_HOME'),
    startTimeoutMs: r.integer('TIERSTREAM_STACK_TIMEOUT_S', 180, { min: 5, max: 3600 }) * 1000,
  };
  r.done();
  return settings;
}

export interface LocalEndpoints {
  readonly kafkaBrokers: readonly string[];
  readonly schemaRegistryUrl: string;
  readonly redisUrl: string;
}

export function localEndpoints(settings: StackSettings): LocalEndpoints {
  return {
    kafkaBrokers: [`127.0.0.1:${settings.ports.kafka}`],
    schemaRegistryUrl: `http://127.0.0.1:${settings.ports.registry}/apis/ccompat/v7`,
    redisUrl: `redis://127.0.0.1:${settings.ports.redis}`,
  };
}
