// Outages of one dependency while records flow (issue 9): the worker reports not-ready
// naming the part, keeps running, commits nothing it could not make durable, and catches up
// by itself when the part returns. Each outage is played on a part of the test's own
// (private redis-server, a TCP gate before the registry, cuttable broker sockets): the shared
// stack is never stopped. Recovery figures are printed, not asserted.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { Partitioners, type Admin, type Producer } from 'kafkajs';
import type { TierChanged } from '@tierstream/domain';
import { AvroCodec, BatchConsumer, createKafka, createLogger, createSchemaRegistry, SchemaFiles, topicNames, WorkerMetrics, type Endpoints } from '@tierstream/runtime';
import { lag, sum, endOffsets } from '../../services/cli/src/demo/consumer-lag';
import { newSecret, tierChange } from '../../services/notifier/src/testing/fixtures';
import { WebhookReceiver } from '../../services/notifier/src/testing/webhook-receiver';
import { cuttableSockets, PrivateRedis, TcpGate } from '../support/outage-parts';
import { provisionNamespace, workerEnv } from '../support/pipeline';
import { createTestTopic, testEndpoints, testKafka, uniqueName, waitFor } from '../support/test-stack';
import { opsGet, unusedPort, WorkerChild } from '../support/worker-process';

/** The 60 s; TIERSTREAM_OUTAGE_MS shortens it for a quick local run. */
const OUTAGE_MS = Number(process.env['TIERSTREAM_OUTAGE_MS'] ?? 60_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Tier changes produced a few every 200 ms until stopped; their transition ids. */
function changeFeed(producer: Producer, codec: AvroCodec<TierChanged>, topic: string, prefix: string) {
  const ids: string[] = [];
  let running = true;
  const loop = (async () => {
    for (let seq = 0; running; seq++) {
      const changes = [0, 1, 2].map((k) => {
        const customer = `${prefix}-c${(seq * 3 + k) % 30}`;
        return tierChange({ customer_id: customer, transition_id: `${customer}/value/${seq}`, tier_version: seq + 1, emitted_at: Date.now() });
      });
      await producer.send({ topic, acks: -1, messages: await Promise.all(changes.map(async (c) => ({ key: c.customer_id, value: await codec.encode(c) }))) });
      ids.push(...changes.map((c) => c.transition_id));
      await sleep(200);
    }
  })();
  return {
    ids,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

describe('outages of one dependency while tier changes flow to the notifier', () => {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierstream-outages-'));
  const secret = newSecret();
  const receiver = new WebhookReceiver([secret]);
  const kafka = testKafka();
  const children: WorkerChild[] = [];
  let producer: Producer;
  let admin: Admin;

  beforeAll(async () => {
    await receiver.start();
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => c.kill('SIGKILL')));
    await producer?.disconnect();
    await admin?.disconnect();
    await receiver.close();
  });

  async function notifier(name: string, endpoints: Endpoints, namespace: string): Promise<{ child: WorkerChild; port: number }> {
    const port = await unusedPort();
    const subscribers = [{ id: 'hooks', type: 'webhook', url: receiver.url(`/${name}`), secrets: [secret], timeoutMs: 2000, maxAttempts: 3, backoff: { initialMs: 50, maxMs: 200 } }];
    const env = workerEnv(namespace, endpoints, { HTTP_PORT: String(port), LOG_LEVEL: process.env['TEST_WORKER_LOG_LEVEL'] ?? 'info', NOTIFIER_SUBSCRIBERS: JSON.stringify(subscribers) });
    const child = new WorkerChild('notifier', env, path.join(logDir, `${name}.log`));
    children.push(child);
    await waitFor(async () => ((await opsGet(port, '/readyz'))?.status === 200 ? true : undefined), 60_000, `the notifier to be ready (log ${child.logFile})`);
    return { child, port };
  }

  const deliveredAll = (route: string, ids: readonly string[]) => {
    const ok = new Set(receiver.requests.filter((r) => r.path === route && r.action === 200).map((r) => r.id));
    return ids.every((id) => ok.has(id));
  };

  /** Polls /readyz through the outage; returns the last not-ready answer (its steady state) and whether the process stayed up. */
  async function duringOutage(child: WorkerChild, port: number): Promise<{ notReady: { status: number; checks: Record<string, string> } | undefined; stayedUp: boolean }> {
    let notReady: { status: number; checks: Record<string, string> } | undefined;
    const end = Date.now() + OUTAGE_MS;
    while (Date.now() < end) {
      const answer = await opsGet(port, '/readyz');
      if (answer && answer.status !== 200) notReady = { status: answer.status, checks: (JSON.parse(answer.body) as { checks: Record<string, string> }).checks };
      await sleep(1000);
    }
    return { notReady, stayedUp: child.running };
  }

  it('Redis killed for 60 s: not ready naming redis, stays up, then delivers every change by itself', async () => {
    const redis = await PrivateRedis.start();
    try {
      const { namespace, endpoints } = await provisionNamespace('outage-redis', 3);
      const topics = topicNames(namespace);
      const codec = new AvroCodec<TierChanged>(createSchemaRegistry(endpoints.schemaRegistryUrl), topics.tierChanged, SchemaFiles.tierChanged);
      await codec.init();
      const { child, port } = await notifier('redis', { ...endpoints, redisUrl: redis.url }, namespace);
      const feed = changeFeed(producer, codec, topics.tierChanged, 'r');
      await waitFor(() => (feed.ids.length > 0 && deliveredAll('/redis', feed.ids.slice(0, 3)) ? true : undefined), 60_000, 'a first delivery');

      await redis.kill();
      const outage = await duringOutage(child, port);
      await redis.up();
      const back = Date.now();
      await feed.stop();
      await waitFor(() => (deliveredAll('/redis', feed.ids) ? true : undefined), 120_000, `every change delivered after Redis returned (log ${child.logFile})`);
      process.stdout.write(`outage redis: every one of ${feed.ids.length} changes delivered ${seconds(Date.now() - back)} after Redis returned; /readyz during it: ${JSON.stringify(outage.notReady)}\n`);

      expect(outage.stayedUp).toBe(true);
      expect(outage.notReady?.status).toBe(503);
      expect(outage.notReady?.checks['redis']).toMatch(/^not connected/);
      expect(outage.notReady?.checks['kafka']).toBe('ok');
      await waitFor(async () => ((await opsGet(port, '/readyz'))?.status === 200 ? true : undefined), 30_000, 'ready again');
      expect(await child.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    } finally {
      await redis.kill();
    }
  }, 300_000);

  it('registry unreachable for 60 s before any change was decoded: not ready naming the registry, nothing dead-lettered, every change delivered after', async () => {
    const { namespace, endpoints } = await provisionNamespace('outage-registry', 3);
    const topics = topicNames(namespace);
    const real = new URL(endpoints.schemaRegistryUrl);
    const gate = await TcpGate.open({ host: real.hostname, port: Number(real.port) });
    try {
      const { child, port } = await notifier('registry', { ...endpoints, schemaRegistryUrl: `http://127.0.0.1:${gate.port}${real.pathname}` }, namespace);
      await gate.close();
      // Produced through the real registry: the notifier meets their schema id only in the outage.
      const codec = new AvroCodec<TierChanged>(createSchemaRegistry(endpoints.schemaRegistryUrl), topics.tierChanged, SchemaFiles.tierChanged);
      await codec.init();
      const feed = changeFeed(producer, codec, topics.tierChanged, 'g');
      const outage = await duringOutage(child, port);
      await gate.open();
      const back = Date.now();
      await feed.stop();
      await waitFor(() => (deliveredAll('/registry', feed.ids) ? true : undefined), 120_000, `every change delivered after the registry returned (log ${child.logFile})`);
      process.stdout.write(`outage registry: every one of ${feed.ids.length} changes delivered ${seconds(Date.now() - back)} after the registry returned; /readyz during it: ${JSON.stringify(outage.notReady)}\n`);

      expect(outage.stayedUp).toBe(true);
      expect(outage.notReady?.status).toBe(503);
      expect(outage.notReady?.checks['schemaRegistry']).toBe('unreachable: ECONNREFUSED');
      expect(outage.notReady?.checks['redis']).toBe('ok');
      expect(sum(await endOffsets(admin, topics.tierChangedDlq))).toBe(0);
      expect(await child.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    } finally {
      await gate.close();
    }
  }, 300_000);
});

describe('the broker unreachable for 60 s for a BatchConsumer', () => {
  it('keeps the consumer (kafkajs restarts it, or it restarts it itself), never fatal, and it consumes everything once the broker is back', async () => {
    const sockets = cuttableSockets();
    const consumerKafka = createKafka({ clientId: uniqueName('cut'), brokers: testEndpoints().kafkaBrokers, logger: createLogger({ name: 'cut', level: process.env['TEST_LOG_LEVEL'] ?? 'fatal' }), socketFactory: sockets.socketFactory });
    const kafka = testKafka();
    const topic = uniqueName('cut');
    await createTestTopic(kafka, topic, 2);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const admin = kafka.admin();
    await admin.connect();
    const groupId = uniqueName('cut');
    const metrics = new WorkerMetrics(groupId);
    const fatal: Error[] = [];
    const consumer = new BatchConsumer(consumerKafka, { groupId, topics: [topic], logger: createLogger({ name: 'cut-consumer', level: process.env['TEST_LOG_LEVEL'] ?? 'fatal' }), metrics, commits: 'consumer', handler: async () => undefined, onFatal: (err) => fatal.push(err) });
    const send = (from: number) => producer.send({ topic, acks: -1, messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${from + i}`, value: `v${from + i}` })) });
    try {
      await consumer.start();
      await send(0);
      await waitFor(async () => ((await lag(admin, groupId, topic)) === 0 && sum(await endOffsets(admin, topic)) === 20 ? true : undefined), 60_000, 'the first records consumed');

      sockets.cut();
      const problems: string[] = [];
      const end = Date.now() + OUTAGE_MS;
      for (let i = 0; Date.now() < end; i++) {
        if (i % 10 === 0) await send(20 + i);
        problems.push(...Object.values(metrics.consumerProblems()));
        await sleep(1000);
      }
      sockets.restore();
      const back = Date.now();
      await waitFor(async () => ((await lag(admin, groupId, topic)) === 0 ? true : undefined), 120_000, 'every record consumed after the broker returned');
      process.stdout.write(`outage broker: caught up ${seconds(Date.now() - back)} after the broker returned; consumer states seen: ${JSON.stringify([...new Set(problems.map((p) => p.split(':')[0]))])}\n`);
      expect(fatal).toEqual([]);
      await waitFor(() => (Object.keys(metrics.consumerProblems()).length === 0 ? true : undefined), 30_000, 'the consumer to report itself consuming');
    } finally {
      await consumer.stop();
      await producer.disconnect();
      await admin.disconnect();
    }
  }, 300_000);
});
