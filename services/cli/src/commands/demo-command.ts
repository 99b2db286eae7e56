import { createLogger } from '@tierstream/runtime';
import { runPipelineDemo } from '../demo/pipeline-demo';
import { resolveEndpoints } from '../endpoints';
import { provisionSchemas, provisionTopics } from '../provision';
import { stackSettingsFromEnv } from '../stack/settings';

export async function runDemoCommand(options: { customers: number; follow?: boolean; seed: number }): Promise<void> {
  const logger = createLogger({ name: 'tierctl-demo', level: 'warn' });
  console.log('1/6 stack');
  const { endpoints, source } = await resolveEndpoints({ start: true, progress: (l) => console.log(`    ${l}`) });
  console.log(`    using ${source === 'env' ? 'the endpoints from the environment' : 'the local stack'}: ${endpoints.kafkaBrokers.join(',')}, ${endpoints.schemaRegistryUrl}, ${endpoints.redisUrl}`);
  console.log('2/6 topics (infra/topics.yaml) and schemas (schemas/*.avsc)');
  const topics = await provisionTopics(endpoints, logger);
  const schemas = await provisionSchemas(endpoints);
  console.log(`    topics: created ${topics.created.length}, already there ${topics.unchanged.length}; schemas: ${schemas.map((s) => `${s.subject} #${s.id}`).join(', ')}`);
  await runPipelineDemo(endpoints, logger, {
    customers: options.customers,
    follow: options.follow ?? false,
    seed: options.seed,
    runDir: stackSettingsFromEnv().runDir,
    httpShare: 0.1,
  });
}
