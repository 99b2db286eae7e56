import { createKafka, createSchemaRegistry, type Endpoints } from '@tierstream/runtime';
import { declaredTopics } from '../../services/cli/src/provision';
import { registerSchemas } from '../../services/cli/src/schemas/register-schemas';
import { REPO_ROOT } from '../../services/cli/src/stack/settings';
import { applyTopics } from '../../services/cli/src/topics/apply-topics';
import { quietLogger, testEndpoints, uniqueName } from './test-stack';

/**
 * A private copy of the pipeline's topics (from infra/topics.yaml) and their schemas under
 * a fresh namespace, so a suite's workers, topics, groups and Redis keys meet no other's.
 * Fewer partitions than production keep topic creation quick.
 */
export async function provisionNamespace(prefix = 'it', partitions = 3): Promise<{ namespace: string; endpoints: Endpoints }> {
  const namespace = `${uniqueName(prefix).toLowerCase()}.`;
  const endpoints = testEndpoints();
  const topics = declaredTopics({}).map((t) => ({ ...t, name: `${namespace}${t.name}`, partitions: Math.min(t.partitions, partitions) }));
  const admin = createKafka({ clientId: 'provision', brokers: endpoints.kafkaBrokers, logger: quietLogger() }).admin();
  await admin.connect();
  try {
    await applyTopics(admin, topics);
  } finally {
    await admin.disconnect();
  }
  await registerSchemas(createSchemaRegistry(endpoints.schemaRegistryUrl), topics, REPO_ROOT);
  return { namespace, endpoints };
}

/** The environment a worker started in-process (startWorker) or as a child process reads. */
export function workerEnv(namespace: string, endpoints: Endpoints, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
    REDIS_URL: endpoints.redisUrl,
    TIERSTREAM_NAMESPACE: namespace,
    HTTP_PORT: '0',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'fatal',
    ...extra,
  };
}
