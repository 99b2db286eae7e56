import path from 'node:path';
import { createKafka, createSchemaRegistry, type Endpoints, type Logger, type RegisteredSchema } from '@tierstream/runtime';
import { registerSchemas } from './schemas/register-schemas';
import { REPO_ROOT } from './stack/settings';
import { applyTopics, type ApplyResult } from './topics/apply-topics';
import { readTopicsFile, type TopicDeclaration } from './topics/topics-file';

export const DEFAULT_TOPICS_FILE = path.join(REPO_ROOT, 'infra', 'topics.yaml');

export interface ProvisionOptions {
  readonly topicsFile?: string;
  readonly replicationFactor?: number;
  readonly fix?: boolean;
  /** Prefix of every topic name (TIERSTREAM_NAMESPACE of the workers that use them). */
  readonly namespace?: string;
}

export function declaredTopics(options: ProvisionOptions): TopicDeclaration[] {
  const topics = readTopicsFile(options.topicsFile ?? DEFAULT_TOPICS_FILE, options.replicationFactor === undefined ? {} : { replicationFactor: options.replicationFactor });
  const ns = options.namespace ?? '';
  return ns === '' ? topics : topics.map((t) => ({ ...t, name: `${ns}${t.name}` }));
}

export async function provisionTopics(endpoints: Endpoints, logger: Logger, options: ProvisionOptions = {}): Promise<ApplyResult> {
  const declared = declaredTopics(options);
  const admin = createKafka({ clientId: 'tierctl', brokers: endpoints.kafkaBrokers, logger }).admin();
  await admin.connect();
  try {
    return await applyTopics(admin, declared, options.fix === undefined ? {} : { fix: options.fix });
  } finally {
    await admin.disconnect();
  }
}

export function provisionSchemas(endpoints: Endpoints, options: ProvisionOptions = {}): Promise<RegisteredSchema[]> {
  return registerSchemas(createSchemaRegistry(endpoints.schemaRegistryUrl), declaredTopics(options), REPO_ROOT);
}
