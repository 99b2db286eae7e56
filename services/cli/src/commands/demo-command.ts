import Redis from 'ioredis';
import { createKafka, createLogger, type Endpoints, type Logger } from '@tierstream/runtime';
import { runPipelineDemo } from '../demo/pipeline-demo';
import { resolveEndpoints } from '../endpoints';
import { provisionSchemas, provisionTopics } from '../provision';
import { stackSettingsFromEnv } from '../stack/settings';

export async function runDemoCommand(options: { customers: number; follow?: boolean; seed: number }): Promise<void> {
  const logger = createLogger({ name: 'tierctl-demo', level: 'warn' });
  console.log('1/6 stack');
  const { endpoints, source } = await resolveEndpoints({ start: true, progress: (l) => console.log(`    ${l}`) });
  console.log(`    using ${source === 'env' ? 'the endpoints from the environment' : 'the local stack'}: ${endpoints.kafkaBrokers.join(',')}, ${endpoints.schemaRegistryUrl}, ${endpoints.redisUrl}`);
  // Each run is a fresh pipeline under its own namespace: its event time starts again in
  // 2025, which a previous run's watermarks would call late. Earlier runs are removed.
  const namespace = `demo-${Date.now().toString(36)}.`;
  const removed = await removeDemoNamespaces(endpoints, logger);
  console.log(`2/6 topics (infra/topics.yaml) and schemas (schemas/*.avsc) under the namespace ${namespace}${removed > 0 ? ` (removed ${removed} topics of earlier demo runs)` : ''}`);
  const topics = await provisionTopics(endpoints, logger, { namespace });
  const schemas = await provisionSchemas(endpoints, { namespace });
  console.log(`    topics: created ${topics.created.length}; schemas: ${schemas.map((s) => `${s.subject} #${s.id}`).join(', ')}`);
  await runPipelineDemo(endpoints, logger, {
    namespace,
    customers: options.customers,
    follow: options.follow ?? false,
    seed: options.seed,
    runDir: stackSettingsFromEnv().runDir,
    httpShare: 0.1,
  });
}

/** Deletes the topics and Redis keys of earlier demo runs (namespaces `demo-*`). */
async function removeDemoNamespaces(endpoints: Endpoints, logger: Logger): Promise<number> {
  const admin = createKafka({ clientId: 'tierctl-demo', brokers: endpoints.kafkaBrokers, logger }).admin();
  await admin.connect();
  const old = (await admin.listTopics()).filter((t) => /^demo-[a-z0-9]+\./.test(t));
  if (old.length > 0) await admin.deleteTopics({ topics: old });
  await admin.disconnect();
  const redis = new Redis(endpoints.redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', 'demo-*', 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return old.length;
}
