import net from 'node:net';
import path from 'node:path';
import { Partitioners, type ISocketFactory } from 'kafkajs';
import type { CustomerEvent, TierChanged } from '@tierstream/domain';
import { AvroCodec, createKafka, createSchemaRegistry, loadPolicyFile, SchemaFiles, startWorker, topicNames, type RunningWorker, type WorkerContext } from '@tierstream/runtime';
import { ScoringWorker, type ScoringSettings } from '../../services/scoring/src/scoring-worker';
import { orderEvent } from '../support/events';
import { provisionNamespace, workerEnv } from '../support/pipeline';
import { quietLogger, readUntilIdle, testEndpoints, testKafka, uniqueName, waitFor } from '../support/test-stack';

const policy = loadPolicyFile(path.resolve(__dirname, '..', '..', 'policies', 'default.yaml'));
const DAY = 86_400_000;
const settings: ScoringSettings = { policy, concurrency: 1, allowedLatenessMs: 7 * DAY, sweep: true, sweepLimit: 1000, tick: undefined };
/** Kafka's api key of a Fetch request: the int16 after a request's int32 size. */
const FETCH_API_KEY = 1;

const order = (id: string, customer: string, amountMinor: number, day: number): CustomerEvent => orderEvent(id, customer, Date.UTC(2026, 0, 1) + day * DAY, amountMinor);

/**
 * Kafka connections whose Fetch requests are held back until release(): the consumer has
 * read its group's committed offset (OffsetFetch comes first) but has no records yet, the
 * moment a zombie's late commit must land in.
 */
function heldFetches(): { socketFactory: ISocketFactory; held(): number; release(): void } {
  let holding = true;
  const held: (() => void)[] = [];
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = net.connect({ host, port }, onConnect);
    const write = socket.write.bind(socket) as (chunk: Buffer, encoding: BufferEncoding) => boolean;
    // kafkajs writes each request whole, as (buffer, 'binary'): its api key is at byte 4.
    const holdingWrite = (chunk: Buffer, encoding: BufferEncoding): boolean => {
      if (!holding || !Buffer.isBuffer(chunk) || chunk.length < 6 || chunk.readInt16BE(4) !== FETCH_API_KEY) return write(chunk, encoding);
      held.push(() => write(chunk, encoding));
      return true;
    };
    socket.write = holdingWrite as net.Socket['write'];
    return socket;
  };
  return {
    socketFactory,
    held: () => held.length,
    release: () => {
      holding = false;
      for (const send of held.splice(0)) send();
    },
  };
}

describe('scoring: a zombie member that commits after the new owner fetched', () => {
  it('the new owner skips the records the zombie committed: no transition id twice for read_committed', async () => {
    const { namespace: ns, endpoints } = await provisionNamespace('zombie', 1);
    const topics = topicNames(ns);
    const groupId = `${ns}tierstream-scoring`;
    const kafka = testKafka();
    const admin = kafka.admin();
    await admin.connect();
    const registry = createSchemaRegistry(endpoints.schemaRegistryUrl);
    const codec = new AvroCodec<CustomerEvent>(registry, topics.events, SchemaFiles.customerEvent);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const produce = async (events: readonly CustomerEvent[]) =>
      producer.send({ topic: topics.events, acks: -1, messages: await Promise.all(events.map(async (e) => ({ key: e.customer_id, partition: 0, value: await codec.encode(e) }))) });
    const committed = async (): Promise<number> => {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topics.events] });
      return Number(offsets?.partitions.find((p) => p.partition === 0)?.offset ?? -1);
    };
    const transitionIds = async (): Promise<string[]> =>
      Promise.all((await readUntilIdle(kafka, topics.tierChanged)).map(async (m) => ((await registry.decode(m.value as Buffer)) as TierChanged).transition_id));
    const workers: RunningWorker[] = [];
    try {
      // The zombie's batch: scored in full by W1 (Redis state with the batch's pending
      // transitions, the transitions on the topic, the offset committed past the batch).
      await produce([order('a1', 'alice', 60_000, 0), order('a2', 'alice', 250_000, 10), order('a3', 'alice', 800_000, 20)]);
      const c1 = Number((await admin.fetchTopicOffsets(topics.events)).find((p) => p.partition === 0)?.high);
      const w1 = await startWorker('scoring', workerEnv(ns, endpoints), (ctx) => new ScoringWorker(ctx, settings));
      workers.push(w1);
      await waitFor(async () => ((await committed()) === c1 ? true : undefined), 60_000, 'W1 to commit the batch');
      await w1.close();
      workers.pop();
      const before = await transitionIds();
      expect(before.length).toBeGreaterThan(0);

      // The new owner's view at its assignment: the group's offset still before the batch.
      await admin.setOffsets({ groupId, topic: topics.events, partitions: [{ partition: 0, offset: '0' }] });
      const fetches = heldFetches();
      const w2Kafka = createKafka({ clientId: uniqueName('w2'), brokers: testEndpoints().kafkaBrokers, logger: quietLogger(), socketFactory: fetches.socketFactory });
      const w2 = await startWorker('scoring', workerEnv(ns, endpoints), (ctx: WorkerContext) => new ScoringWorker({ ...ctx, kafka: w2Kafka }, settings));
      workers.push(w2);
      await waitFor(() => (fetches.held() > 0 ? true : undefined), 60_000, 'W2 to read the committed offset and fetch');
      expect(await committed()).toBe(0);

      // The zombie wakes and commits its transaction (its transitions are W1's, above) with the
      // partition's transactional id, after W2 read offset 0 and before W2 scored anything.
      const zombie = kafka.producer({ transactionalId: `tierstream-scoring-${topics.events}-0`, idempotent: true, maxInFlightRequests: 1 });
      await zombie.connect();
      const tx = await zombie.transaction();
      await tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: topics.events, partitions: [{ partition: 0, offset: String(c1) }] }] });
      await tx.commit();
      await zombie.disconnect();
      fetches.release();

      // A later record: once W2 committed past it, it has dealt with the zombie's batch.
      await produce([order('b1', 'bob', 800_000, 30)]);
      const end = Number((await admin.fetchTopicOffsets(topics.events)).find((p) => p.partition === 0)?.high);
      await waitFor(async () => ((await committed()) === end ? true : undefined), 60_000, 'W2 to score the later record');
      const after = await transitionIds();
      const twice = after.filter((id, i) => after.indexOf(id) !== i);
      expect(twice).toEqual([]);
      expect(after).toEqual(expect.arrayContaining(before));
      expect(after.length).toBeGreaterThan(before.length);
    } finally {
      for (const w of workers) await w.close();
      await producer.disconnect();
      await admin.disconnect();
    }
  }, 240_000);
});
