import { endpointsFromEnv, type Endpoints } from '@tierstream/runtime';
import { LocalStack } from './stack/local-stack';
import { stackSettingsFromEnv } from './stack/settings';

export interface ResolvedEndpoints {
  readonly endpoints: Endpoints;
  readonly source: 'env' | 'local-stack';
}

/** Endpoints from KAFKA_BROKERS / SCHEMA_REGISTRY_URL / REDIS_URL, else the local stack's (started if `start`). */
export async function resolveEndpoints(options: { start: boolean; progress?: (line: string) => void }): Promise<ResolvedEndpoints> {
  const fromEnv = endpointsFromEnv(process.env);
  if (fromEnv) return { endpoints: fromEnv, source: 'env' };
  const stack = new LocalStack(stackSettingsFromEnv(), options.progress);
  if (options.start) await stack.up();
  return { endpoints: stack.endpoints, source: 'local-stack' };
}
