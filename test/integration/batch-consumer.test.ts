// The consumer loop every worker shares (services/runtime/src/kafka/batch-consumer.ts), on the real broker.
import { Partitioners } from 'kafkajs';
import { BatchConsumer, WorkerMetrics, type BatchContext } from '@tierstream/runtime';
import { createTestTopic, quietLogger, testKafka, uniqueName, waitFor } from '../support/test-stack';

const counted = async (metrics: WorkerMetrics, topic: string): Promise<number> => (await metrics.eventsIn.get()).values.find((v) => v.labels.topic === topic)?.value ?? 0;

describe('BatchConsumer', () => {
  const kafka = testKafka();

  async function topicWith(records: number): Promise<string> {
    const topic = uniqueName('batch-consumer');
    await createTestTopic(kafka, topic, 1);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: Array.from({ length: records }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    await producer.disconnect();
    return topic;
  }

  it.each(['consumer', 'handler'] as const)('counts each record once in tierstream_events_in_total when a batch fails and is fetched again (commits by %s)', async (commits) => {
    const topic = await topicWith(25);
    const metrics = new WorkerMetrics(uniqueName('count'));
    const done = new Set<string>();
    let failures = 0;
    const consumer = new BatchConsumer(kafka, {
      groupId: uniqueName('count'),
      topics: [topic],
      logger: quietLogger(),
      metrics,
      commits,
      handler: async (batch: BatchContext) => {
        // The first two attempts fail after the batch was fetched: both are fetched again.
        if (failures < 2) {
          failures++;
          throw new Error('a dependency is down');
        }
        for (const m of batch.messages) done.add(m.offset);
      },
    });
    await consumer.start();
    try {
      await waitFor(() => (done.size === 25 ? true : undefined), 60_000, 'every record handled');
      expect(failures).toBe(2);
      expect(await counted(metrics, topic)).toBe(25);
    } finally {
      await consumer.stop();
    }
  });
});
