import { Partitioners, type Kafka } from 'kafkajs';
import { createTestTopic, readMessages, testKafka, uniqueName, waitFor } from '../support/test-stack';

/**
 * What tierstream needs from the broker through kafkajs 2.2.4: idempotent and
 * transactional produce, consumer groups with committed offsets, read_committed.
 * Run against each Kafka version of the README's compatibility table.
 */
describe(`kafkajs against Kafka ${process.env['TIERSTREAM_TEST_KAFKA_VERSION'] ?? '(external)'}`, () => {
  const kafka: Kafka = testKafka();

  it('a consumer group shares partitions between members and resumes from committed offsets', async () => {
    const topic = uniqueName('group');
    const groupId = uniqueName('g');
    await createTestTopic(kafka, topic, 4);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const batch = (from: number) => Array.from({ length: 40 }, (_, i) => ({ key: `c-${(from + i) % 13}`, value: String(from + i) }));
    await producer.send({ topic, acks: -1, messages: batch(0) });

    const seen = new Map<string, Set<number>>();
    const member = async (name: string) => {
      const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message, partition }) => {
          const got = seen.get(name) ?? new Set<number>();
          got.add(partition);
          seen.set(name, got);
          values.push(Number(message.value?.toString()));
        },
      });
      return consumer;
    };
    const values: number[] = [];
    const [c1, c2] = await Promise.all([member('one'), member('two')]);
    await waitFor(() => (values.length >= 40 ? true : undefined), 60_000, 'first 40 messages');
    await Promise.all([c1.disconnect(), c2.disconnect()]);
    expect(new Set(values).size).toBe(40);
    const [p1, p2] = [seen.get('one') ?? new Set(), seen.get('two') ?? new Set()];
    // Each partition went to exactly one member.
    expect([...p1].filter((p) => p2.has(p))).toEqual([]);

    await producer.send({ topic, acks: -1, messages: batch(40) });
    await producer.disconnect();
    values.length = 0;
    const c3 = await member('three');
    await waitFor(() => (values.length >= 40 ? true : undefined), 60_000, 'next 40 messages');
    await new Promise((r) => setTimeout(r, 500));
    await c3.disconnect();
    // Only the new messages: the group resumed at its committed offsets.
    expect(values.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => 40 + i));
  });

  it('a transaction commits produced records with the consumed offsets; an aborted one stays invisible to read_committed', async () => {
    const input = uniqueName('tx-in');
    const output = uniqueName('tx-out');
    const groupId = uniqueName('tx-group');
    await createTestTopic(kafka, input);
    await createTestTopic(kafka, output);
    const plain = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await plain.connect();
    await plain.send({ topic: input, messages: [{ key: 'c-1', value: 'in-0' }, { key: 'c-1', value: 'in-1' }] });
    await plain.disconnect();

    const producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      transactionalId: uniqueName('tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();

    const aborted = await producer.transaction();
    await aborted.send({ topic: output, messages: [{ key: 'c-1', value: 'aborted' }] });
    await aborted.abort();

    const committed = await producer.transaction();
    await committed.send({ topic: output, messages: [{ key: 'c-1', value: 'out-0' }, { key: 'c-1', value: 'out-1' }] });
    await committed.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: 0, offset: '2' }] }] });
    await committed.commit();
    await producer.disconnect();

    const readCommitted = await readMessages(kafka, output, 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(readCommitted.map((m) => m.value?.toString())).toEqual(['out-0', 'out-1']);

    const uncommitted = await readMessages(kafka, output, 3, { readUncommitted: true });
    expect(uncommitted.map((m) => m.value?.toString())).toEqual(['aborted', 'out-0', 'out-1']);

    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchOffsets({ groupId, topics: [input] });
    await admin.disconnect();
    expect(offsets[0]?.partitions).toEqual([{ partition: 0, offset: '2', metadata: null }]);
  });
});
