import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { Partitioners, type Admin } from 'kafkajs';
import type { TierChanged } from '@tierstream/domain';
import type { CustomerEventRecord } from '@tierstream/domain';
import { AvroCodec, createSchemaRegistry, SchemaFiles, topicNames } from '@tierstream/runtime';
import { clockTick } from '../../services/scoring/src/scoring-worker';
import { generatePopulation } from '../../services/cli/src/demo/population';
import { toUpstreamJson } from '../../services/cli/src/demo/upstream-json';
import { WorkerProcesses } from '../../services/cli/src/demo/worker-processes';
import { committedOffsets, endOffsets, sum, uncommitted } from '../../services/cli/src/demo/consumer-lag';
import { provisionNamespace, workerEnv } from '../support/pipeline';
import { readUntilIdle, testKafka, waitFor } from '../support/test-stack';
import { referenceRun, type RefEvent } from './reference-tiering';

const FX: Record<string, number> = { CNY: 1, USD: 7.1, EUR: 7.8, HKD: 0.91 };

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

async function ready(port: number): Promise<true | undefined> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined;
  } catch {
    return undefined;
  }
}

describe('the pipeline end to end: ingest, scoring and notifier as processes', () => {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierstream-e2e-'));
  const workers = new WorkerProcesses(logDir);
  afterAll(async () => {
    await workers.stopAll();
  });

  it('produces exactly the reference transitions, time-driven ones included, also when scoring is killed mid-stream and restarted', async () => {
    const { namespace, endpoints } = await provisionNamespace('e2e', 3);
    const topics = topicNames(namespace);
    const population = generatePopulation({ customers: 120, days: 365, start: Date.UTC(2025, 10, 1), seed: 11, idPrefix: 'x-' });
    const events = population.events;
    // At the end a clock tick moves every partition to `end`, 400 days after the last event:
    // by then everyone has decayed, through every window, lifecycle deadline and grace period.
    const end = Math.max(...events.map((e) => e.event_time)) + 400 * 86_400_000;
    const reference = referenceRun(
      events.map((e): RefEvent => ({
        customerId: e.customer_id,
        eventId: e.event_id,
        type: e.type as RefEvent['type'],
        time: e.event_time,
        amount: e.order ? Math.round(e.order.amount_minor * (FX[e.order.currency] ?? NaN)) : e.refund ? Math.round(e.refund.amount_minor * (FX[e.refund.currency] ?? NaN)) : 0,
        interactionKind: e.interaction?.kind ?? null,
        feedbackKind: e.feedback?.kind ?? null,
        satisfaction: e.feedback?.score ?? null,
      })),
      end,
    );
    expect(reference.timeDriven).toBeGreaterThan(0);

    const ports = { ingest: await freePort(), scoring: await freePort(), notifier: await freePort() };
    const env = (port: number, extra: Record<string, string> = {}) => workerEnv(namespace, endpoints, { HTTP_PORT: String(port), LOG_LEVEL: 'info', ...extra });
    workers.start('ingest', env(ports.ingest));
    workers.start('notifier', env(ports.notifier, { NOTIFIER_SUBSCRIBERS: JSON.stringify([{ id: 'log', type: 'log' }]) }));
    await waitFor(() => ready(ports.ingest), 60_000, 'ingest ready');

    const kafka = testKafka();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    for (let i = 0; i < events.length; i += 200) {
      await producer.send({ topic: topics.raw, acks: -1, messages: events.slice(i, i + 200).map((e) => ({ key: e.customer_id, value: JSON.stringify(toUpstreamJson(e)) })) });
    }
    await producer.disconnect();

    const admin: Admin = kafka.admin();
    await admin.connect();
    // All canonical events are in before scoring starts, so it has a stream to be killed in.
    await waitFor(async () => (sum(await endOffsets(admin, topics.events)) >= events.length ? true : undefined), 120_000, 'ingest to publish every event');

    // Small fetches: many batches per partition, so the kill lands mid-stream.
    const scoringEnv = env(ports.scoring, { SCORING_FETCH_MAX_BYTES: '8192' });
    const scoringLog = workers.start('scoring', scoringEnv);
    const group = `${namespace}tierstream-scoring`;
    await waitFor(async () => (sum(await committedOffsets(admin, group, topics.events)) > 0 ? true : undefined), 120_000, 'scoring to commit a first batch');
    await workers.kill('scoring', 'SIGKILL');
    const afterKill = await uncommitted(admin, group, topics.events);
    expect(afterKill).toBeGreaterThan(0); // killed mid-stream, not after the end

    workers.start('scoring', scoringEnv);
    await waitFor(async () => ((await uncommitted(admin, group, topics.events)) === 0 ? true : undefined), 180_000, `scoring to finish (log ${scoringLog})`);

    const codec = new AvroCodec<CustomerEventRecord>(createSchemaRegistry(endpoints.schemaRegistryUrl), topics.events, SchemaFiles.customerEvent);
    const ticker = kafka.producer();
    await ticker.connect();
    await ticker.send({ topic: topics.events, acks: -1, messages: await Promise.all([0, 1, 2].map(async (partition) => ({ partition, value: await codec.encode(clockTick(partition, end)) }))) });
    await ticker.disconnect();
    await waitFor(async () => ((await uncommitted(admin, group, topics.events)) === 0 ? true : undefined), 120_000, `scoring to sweep to the end (log ${scoringLog})`);
    await admin.disconnect();

    const dims = new Set(['value', 'membership', 'potential', 'lifecycle']);
    const registry = createSchemaRegistry(endpoints.schemaRegistryUrl);
    const all = await Promise.all((await readUntilIdle(kafka, topics.tierChanged)).map(async (m) => (await registry.decode(m.value as Buffer)) as TierChanged));
    const ids = all.map((t) => t.transition_id);
    expect(new Set(ids).size).toBe(ids.length); // no transition twice, even across the kill
    const observed = all.filter((t) => dims.has(t.dimension)).map((t) => `${t.customer_id}|${t.dimension}|${t.from_tier ?? '-'}|${t.to_tier}`).sort();
    expect(observed).toEqual(reference.transitions);
  }, 600_000);
});
