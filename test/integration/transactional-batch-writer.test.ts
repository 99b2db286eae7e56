// The runtime's one transactional writer (both workers' batches go through it) on the real broker.
import { TransactionalBatchWriter } from '@tierstream/runtime';
import { createTestTopic, quietLogger, readUntilIdle, testKafka, uniqueName } from '../support/test-stack';

describe('TransactionalBatchWriter (real Kafka)', () => {
  const kafka = testKafka();
  const admin = kafka.admin();
  const group = uniqueName('tx-writer-group');
  let out: string;
  let source: string;

  beforeAll(async () => {
    out = uniqueName('tx-writer-out');
    source = uniqueName('tx-writer-in');
    await createTestTopic(kafka, out, 3);
    await createTestTopic(kafka, source, 2);
    await admin.connect();
  });
  afterAll(async () => {
    await admin.deleteTopics({ topics: [out, source] }).catch(() => undefined);
    await admin.disconnect();
  });

  const offsetOf = async (partition: number): Promise<string | undefined> =>
    (await admin.fetchOffsets({ groupId: group, topics: [source] }))[0]?.partitions.find((p) => p.partition === partition)?.offset;

  it('commits the records (chunked past the broker limit) and the consumed offset together, per partition producer', async () => {
    const ids: string[] = [];
    const writer = new TransactionalBatchWriter(kafka, quietLogger(), { transactionalIdOf: (p) => { ids.push(`${out}-${p}`); return `${out}-${p}`; } });
    try {
      // 3 MiB to one partition: one send of it would be refused whole (message.max.bytes 1 MiB).
      const big = Array.from({ length: 48 }, (_, i) => ({ key: `k${i}`, value: Buffer.alloc(64 * 1024, i) }));
      await writer.write(0, [{ topic: out, partition: 2, messages: big }, { topic: out, messages: [{ key: 'small', value: 'x' }] }], { consumerGroupId: group, topic: source, partition: 0, offset: '7' });
      await writer.write(1, [{ topic: out, messages: [] }], { consumerGroupId: group, topic: source, partition: 1, offset: '3' });
      expect(writer.has(0) && writer.has(1)).toBe(true);
      expect(new Set(ids)).toEqual(new Set([`${out}-0`, `${out}-1`]));
    } finally {
      await writer.close();
    }
    const seen = await readUntilIdle(kafka, out, 2000);
    expect(seen).toHaveLength(49);
    expect([await offsetOf(0), await offsetOf(1)]).toEqual(['7', '3']);
  });

  it('aborts a failed transaction: nothing visible read_committed, the offset unmoved, a retriable error with the given code', async () => {
    const writer = new TransactionalBatchWriter(kafka, quietLogger(), { transactionalIdOf: () => uniqueName('tx-fail'), errorCode: 'TS_ERR_INGEST_PRODUCE' });
    try {
      // One record over the broker's limit fails the send, after the first record went into the transaction.
      const write = writer.write(0, [{ topic: out, messages: [{ key: 'before', value: 'kept out' }] }, { topic: out, messages: [{ key: 'huge', value: Buffer.alloc(2 * 1024 * 1024) }] }], {
        consumerGroupId: group, topic: source, partition: 0, offset: '99',
      });
      await expect(write).rejects.toMatchObject({ code: 'TS_ERR_INGEST_PRODUCE', retriable: true });
    } finally {
      await writer.close();
    }
    expect(await offsetOf(0)).toBe('7');
    const seen = await readUntilIdle(kafka, out, 2000);
    expect(seen.map((m) => m.key)).not.toContain('before');
  });

  it('a writer taking over a transactional id aborts the transaction its former holder left open', async () => {
    const id = uniqueName('tx-takeover');
    // The former owner, stalled mid-transaction: a record sent, never committed.
    const stalled = kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
    await stalled.connect();
    const open = await stalled.transaction();
    await open.send({ topic: out, acks: -1, messages: [{ key: 'left-open', value: 'x', partition: 1 }] });
    const writer = new TransactionalBatchWriter(kafka, quietLogger(), { transactionalIdOf: () => id });
    try {
      await writer.write(1, [{ topic: out, partition: 1, messages: [{ key: 'owner', value: 'o' }] }], { consumerGroupId: group, topic: source, partition: 1, offset: '4' });
    } finally {
      await writer.close();
      await stalled.disconnect();
    }
    // Read committed: the open transaction would hold the partition's last stable offset back; it was aborted.
    const keys = (await readUntilIdle(kafka, out, 2000)).map((m) => m.key);
    expect(keys).toContain('owner');
    expect(keys).not.toContain('left-open');
    expect(await offsetOf(1)).toBe('4');
  });
});
