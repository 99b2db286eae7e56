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

describe('BatchConsumer membership', () => {
  const kafka = testKafka();

  it('rejoins its group while batches keep failing after it lost its membership (its event loop was held past the session)', async () => {
    const topic = uniqueName('expelled');
    await createTestTopic(kafka, topic, 1);
    const admin = kafka.admin();
    await admin.connect();
    const groupId = uniqueName('expelled');
    const member = async () => (await admin.describeGroups([groupId])).groups[0]?.members[0]?.memberId;
    let attempts = 0;
    const consumer = new BatchConsumer(kafka, {
      groupId,
      topics: [topic],
      logger: quietLogger(),
      metrics: new WorkerMetrics(groupId),
      commits: 'consumer',
      handler: async () => {
        if (attempts++ === 0) {
          // Synchronous work longer than the 6 s session: no heartbeat can go out.
          const until = Date.now() + 8000;
          while (Date.now() < until);
        }
        throw new Error('a dependency is down');
      },
    });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    try {
      await consumer.start();
      const first = await waitFor(member, 30_000, 'the member to join');
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'v' }] });
      // The coordinator dropped the silent member; it must come back (a new member id) although every batch fails.
      await waitFor(async () => {
        const now = await member();
        return now !== undefined && now !== first ? true : undefined;
      }, 40_000, 'the member to rejoin');
      expect(attempts).toBeGreaterThan(1);
    } finally {
      await consumer.stop();
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});

describe('BatchConsumer during a rebalance', () => {
  const kafka = testKafka();

  it("tells a long batch's handler of a rebalance through its heartbeat and isRunning, although the consumer's own keep-alive sent the heartbeat", async () => {
    const topic = uniqueName('rebalance');
    await createTestTopic(kafka, topic, 2);
    const groupId = uniqueName('rebalance');
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    let told: string | undefined;
    let stillRunning = true;
    const options = { groupId, topics: [topic], logger: quietLogger(), metrics: new WorkerMetrics(groupId), commits: 'consumer' as const };
    const first = new BatchConsumer(kafka, {
      ...options,
      handler: async (batch: BatchContext) => {
        // Long work that asks for a heartbeat now and then, as the notifier does.
        const until = Date.now() + 40_000;
        while (Date.now() < until && told === undefined) {
          await new Promise((r) => setTimeout(r, 1700));
          await batch.heartbeat().catch((err: unknown) => {
            told = (err as { type?: string }).type ?? String(err);
            stillRunning = batch.isRunning();
          });
        }
        if (told !== undefined) throw new Error('left for the rebalance');
      },
    });
    const second = new BatchConsumer(kafka, { ...options, metrics: new WorkerMetrics(`${groupId}-2`), handler: async () => undefined });
    try {
      await first.start();
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [{ key: 'a', value: 'a', partition: 0 }, { key: 'b', value: 'b', partition: 1 }] });
      await new Promise((r) => setTimeout(r, 2000));
      // A second member joins: the coordinator starts a rebalance the first learns of by heartbeat.
      void second.start();
      await waitFor(() => told, 30_000, 'the handler to be told of the rebalance');
      expect(told).toBe('REBALANCE_IN_PROGRESS');
      expect(stillRunning).toBe(false);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
      await producer.disconnect();
    }
  });
});
