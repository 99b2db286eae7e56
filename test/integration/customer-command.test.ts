import path from 'node:path';
import { Partitioners } from 'kafkajs';
import Redis from 'ioredis';
import { commandRecord, type CustomerEventRecord } from '@tierstream/domain';
import { AvroCodec, CustomerStore, createSchemaRegistry, loadPolicyFile, SchemaFiles, startWorker, topicNames, type Endpoints, type RunningWorker } from '@tierstream/runtime';
import { customerCommand } from '../../services/cli/src/commands/customer-command';
import { ScoringWorker, type ScoringSettings } from '../../services/scoring/src/scoring-worker';
import { provisionNamespace, workerEnv } from '../support/pipeline';
import { testKafka, waitFor } from '../support/test-stack';

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 1);
const iso = (t: number): string => new Date(t).toISOString();
const policy = loadPolicyFile(path.resolve(__dirname, '..', '..', 'policies', 'default.yaml'));
// Without the sweep a customer's state stays where its last event left it while its
// partition's event time moves on: the stale view `tierctl customer` must not pass off as current.
const settings: ScoringSettings = { policy, concurrency: 1, allowedLatenessMs: 7 * DAY, sweep: false, sweepLimit: 1000, tick: undefined };

const order = (id: string, customer: string, day: number): CustomerEventRecord =>
  commandRecord({ event_id: id, customer_id: customer, type: 'ORDER', event_time: T0 + day * DAY + 3_600_000, order: { order_id: `o-${id}`, amount_minor: 80_000, currency: 'CNY', item_count: 1 } });

/** What the command prints, one string per console.log call. */
async function printed(run: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const spy = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return lines;
}

describe('tierctl customer says at what event time its figures hold (one partition, so one watermark)', () => {
  let ns: string;
  let endpoints: Endpoints;
  let worker: RunningWorker | undefined;
  let redis: Redis;
  const alice = order('a1', 'alice', 0);
  const bob = order('b1', 'bob', 40);

  beforeAll(async () => {
    ({ namespace: ns, endpoints } = await provisionNamespace('customer-cmd', 1));
    redis = new Redis(endpoints.redisUrl);
    worker = await startWorker('scoring', workerEnv(ns, endpoints), (ctx) => new ScoringWorker(ctx, settings));
    const codec = new AvroCodec<CustomerEventRecord>(createSchemaRegistry(endpoints.schemaRegistryUrl), topicNames(ns).events, SchemaFiles.customerEvent);
    const producer = testKafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: topicNames(ns).events, acks: -1, messages: [{ key: alice.customer_id, value: await codec.encode(alice) }] });
    await producer.send({ topic: topicNames(ns).events, acks: -1, messages: [{ key: bob.customer_id, value: await codec.encode(bob) }] });
    await producer.disconnect();
    await waitFor(async () => ((await new CustomerStore(redis, ns).get('bob')).record ? true : undefined), 60_000, 'bob scored');
  });
  afterAll(async () => {
    await worker?.close();
    redis.disconnect();
  });

  it("prints the customer's evaluation time, its last event and the partition's watermark, and how far behind the customer is", async () => {
    const lines = await printed(() => customerCommand('alice', { namespace: ns }));
    const asOf = lines.find((l) => l.startsWith('as of'));
    expect(asOf).toBe(`as of    ${iso(alice.event_time)} (event time of the last evaluation: tiers, score and metrics hold at it); last event ${iso(alice.event_time)}`);
    const clock = lines.find((l) => l.startsWith('clock'));
    expect(clock).toBe(`clock    partition 0 watermark ${iso(bob.event_time)}: this customer is 40.0 days behind it`);
  });

  it('prints the same in --json, as epoch millis', async () => {
    const [text] = await printed(() => customerCommand('alice', { namespace: ns, json: true }));
    const view = JSON.parse(text ?? '{}') as { as_of?: unknown };
    expect(view.as_of).toEqual({ evaluated_at: alice.event_time, last_event_at: alice.event_time, partition: 0, partition_watermark: bob.event_time, behind_watermark_ms: 40 * DAY, next_due_at: null });
  });

  it('shows a customer at the watermark as current', async () => {
    const lines = await printed(() => customerCommand('bob', { namespace: ns }));
    expect(lines.find((l) => l.startsWith('clock'))).toBe(`clock    partition 0 watermark ${iso(bob.event_time)}: this customer is at it`);
  });
});
