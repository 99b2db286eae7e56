import { endpointsFromEnv, type Env, type Endpoints } from '@tierstream/runtime';

export type BackendKind = 'env' | 'testcontainers' | 'local';

export interface BackendChoice {
  readonly kind: BackendKind;
  /** Set for `env`: the endpoints as given. */
  readonly endpoints: Endpoints | undefined;
  readonly why: string;
}

export interface BackendProbes {
  /** Whether a Docker engine answers; only asked when the environment names no endpoints. */
  readonly dockerAvailable: () => Promise<boolean>;
}

/**
 * Where integration tests and the demo get Kafka, the registry and Redis, in this order:
 * endpoints from the environment; testcontainers when a Docker engine answers; the local
 * stack. TIERSTREAM_BACKEND=local|testcontainers skips the detection.
 */
export async function chooseBackend(env: Env, probes: BackendProbes): Promise<BackendChoice> {
  const endpoints = endpointsFromEnv(env);
  if (endpoints) return { kind: 'env', endpoints, why: 'KAFKA_BROKERS, SCHEMA_REGISTRY_URL and REDIS_URL are set' };
  const forced = env['TIERSTREAM_BACKEND'];
  if (forced === 'local' || forced === 'testcontainers') return { kind: forced, endpoints: undefined, why: `TIERSTREAM_BACKEND=${forced}` };
  if (await probes.dockerAvailable()) return { kind: 'testcontainers', endpoints: undefined, why: 'a Docker engine answers' };
  return { kind: 'local', endpoints: undefined, why: 'no endpoints in the environment and no Docker engine' };
}
