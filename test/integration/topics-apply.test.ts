import type { Admin } from 'kafkajs';
import { ConfigResourceTypes } from 'kafkajs';
import { applyTopics } from '../../services/cli/src/topics/apply-topics';
import { parseTopicsFile, type TopicDeclaration } from '../../services/cli/src/topics/topics-file';
import { testKafka, uniqueName, waitFor } from '../support/test-stack';

function declare(a: string, b: string, partitionsOfB = 2): TopicDeclaration[] {
  return parseTopicsFile(
    `defaults: { partitions: 2, replicationFactor: 1 }
topics:
  - name: ${a}
    config: { retention.ms: "3600000", cleanup.policy: delete }
  - name: ${b}
    partitions: ${partitionsOfB}
    config: { cleanup.policy: compact }
`,
    'test-topics.yaml',
  );
}

describe('tierctl topics apply against the real broker', () => {
  const kafka = testKafka();
  let admin: Admin;
  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(() => admin.disconnect());

  it('creates the declared topics with their partitions and configs, then finds nothing to do', async () => {
    const [a, b] = [uniqueName('apply-a'), uniqueName('apply-b')];
    const first = await applyTopics(admin, declare(a, b));
    expect(first.created).toEqual([a, b]);
    expect(first.drift).toEqual([]);

    const meta = await admin.fetchTopicMetadata({ topics: [a, b] });
    expect(meta.topics.map((t) => t.partitions.length)).toEqual([2, 2]);
    const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: a, configNames: ['retention.ms'] }] });
    expect(configs.resources[0]?.configEntries[0]?.configValue).toBe('3600000');

    const second = await applyTopics(admin, declare(a, b));
    expect(second.created).toEqual([]);
    expect(second.unchanged).toEqual([a, b]);
    expect(second.drift).toEqual([]);
  });

  it('reports drift of a config and of partitions, and --fix mends what Kafka can change', async () => {
    const [a, b] = [uniqueName('drift-a'), uniqueName('drift-b')];
    await applyTopics(admin, declare(a, b));
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: a, configEntries: [{ name: 'retention.ms', value: '60000' }, { name: 'cleanup.policy', value: 'delete' }] }],
    });

    const report = await waitFor(async () => {
      const r = await applyTopics(admin, declare(a, b, 4));
      return r.drift.length === 2 ? r : undefined;
    }, 15_000, 'the altered config to show');
    expect(report.drift).toEqual(
      expect.arrayContaining([
        { topic: a, field: 'config.retention.ms', declared: '3600000', actual: '60000', fixable: true },
        { topic: b, field: 'partitions', declared: '4', actual: '2', fixable: true },
      ]),
    );
    expect(report.drift).toHaveLength(2);

    const fixed = await applyTopics(admin, declare(a, b, 4), { fix: true });
    expect(fixed.fixed).toHaveLength(2);
    expect(fixed.drift).toEqual([]);
    // Config changes reach the broker's metadata shortly after alterConfigs returns.
    await waitFor(async () => ((await applyTopics(admin, declare(a, b, 4))).drift.length === 0 ? true : undefined), 15_000, 'drift to clear');
  });

  it('reports fewer declared partitions than the cluster has as drift it cannot fix', async () => {
    const [a, b] = [uniqueName('shrink-a'), uniqueName('shrink-b')];
    await applyTopics(admin, declare(a, b, 3));
    const report = await applyTopics(admin, declare(a, b, 1), { fix: true });
    expect(report.drift).toEqual([{ topic: b, field: 'partitions', declared: '1', actual: '3', fixable: false }]);
    const meta = await admin.fetchTopicMetadata({ topics: [b] });
    expect(meta.topics[0]?.partitions).toHaveLength(3);
  });
});
