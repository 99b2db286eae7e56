import os from 'node:os';
import { Partitioners, type Admin, type Producer } from 'kafkajs';
import type { CustomerEventRecord } from '@tierstream/domain';
import { AvroCodec, createKafka, createLogger, createSchemaRegistry, RedisKeys, SchemaFiles, topicNames, type Endpoints, type Redis } from '@tierstream/runtime';
import { clockTick } from '@tierstream/scoring/dist/scoring-worker';
import { busyShare, machineCpu, redisCpuSeconds, redisInfo, stealShare } from './machine';
import type { SweepBenchOptions } from './options';
import { fixed, int } from './results';
import { metricValue, type ScoringProcess } from './worker';

/** The day every seeded customer is next due (any day works: event time only). */
export const DUE_DAY = Date.UTC(2026, 0, 1);
const POLL_MS = 500;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const seconds = (fromMs: number): number => (performance.now() - fromMs) / 1000;

export interface SweepMeasurement {
  completed: boolean;
  /** Why the sweep was not completed: time up, stalled, interrupted. */
  stoppedBecause: string | null;
  dueAtStart: number;
  reevaluated: number;
  /** From the ticks until the due index held nobody at or before the watermark. */
  seconds: number;
  /** Until the worker's group had committed every consumed record (the last transaction committed). */
  drainedSeconds: number | null;
  customersPerSecond: number;
  /** After the first 10% were re-evaluated: start-up (first fetch, first batches) excluded. */
  steadyState: { fromSeconds: number; customersPerSecond: number } | null;
  firstProgressSeconds: number | null;
  transitions: number;
  /** Records the worker consumed: our ticks plus the ones it wrote to continue its sweeps. */
  recordsConsumed: number;
  batches: number;
  meanBatchMs: number | null;
  /** Sum of batch durations over the sweep's wall time: the share of time inside a batch; above 1 when partitions are processed concurrently. */
  batchBusyShare: number | null;
  cpu: {
    /** All replicas together. */
    workerSeconds: number;
    /** Worker CPU over wall time: 1.0 is one core saturated (Node runs a worker's JavaScript on one thread). */
    workerCores: number;
    redisSeconds: number;
    redisForkSeconds: number;
    benchSeconds: number;
    machineBusyShare: number | null;
    /** Share of the machine's CPU time taken by the hypervisor for other guests (a noisy neighbour slows everything). */
    stealShare: number | null;
    /** Machine CPU not accounted for above: Kafka, the registry and whatever else ran (other users of the stack). */
    otherSeconds: number | null;
  };
  redisForks: number;
  worker: { rssBytes: number; heapUsedBytes: number };
  /** [seconds since the ticks, customers still due] every 0.5 s. */
  samples: [number, number][];
}

export async function dueCount(redis: Redis, keys: RedisKeys, topic: string, partitions: number, watermark: number): Promise<number> {
  const pipeline = redis.pipeline();
  for (let p = 0; p < partitions; p++) pipeline.zcount(keys.dueIndex(topic, p), '-inf', watermark);
  let total = 0;
  for (const [err, n] of (await pipeline.exec()) ?? []) {
    if (err) throw err;
    total += Number(n);
  }
  return total;
}

/**
 * Records the group has not committed, not counting a partition's last offset: once the
 * worker continues a sweep with its own ticks, written in its transactions, the last offset
 * is a commit marker, which no consumer sees or commits past.
 */
export async function groupLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const at = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Math.max(0, Number(p.offset))]));
  return ends.reduce((sum, e) => sum + Math.max(0, Number(e.high) - 1 - (at.get(e.partition) ?? 0)), 0);
}

/** Moves every partition's watermark to `time` with one clock tick each, as the worker's own ticks are written. */
export async function writeTicks(producer: Producer, codec: AvroCodec<CustomerEventRecord>, topic: string, partitions: number, time: number): Promise<void> {
  const messages = await Promise.all(Array.from({ length: partitions }, async (_, partition) => ({ partition, key: null, value: await codec.encode(clockTick(partition, time)) })));
  await producer.send({ topic, acks: -1, messages });
}

/** Ticks, then polls the due index until nobody is due at or before the watermark (or time is up). */
export async function measureSweep(
  o: Pick<SweepBenchOptions, 'maxSweepSeconds' | 'stallSeconds'>,
  log: (line: string) => void,
  ctx: { endpoints: Endpoints; redis: Redis; admin: Admin; workers: readonly ScoringProcess[]; namespace: string; partitions: number; watermark: number; signal: AbortSignal },
): Promise<SweepMeasurement> {
  const { redis, admin, workers, namespace, partitions, watermark, signal } = ctx;
  // Every replica's samples in one text: metricValue sums over lines.
  const metrics = async (): Promise<string> => (await Promise.all(workers.map((w) => w.metrics()))).join('\n');
  const topics = topicNames(namespace);
  const keys = new RedisKeys(namespace);
  const groupId = `${namespace}tierstream-scoring`;
  // kafkajs warns that an idempotent producer with limited retries may lose exactly-once: the worker's tick producer is the same.
  const logger = createLogger({ name: 'bench-sweep', level: 'error' });
  const kafka = createKafka({ clientId: 'bench-sweep', brokers: ctx.endpoints.kafkaBrokers, logger });
  const codec = new AvroCodec<CustomerEventRecord>(createSchemaRegistry(ctx.endpoints.schemaRegistryUrl), topics.events, SchemaFiles.customerEvent);
  await codec.init();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const dueAtStart = await dueCount(redis, keys, topics.events, partitions, watermark);
    const before = { metrics: await metrics(), redis: await redisInfo(redis), machine: machineCpu(), bench: process.cpuUsage() };
    const started = performance.now();
    await writeTicks(producer, codec, topics.events, partitions, watermark);
    const samples: [number, number][] = [[0, dueAtStart]];
    let remaining = dueAtStart;
    let lastReport = 0;
    let firstProgress: number | null = null;
    let lastProgress = 0;
    let stoppedBecause: string | null = null;
    while (remaining > 0) {
      if (signal.aborted) stoppedBecause = 'interrupted';
      else if (seconds(started) >= o.maxSweepSeconds) stoppedBecause = `time up (--max-sweep-seconds ${o.maxSweepSeconds})`;
      else if (seconds(started) - lastProgress >= o.stallSeconds) stoppedBecause = `stalled: nobody re-evaluated for ${o.stallSeconds} s (see the worker log)`;
      if (stoppedBecause) break;
      await sleep(POLL_MS);
      for (const w of workers) w.assertRunning();
      const now = await dueCount(redis, keys, topics.events, partitions, watermark);
      const t = seconds(started);
      if (now < remaining) lastProgress = t;
      remaining = now;
      samples.push([Math.round(t * 1000) / 1000, remaining]);
      if (firstProgress === null && remaining < dueAtStart) firstProgress = t;
      if (t - lastReport >= 10 || remaining === 0) {
        lastReport = t;
        log(`    ${fixed(t, 0).padStart(5)} s  ${int(dueAtStart - remaining).padStart(11)} re-evaluated  ${int(remaining).padStart(11)} still due  ${int((dueAtStart - remaining) / t).padStart(7)}/s`);
      }
    }
    const sweepSeconds = seconds(started);
    const completed = remaining === 0;
    let drainedSeconds: number | null = null;
    if (completed) {
      const deadline = performance.now() + 60_000;
      while (performance.now() < deadline && (await groupLag(admin, groupId, topics.events)) > 0) await sleep(100);
      if ((await groupLag(admin, groupId, topics.events)) === 0) drainedSeconds = seconds(started);
    }
    const wall = drainedSeconds ?? seconds(started);
    const after = { metrics: await metrics(), redis: await redisInfo(redis), machine: machineCpu(), bench: process.cpuUsage(before.bench) };
    const delta = (name: string, label = ''): number => metricValue(after.metrics, name, label) - metricValue(before.metrics, name, label);
    const reevaluated = dueAtStart - remaining;
    const tenth = samples.find(([, left]) => dueAtStart - left >= dueAtStart * 0.1);
    const last = samples[samples.length - 1] ?? [0, dueAtStart];
    const steadyState = tenth && last[0] > tenth[0] ? { fromSeconds: tenth[0], customersPerSecond: (tenth[1] - last[1]) / (last[0] - tenth[0]) } : null;
    const batches = delta('tierstream_batch_duration_seconds_count');
    const batchSeconds = delta('tierstream_batch_duration_seconds_sum');
    const redisBefore = redisCpuSeconds(before.redis);
    const redisAfter = redisCpuSeconds(after.redis);
    const workerSeconds = delta('process_cpu_seconds_total');
    const machineShare = busyShare(before.machine, after.machine);
    const benchSeconds = (after.bench.user + after.bench.system) / 1e6;
    const redisSeconds = redisAfter.server - redisBefore.server;
    const redisForkSeconds = redisAfter.children - redisBefore.children;
    const machineSeconds = machineShare === null ? null : machineShare * os.cpus().length * wall;
    if (stoppedBecause) log(`    stopped: ${stoppedBecause}`);
    return {
      completed,
      stoppedBecause,
      dueAtStart,
      reevaluated,
      seconds: sweepSeconds,
      drainedSeconds,
      customersPerSecond: reevaluated / sweepSeconds,
      steadyState,
      firstProgressSeconds: firstProgress,
      transitions: delta('tierstream_events_out_total', `topic="${topics.tierChanged}"`),
      recordsConsumed: delta('tierstream_events_in_total', `topic="${topics.events}"`),
      batches,
      meanBatchMs: batches > 0 ? (batchSeconds / batches) * 1000 : null,
      batchBusyShare: wall > 0 ? batchSeconds / wall : null,
      cpu: {
        workerSeconds,
        workerCores: workerSeconds / wall,
        redisSeconds,
        redisForkSeconds,
        benchSeconds,
        machineBusyShare: machineShare,
        stealShare: stealShare(before.machine, after.machine),
        otherSeconds: machineSeconds === null ? null : Math.max(0, machineSeconds - workerSeconds - redisSeconds - redisForkSeconds - benchSeconds),
      },
      redisForks: Number(after.redis['total_forks'] ?? 0) - Number(before.redis['total_forks'] ?? 0),
      worker: { rssBytes: metricValue(after.metrics, 'process_resident_memory_bytes'), heapUsedBytes: metricValue(after.metrics, 'nodejs_heap_size_used_bytes') },
      samples,
    };
  } finally {
    await producer.disconnect();
  }
}

