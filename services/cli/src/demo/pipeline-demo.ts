import path from 'node:path';
import { SingleBar } from 'cli-progress';
import { Partitioners, type Admin, type Kafka } from 'kafkajs';
import Redis from 'ioredis';
import type { TierChanged } from '@tierstream/domain';
import { createKafka, createSchemaRegistry, CustomerStore, DEFAULT_POLICY_FILE, loadPolicyFile, topicNames, type DeadLetter, type Endpoints, type Logger, type SchemaRegistry } from '@tierstream/runtime';
import { endOffsets, scrapeCounter, uncommitted, type Offsets } from './consumer-lag';
import { pinStrategicAccounts } from './demo-overrides';
import { generatePopulation } from './population';
import { badRecords, toUpstreamJson } from './upstream-json';
import { WebhookReceiver } from './webhook-receiver';
import { WorkerProcesses } from './worker-processes';

export interface PipelineDemoOptions {
  /** Prefix of the run's topics, consumer groups and Redis keys. */
  readonly namespace: string;
  readonly customers: number;
  readonly follow: boolean;
  readonly seed: number;
  readonly runDir: string;
  readonly httpShare: number;
}

const PORTS = { ingest: 18091, scoring: 18092, notifier: 18093 } as const;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitReady(name: string, port: number, workers: WorkerProcesses, logFile: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (workers.exited().includes(name as 'ingest')) throw new Error(`${name} exited during start; see ${logFile}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(300);
  }
  throw new Error(`${name} not ready after 90 s; see ${logFile}`);
}

/** Reads a topic from given start offsets until `done` says enough or the topic is idle. */
async function readFrom<T>(kafka: Kafka, registry: SchemaRegistry, topic: string, from: Offsets, until: Offsets, keep: (v: T) => boolean): Promise<T[]> {
  const remaining = new Map([...until].filter(([p, end]) => end > (from.get(p) ?? 0)));
  const out: T[] = [];
  if (remaining.size === 0) return out;
  const consumer = kafka.consumer({ groupId: `tierctl-demo-read-${Date.now()}-${Math.random().toString(36).slice(2)}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let resolveDone: () => void = () => undefined;
  const finished = new Promise<void>((r) => (resolveDone = r));
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        if (m.value) {
          const v = (await registry.decode(m.value)) as T;
          if (keep(v)) out.push(v);
        }
      }
      const end = remaining.get(batch.partition);
      if (end !== undefined && Number(batch.lastOffset()) + 1 >= end) remaining.delete(batch.partition);
      if (remaining.size === 0) resolveDone();
    },
  });
  for (const [partition, offset] of from) consumer.seek({ topic, partition, offset: String(offset) });
  await Promise.race([finished, sleep(60_000)]);
  await consumer.disconnect();
  return out;
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => '    ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')).join('\n');
}

/**
 * The demo: three workers as processes, a synthetic population streamed through Kafka and
 * HTTP, a verifying webhook receiver, then what happened, in figures.
 */
export async function runPipelineDemo(endpoints: Endpoints, logger: Logger, o: PipelineDemoOptions): Promise<void> {
  const begun = Date.now();
  const ns = o.namespace;
  const topics = topicNames(ns);
  const kafka = createKafka({ clientId: 'tierctl-demo', brokers: endpoints.kafkaBrokers, logger });
  const registry = createSchemaRegistry(endpoints.schemaRegistryUrl);
  const admin: Admin = kafka.admin();
  await admin.connect();
  const runTag = `d${Date.now().toString(36)}-`;
  const receiver = new WebhookReceiver();
  const hookUrl = await receiver.start();
  const workers = new WorkerProcesses(path.join(o.runDir, 'demo-logs'));
  const base = {
    KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
    REDIS_URL: endpoints.redisUrl,
    LOG_LEVEL: 'info',
    TIERSTREAM_NAMESPACE: ns,
  };
  try {
    console.log('3/6 workers (separate processes) and a webhook receiver that verifies signatures');
    const subscribers = JSON.stringify([
      { id: 'crm-journeys', type: 'webhook', url: hookUrl, secrets: [receiver.secret], filter: { dimensions: ['value', 'membership', 'lifecycle'] }, concurrency: 8, timeoutMs: 5000, maxAttempts: 5 },
    ]);
    const logs = {
      ingest: workers.start('ingest', { ...base, HTTP_PORT: String(PORTS.ingest) }),
      // A year of event time streams in seconds here, so the HTTP path (fast) overtakes the
      // Kafka path (through ingest's consumer) by months of event time. The demo allows a
      // year of lateness so no event is dropped as late; in production a few hours of
      // event time is a few hours of wall time (the integration tests cover lateness).
      scoring: workers.start('scoring', { ...base, HTTP_PORT: String(PORTS.scoring), SCORING_ALLOWED_LATENESS_HOURS: String(400 * 24) }),
      notifier: workers.start('notifier', { ...base, HTTP_PORT: String(PORTS.notifier), NOTIFIER_SUBSCRIBERS: subscribers }),
    };
    await Promise.all((Object.keys(PORTS) as (keyof typeof PORTS)[]).map((w) => waitReady(w, PORTS[w], workers, logs[w])));
    console.log(`    ingest :${PORTS.ingest}  scoring :${PORTS.scoring}  notifier :${PORTS.notifier}  (/healthz /readyz /metrics; logs in ${path.dirname(logs.ingest)})`);

    const population = generatePopulation({ customers: o.customers, days: 365, start: Date.UTC(2025, 10, 1), seed: o.seed, idPrefix: runTag });
    const bad = badRecords(runTag, Date.UTC(2026, 5, 1));
    const start = {
      events: await endOffsets(admin, topics.events),
      changes: await endOffsets(admin, topics.tierChanged),
      dlq: await endOffsets(admin, topics.eventsDlq),
    };
    const viaHttp = population.events.filter((_, i) => i % Math.round(1 / o.httpShare) === 0);
    const viaKafka = population.events.filter((_, i) => i % Math.round(1 / o.httpShare) !== 0);
    const duplicates = viaKafka.slice(-25);
    console.log(`4/6 streaming ${population.events.length} events of ${o.customers} customers over a year of event time`);
    console.log(`    ${viaKafka.length} as JSON to ${topics.raw}, ${viaHttp.length} by POST /v1/events, plus ${bad.length} bad records and ${duplicates.length} duplicates`);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const bar = new SingleBar({ format: '    {bar} {percentage}% | {value}/{total} events scored | {rate} ev/s', hideCursor: true, clearOnComplete: false }, { barCompleteChar: '█', barIncompleteChar: '░' } as never);
    const expected = population.events.length;
    bar.start(expected, 0, { rate: '0' });
    // In event-time order, Kafka and HTTP interleaved chunk by chunk: scoring dead-letters
    // events that arrive more than the allowed lateness behind their partition's watermark.
    const every = Math.round(1 / o.httpShare);
    const sending = (async () => {
      const events = population.events;
      for (let i = 0; i < events.length; i += 200) {
        const chunk = events.slice(i, i + 200);
        const http = chunk.filter((_, j) => (i + j) % every === 0);
        const viaTopic = chunk.filter((_, j) => (i + j) % every !== 0);
        await Promise.all([
          producer.send({ topic: topics.raw, acks: -1, messages: viaTopic.map((e) => ({ key: e.customer_id, value: JSON.stringify(toUpstreamJson(e)) })) }),
          http.length === 0
            ? Promise.resolve()
            : fetch(`http://127.0.0.1:${PORTS.ingest}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(http.map(toUpstreamJson)) }).then(async (res) => {
                if (res.status !== 202) throw new Error(`POST /v1/events answered ${res.status}: ${await res.text()}`);
              }),
        ]);
      }
      await producer.send({ topic: topics.raw, acks: -1, messages: [...bad.map((b) => ({ key: b.key, value: b.value })), ...duplicates.map((e) => ({ key: e.customer_id, value: JSON.stringify(toUpstreamJson(e)) }))] });
    })();
    let sent = false;
    sending.then(() => (sent = true), () => undefined);
    const scoredStart = Date.now();
    for (;;) {
      const scored = await scrapeCounter(PORTS.scoring, 'tierstream_events_in_total', `topic="${topics.events}"`);
      const secs = Math.max(0.001, (Date.now() - scoredStart) / 1000);
      bar.update(Math.min(expected, Math.max(0, scored)), { rate: (Math.max(0, scored) / secs).toFixed(0) });
      if (sent && scored >= expected) break;
      if (workers.exited().length > 0) throw new Error(`worker(s) exited: ${workers.exited().join(', ')}`);
      await sleep(500);
    }
    await sending;
    bar.stop();
    await producer.disconnect();
    const streamSecs = (Date.now() - scoredStart) / 1000;
    const redis = new Redis(endpoints.redisUrl);
    const store = new CustomerStore(redis, ns);
    const ids = [...new Set(population.events.map((e) => e.customer_id))];
    const pins = await pinStrategicAccounts(kafka, registry, store, topics.events, ids, loadPolicyFile(DEFAULT_POLICY_FILE));
    console.log(`    tierctl override: ${pins.map((p) => `${p.override?.action === 'SET' ? 'pinned' : 'cleared'} ${p.customer_id}`).join(', ')}`);
    for (let i = 0; i < 60 && (await uncommitted(admin, `${ns}tierstream-scoring`, topics.events)) > 0; i++) await sleep(500);
    // The notifier drains the transitions the last batches produced.
    for (let i = 0; i < 60 && (await uncommitted(admin, `${ns}tierstream-notifier`, topics.tierChanged)) > 0; i++) await sleep(500);

    console.log('5/6 reading back what the pipeline produced');
    const changes = await readFrom<TierChanged>(kafka, registry, topics.tierChanged, start.changes, await endOffsets(admin, topics.tierChanged), (t) => t.customer_id.startsWith(runTag));
    const letters = await readFrom<DeadLetter>(kafka, registry, topics.eventsDlq, start.dlq, await endOffsets(admin, topics.eventsDlq), () => true);
    const revenue = new Map<string, number>();
    const tierCount = new Map<string, Map<string, number>>();
    for (let i = 0; i < ids.length; i += 500) {
      for (const c of await store.load(ids.slice(i, i + 500))) {
        const state = c.record?.state;
        if (!state) continue;
        for (const [dim, t] of Object.entries(state.tiers)) {
          const m = tierCount.get(dim) ?? new Map<string, number>();
          m.set(t.tier, (m.get(t.tier) ?? 0) + 1);
          tierCount.set(dim, m);
        }
        const value = state.tiers['value']?.tier ?? '?';
        revenue.set(value, (revenue.get(value) ?? 0) + (state.metrics['spend_lifetime'] ?? 0));
      }
    }
    redis.disconnect();

    console.log('6/6 results');
    console.log('  tier distribution per dimension');
    for (const [dim, counts] of tierCount) console.log(`    ${dim.padEnd(12)} ${[...counts].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t} ${n}`).join(', ')}`);
    const totalRevenue = [...revenue.values()].reduce((a, b) => a + b, 0) || 1;
    console.log('  revenue share per value tier (lifetime spend, CNY)');
    console.log(table([['tier', 'customers', 'revenue', 'share'], ...['vip', 'high', 'mid', 'low'].map((t) => [t, String(tierCount.get('value')?.get(t) ?? 0), ((revenue.get(t) ?? 0) / 100).toFixed(0), `${(((revenue.get(t) ?? 0) / totalRevenue) * 100).toFixed(1)}%`])]));
    const moves = new Map<string, number>();
    for (const t of changes) if (t.dimension === 'value') moves.set(`${t.from_tier ?? '(new)'} -> ${t.to_tier}`, (moves.get(`${t.from_tier ?? '(new)'} -> ${t.to_tier}`) ?? 0) + 1);
    console.log(`  value-tier transitions by from -> to (${changes.length} transitions in all dimensions)`);
    console.log(table([['move', 'count'], ...[...moves].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, String(v)])]));
    const causes = new Map<string, number>();
    for (const t of changes) causes.set(t.cause, (causes.get(t.cause) ?? 0) + 1);
    console.log(`  transitions by cause: ${[...causes].map(([c, n]) => `${c} ${n}`).join(', ')} (REEVALUATION: no new event, time passed)`);
    const quiet = changes.filter((t) => t.cause === 'REEVALUATION' && t.dimension === 'lifecycle');
    if (quiet.length > 0) {
      const moves2 = new Map<string, number>();
      for (const t of quiet) moves2.set(`${t.from_tier ?? '(new)'} -> ${t.to_tier}`, (moves2.get(`${t.from_tier ?? '(new)'} -> ${t.to_tier}`) ?? 0) + 1);
      console.log(`  lifecycle moves without new events: ${[...moves2].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    }
    const manual = changes.filter((t) => t.cause === 'OVERRIDE');
    if (manual.length > 0) {
      console.log('  manual overrides (audited in the transition stream)');
      for (const t of manual) console.log(`    ${t.transition_id}: ${t.from_tier} -> ${t.to_tier}  ${t.reason}`);
    }
    console.log('  a few decoded tier-changed events');
    for (const t of changes.filter((c) => c.direction === 'UP' && c.dimension === 'value').slice(0, 3)) {
      console.log(`    ${t.transition_id}: ${t.from_tier} -> ${t.to_tier} at ${new Date(t.cause_event_time).toISOString().slice(0, 10)} (cause ${t.cause_event_id}, score ${t.score}, ${t.region} ${t.customer_type})`);
      console.log(`      ${t.reason}`);
    }
    const reasons = new Map<string, number>();
    for (const l of letters) reasons.set(l.error_code, (reasons.get(l.error_code) ?? 0) + 1);
    console.log(`  DLQ: ${letters.length} records`);
    for (const [code, n] of reasons) console.log(`    ${code.padEnd(36)} ${n}`);
    console.log(`  webhooks: ${receiver.verified} deliveries verified (Standard Webhooks), ${receiver.rejected} failed verification, ${receiver.duplicates} duplicates`);
    const wall = (Date.now() - begun) / 1000;
    console.log(`  ${expected} events scored in ${streamSecs.toFixed(1)} s (${(expected / streamSecs).toFixed(0)} events/s end to end); demo wall time ${wall.toFixed(1)} s`);
    console.log(`  look at a customer: npm run tierctl -- customer ${runTag}c00042 --namespace ${ns}`);
    if (o.follow) {
      console.log('--follow: workers keep running; Ctrl-C stops them');
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
  } finally {
    const codes = await workers.stopAll();
    console.log(`  workers stopped (SIGTERM): ${Object.entries(codes).map(([w, c]) => `${w} exit ${c}`).join(', ')}`);
    await receiver.close();
    await admin.disconnect();
  }
}
