// How the shared Kafka client (services/runtime/src/kafka/client.ts) behaves on the real broker.
import { Partitioners } from 'kafkajs';
import { createKafka } from '@tierstream/runtime';
import { LEVEL, recordingLogger } from '../../services/runtime/src/testing/log-lines';
import { createTestTopic, testEndpoints, uniqueName } from '../support/test-stack';

describe('the shared Kafka client', () => {
  it('logs the CONCURRENT_TRANSACTIONS answers kafkajs retries below error, and no error line in back-to-back transactions', async () => {
    const { logger, lines } = recordingLogger('debug');
    const kafka = createKafka({ clientId: uniqueName('tx-logs'), brokers: testEndpoints().kafkaBrokers, logger });
    const topic = uniqueName('tx-logs');
    await createTestTopic(kafka, topic, 1);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, transactionalId: uniqueName('tx-logs'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    // Connection lines carry the answer in `error`, Producer lines (each retried send) in `msg`.
    const concurrent = () => lines.filter((l) => /another concurrent operation on the same transaction/.test(`${String(l['error'])} ${l.msg ?? ''}`));
    try {
      // Each transaction starts while the broker still completes the previous one's commit;
      // how often that is refused varies, so go on until it was a few times.
      for (let i = 0; i < 300 && concurrent().length < 3; i++) {
        const tx = await producer.transaction();
        await tx.send({ topic, acks: -1, messages: [{ key: `k${i}`, value: `v${i}` }] });
        await tx.sendOffsets({ consumerGroupId: `${topic}-group`, topics: [{ topic, partitions: [{ partition: 0, offset: String(i + 1) }] }] });
        await tx.commit();
      }
    } finally {
      await producer.disconnect();
    }
    // The condition occurs (else this test proves nothing) and is logged at debug.
    expect(concurrent().length).toBeGreaterThan(0);
    expect(concurrent().map((l) => l.level)).toEqual(concurrent().map(() => LEVEL.debug));
    expect(lines.filter((l) => l.level >= LEVEL.error)).toEqual([]);
  });
});
