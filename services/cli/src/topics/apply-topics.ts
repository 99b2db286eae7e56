import type { Admin } from 'kafkajs';
import { ConfigResourceTypes } from 'kafkajs';
import type { TopicDeclaration } from './topics-file';

export interface TopicDrift {
  readonly topic: string;
  readonly field: string;
  readonly declared: string;
  readonly actual: string;
  /** Whether `--fix` can make the cluster match (more partitions, a config value). */
  readonly fixable: boolean;
}

export interface ApplyResult {
  readonly created: string[];
  readonly unchanged: string[];
  readonly drift: TopicDrift[];
  readonly fixed: TopicDrift[];
}

/**
 * Creates declared topics that are missing and compares the others with their declaration.
 * With `fix`, raises partition counts and sets declared configs; it never lowers partitions
 * or changes replication (Kafka cannot, or it needs a reassignment plan).
 */
export async function applyTopics(admin: Admin, declared: readonly TopicDeclaration[], options: { fix?: boolean } = {}): Promise<ApplyResult> {
  const existing = new Set(await admin.listTopics());
  const missing = declared.filter((t) => !existing.has(t.name));
  const present = declared.filter((t) => existing.has(t.name));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        replicationFactor: t.replicationFactor,
        configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
      })),
    });
  }
  const drift = present.length > 0 ? await findDrift(admin, present) : [];
  const fixed: TopicDrift[] = [];
  if (options.fix) {
    for (const d of drift.filter((x) => x.fixable)) {
      const decl = declared.find((t) => t.name === d.topic);
      if (!decl) continue;
      if (d.field === 'partitions') await admin.createPartitions({ topicPartitions: [{ topic: d.topic, count: decl.partitions }] });
    }
    const configFixes = drift.filter((x) => x.fixable && x.field.startsWith('config.'));
    const topicsToAlter = [...new Set(configFixes.map((d) => d.topic))];
    if (topicsToAlter.length > 0) {
      await admin.alterConfigs({
        validateOnly: false,
        resources: topicsToAlter.map((name) => ({
          type: ConfigResourceTypes.TOPIC,
          name,
          configEntries: Object.entries(declared.find((t) => t.name === name)?.config ?? {}).map(([n, value]) => ({ name: n, value })),
        })),
      });
    }
    fixed.push(...drift.filter((x) => x.fixable));
  }
  const changed = new Set(drift.map((d) => d.topic));
  return {
    created: missing.map((t) => t.name),
    unchanged: present.filter((t) => !changed.has(t.name)).map((t) => t.name),
    drift: options.fix ? drift.filter((x) => !x.fixable) : drift,
    fixed,
  };
}

async function findDrift(admin: Admin, present: readonly TopicDeclaration[]): Promise<TopicDrift[]> {
  const drift: TopicDrift[] = [];
  const metadata = await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: present.map((t) => ({ type: ConfigResourceTypes.TOPIC, name: t.name, configNames: Object.keys(t.config) })),
  });
  for (const t of present) {
    const meta = metadata.topics.find((m) => m.name === t.name);
    if (meta) {
      const partitions = meta.partitions.length;
      if (partitions !== t.partitions) {
        drift.push({ topic: t.name, field: 'partitions', declared: String(t.partitions), actual: String(partitions), fixable: partitions < t.partitions });
      }
      const rf = Math.min(...meta.partitions.map((p) => p.replicas.length));
      if (rf !== t.replicationFactor) {
        drift.push({ topic: t.name, field: 'replicationFactor', declared: String(t.replicationFactor), actual: String(rf), fixable: false });
      }
    }
    const resource = configs.resources.find((r) => r.resourceName === t.name);
    for (const [name, value] of Object.entries(t.config)) {
      const actual = resource?.configEntries.find((e) => e.configName === name)?.configValue;
      if (actual !== value) drift.push({ topic: t.name, field: `config.${name}`, declared: value, actual: actual ?? '(unset)', fixable: true });
    }
  }
  return drift;
}
