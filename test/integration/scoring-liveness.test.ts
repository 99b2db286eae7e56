import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Partitioners, type Admin } from 'kafkajs';
import type { CustomerEvent, CustomerEventRecord } from '@tierstream/domain';
import { AvroCodec, createRedis, createSchemaRegistry, RedisKeys, SchemaFiles, topicNames } from '@tierstream/runtime';
import { clockTick } from '../../services/scoring/src/scoring-worker';
import { generatePopulation } from '../../services/cli/src/demo/population';
import { WorkerProcesses } from '../../services/cli/src/demo/worker-processes';
import { endOffsets, sum, uncommitted } from '../../services/cli/src/demo/consumer-lag';
import { provisionNamespace, workerEnv } from '../support/pipeline';
import { replayPolicyFile } from '../support/policies';
import { freePort } from '../support/ports';
import { quietLogger, testKafka, waitFor } from '../support/test-stack';

const DAY = 86_400_000;
const PARTITIONS = 3;
// Tens of thousands of events: the catch-up after a fault the issue describes.
const CUSTOMERS = Number(process.env['TS_LIVENESS_CUSTOMERS'] ?? 5000);
/** What a liveness probe allows the answer (Kubernetes' default timeoutSeconds is 1). */
const LIVENESS_BUDGET_MS = 1000;
const POLL_MS = 100;

/** Polls /healthz every POLL_MS, one request at a time, and records how long each answer took. */
class HealthProbe {
  readonly latencies: number[] = [];
  readonly failures: string[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(private readonly port: number) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const started = performance.now();
      try {
        const res = await fetch(`http://127.0.0.1:${this.port}/healthz`, { signal: AbortSignal.timeout(30_000) });
        await res.text();
        const took = performance.now() - started;
        this.latencies.push(took);
        if (!res.ok) this.failures.push(`answered ${res.status} after ${Math.round(took)} ms`);
        else if (took > LIVENESS_BUDGET_MS) this.failures.push(`answered after ${Math.round(took)} ms at ${new Date().toISOString()}`);
      } catch (err) {
        this.failures.push(`no answer after ${Math.round(performance.now() - started)} ms: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  get max(): number {
    return Math.max(0, ...this.latencies);
  }
}

describe('scoring stays live while it catches up', () => {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierstream-liveness-'));
  const workers = new WorkerProcesses(logDir);
  afterAll(async () => {
    await workers.stopAll();
  });

  it(`answers /healthz within ${LIVENESS_BUDGET_MS} ms throughout a backlog and a sweep of everyone 400 days ahead`, async () => {
    const { namespace, endpoints } = await provisionNamespace('live', PARTITIONS);
    const topics = topicNames(namespace);
    const { events } = generatePopulation({ customers: CUSTOMERS, days: 365, start: Date.UTC(2025, 0, 1), seed: 29, idPrefix: 'l-' });
    const end = Math.max(...events.map((e) => e.event_time)) + 400 * DAY;

    // The backlog a restarted worker finds: every event, then a tick per partition far ahead,
    // which re-evaluates every customer through a year of due times.
    const kafka = testKafka();
    const codec = new AvroCodec<CustomerEventRecord>(createSchemaRegistry(endpoints.schemaRegistryUrl), topics.events, SchemaFiles.customerEvent);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    for (let i = 0; i < events.length; i += 1000) {
      const slice: CustomerEvent[] = events.slice(i, i + 1000);
      await producer.send({ topic: topics.events, acks: -1, messages: await Promise.all(slice.map(async (e) => ({ key: e.customer_id, value: await codec.encode(e) }))) });
    }
    const ticks = await Promise.all(Array.from({ length: PARTITIONS }, async (_, partition) => ({ partition, value: await codec.encode(clockTick(partition, end)) })));
    await producer.send({ topic: topics.events, acks: -1, messages: ticks });
    await producer.disconnect();
    const admin: Admin = kafka.admin();
    await admin.connect();
    expect(sum(await endOffsets(admin, topics.events))).toBe(events.length + PARTITIONS);

    const port = await freePort();
    const log = workers.start('scoring', workerEnv(namespace, endpoints, { HTTP_PORT: String(port), LOG_LEVEL: 'info', SCORING_POLICY_FILE: replayPolicyFile() }));
    await waitFor(async () => ((await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok ? true : undefined), 60_000, 'scoring serving /healthz');
    const probe = new HealthProbe(port);
    const started = performance.now();
    const group = `${namespace}tierstream-scoring`;
    const redis = createRedis(endpoints.redisUrl, quietLogger());
    const keys = new RedisKeys(namespace);
    // Caught up: nobody due at or before the end any more (so the last tick was consumed), and
    // every record committed, the sweep's follow-up ticks included (those end in a commit marker).
    const caughtUp = async (): Promise<boolean> => {
      const due = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => redis.zcount(keys.dueIndex(topics.events, p), '-inf', end)));
      return due.reduce((a, b) => a + b, 0) === 0 && (await uncommitted(admin, group, topics.events)) === 0;
    };
    try {
      await waitFor(async () => ((await caughtUp()) ? true : undefined), 400_000, `scoring to catch up (log ${log})`);
    } finally {
      await probe.stop();
      await admin.disconnect();
      redis.disconnect();
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `liveness: ${events.length} events, ${CUSTOMERS} customers swept 400 days ahead in ${seconds.toFixed(1)} s (${Math.round(events.length / seconds)} events/s); ` +
        `${probe.latencies.length} /healthz probes, slowest ${Math.round(probe.max)} ms`,
    );
    expect(probe.latencies.length).toBeGreaterThan(10);
    expect(probe.failures).toEqual([]);
  }, 600_000);
});
