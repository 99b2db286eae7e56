import { parseTopicsFile } from './topics-file';
import { readTopicsFile } from './topics-file';
import path from 'node:path';
import { TierstreamError } from '@tierstream/runtime';
import { thrownBy } from '../../../runtime/src/testing/thrown-by';

const parseError = (text: string): TierstreamError => thrownBy(() => parseTopicsFile(text, 'topics.yaml'), TierstreamError);

describe('parseTopicsFile', () => {
  it('applies defaults and per-topic values', () => {
    const topics = parseTopicsFile(
      `defaults: { partitions: 6, replicationFactor: 3 }
topics:
  - name: a.b.v1
    valueSchema: schemas/x.avsc
    config: { retention.ms: "-1" }
  - name: a.c.v1
    partitions: 2
`,
      'topics.yaml',
    );
    expect(topics).toEqual([
      { name: 'a.b.v1', partitions: 6, replicationFactor: 3, valueSchema: 'schemas/x.avsc', config: { 'retention.ms': '-1' } },
      { name: 'a.c.v1', partitions: 2, replicationFactor: 3, valueSchema: undefined, config: {} },
    ]);
  });

  it('lets --replication-factor override every declaration', () => {
    const [t] = parseTopicsFile('topics:\n  - name: a\n    replicationFactor: 3\n', 'topics.yaml', { replicationFactor: 1 });
    expect(t?.replicationFactor).toBe(1);
  });

  it('names the file and the path of every problem at once', () => {
    const err = parseError(`topics:
  - name: ok.topic
    partitions: 0
  - name: "bad name!"
  - name: ok.topic
    config: { retention.ms: 5 }
    colour: blue
`);
    expect(err.code).toBe('TS_ERR_TOPICS_FILE');
    expect(err.message).toContain('topics.yaml: topics[0].partitions: must be a whole number >= 1, got 0');
    expect(err.message).toContain('topics.yaml: topics[1].name: must be a Kafka topic name');
    expect(err.message).toContain("topics.yaml: topics[2].name: 'ok.topic' is declared twice");
    expect(err.message).toContain('topics.yaml: topics[2].config.retention.ms: must be a string (quote it), got 5');
    expect(err.message).toContain('topics.yaml: topics[2].colour: unknown field');
  });

  it('rejects YAML that is not a mapping with topics', () => {
    expect(parseError('- just\n- a list\n').message).toContain("must be a mapping with 'topics'");
    expect(parseError('topics: []\n').message).toContain('topics: must be a non-empty list');
    expect(parseError('topics: [\n').message).toContain('not valid YAML');
  });

  it('reads the project topics file: every topic with a schema has a .avsc that exists', () => {
    const topics = readTopicsFile(path.resolve(__dirname, '..', '..', '..', '..', 'infra', 'topics.yaml'));
    expect(topics.map((t) => t.name)).toEqual(
      expect.arrayContaining(['customer.events.raw', 'customer.events.v1', 'customer.events.dlq', 'customer.tier-changed.v1']),
    );
    for (const t of topics) expect(t.name === 'customer.events.raw' || t.valueSchema !== undefined).toBe(true);
  });
});
