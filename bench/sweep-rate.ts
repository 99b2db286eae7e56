/**
 * The sweep-rate benchmark (`npm run bench:sweep`): how many customers per second the real
 * scoring worker re-evaluates when the watermark passes their due time, with N customers
 * (default 1,000,000) in Redis. See docs/benchmarks.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Partitioners, type Admin, type Producer } from 'kafkajs';
import { DAY_MS, type CustomerEventRecord } from '@tierstream/domain';
import {
  AvroCodec,
  createKafka,
  createLogger,
  createRedis,
  createSchemaRegistry,
  CustomerStore,
  loadPolicyFile,
  RedisKeys,
  SchemaFiles,
  topicNames,
  type Endpoints,
  type Redis,
} from '@tierstream/runtime';
import { resolveEndpoints } from '@tierstream/cli/dist/endpoints';
import { clockTick } from '@tierstream/scoring/dist/scoring-worker';
import { summariseBatchLog, type BatchLogSummary } from './lib/batch-log';
import { summariseProfile, type ProfileSummary } from './lib/cpu-profile';
import { busyShare, machineCpu, machineInfo, redisCpuSeconds, redisInfo, stealShare } from './lib/machine';
import { benchNamespace, provisionNamespace, removeNamespace, type Removal } from './lib/namespace';
import { parseOptions, USAGE, type SweepBenchOptions } from './lib/options';
import { fixed, int, mib, pct, writeResult } from './lib/results';
import { customerId, seedCustomers, type SeedResult } from './lib/seed';
import { buildTemplates, policyWithoutWallClockTick } from './lib/templates';
import { freePort, metricValue, ScoringProcess, waitForAssignment } from './lib/worker';

/** The day every seeded customer is next due (any day works: event time only). */
const DUE_DAY = Date.UTC(2026, 0, 1);
const POLL_MS = 500;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const seconds = (fromMs: number): number => (performance.now() - fromMs) / 1000;
const log = (line: string): void => console.log(line);

interface SweepMeasurement {
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

async function dueCount(redis: Redis, keys: RedisKeys, topic: string, partitions: number, watermark: number): Promise<number> {
  const pipeline = redis.pipeline();
  for (let p = 0; p < partitions; p++) pipeline.zcount(keys.dueIndex(topic, p), '-inf', watermark);
  let total = 0;
  for (const [err, n] of (await pipeline.exec()) ?? []) {
    if (err) throw err;
    total += Number(n);
  }
  return total;
}

async function groupLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const at = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Math.max(0, Number(p.offset))]));
  return ends.reduce((sum, e) => sum + Math.max(0, Number(e.high) - (at.get(e.partition) ?? 0)), 0);
}

/** Moves every partition's watermark to `time` with one clock tick each, as the worker's own ticks are written. */
async function writeTicks(producer: Producer, codec: AvroCodec<CustomerEventRecord>, topic: string, partitions: number, time: number): Promise<void> {
  const messages = await Promise.all(Array.from({ length: partitions }, async (_, partition) => ({ partition, key: null, value: await codec.encode(clockTick(partition, time)) })));
  await producer.send({ topic, acks: -1, messages });
}

/** Ticks, then polls the due index until nobody is due at or before the watermark (or time is up). */
async function measureSweep(
  o: SweepBenchOptions,
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

/** Loads a spread of customers through the worker's own store: each should now be at the watermark. */
async function verify(redis: Redis, namespace: string, customers: number, watermark: number): Promise<{ checked: number; atWatermark: number; unreadable: number }> {
  const store = new CustomerStore(redis, namespace);
  const step = Math.max(1, Math.floor(customers / 1000));
  const ids: string[] = [];
  for (let i = 0; i < customers; i += step) ids.push(customerId(i, customers));
  const loaded = await store.load(ids);
  return {
    checked: loaded.length,
    atWatermark: loaded.filter((l) => l.record?.state.aggregates.now === watermark).length,
    unreadable: loaded.filter((l) => !l.record).length,
  };
}

function countLogProblems(files: readonly string[]): { warnings: number; errors: number; firstWarning: string | null; firstError: string | null } {
  let warnings = 0;
  let errors = 0;
  let firstWarning: string | null = null;
  let firstError: string | null = null;
  const text = files.map((f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '')).join('\n');
  for (const line of text.split('\n')) {
    const level = /"level":(\d+)/.exec(line)?.[1];
    if (level === '40') {
      warnings++;
      firstWarning ??= line.slice(0, 500);
    }
    if (level !== undefined && Number(level) >= 50) {
      errors++;
      firstError ??= line.slice(0, 500);
    }
  }
  return { warnings, errors, firstWarning, firstError };
}

function printSummary(r: {
  o: SweepBenchOptions;
  partitions: number;
  seed: SeedResult | undefined;
  usedMemory: { beforeSeed: number; afterSeed: number; afterSweep: number | null };
  sweep: SweepMeasurement | undefined;
  batchLog: BatchLogSummary | undefined;
  profile: ProfileSummary | undefined;
  logProblems: ReturnType<typeof countLogProblems> | undefined;
}): void {
  const m = machineInfo();
  log('');
  log('sweep rate');
  log(`  machine          ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}; Kafka, registry and Redis on the same machine`);
  log(`  customers        ${int(r.o.customers)} in ${r.partitions} partitions; ${r.o.replicas} worker${r.o.replicas > 1 ? 's' : ''}, sweep limit ${r.o.sweepLimit}; watermark ${r.o.catchUpDays === 0 ? 'at their due day (one evaluation each)' : `${r.o.catchUpDays} days after their due day`}`);
  if (r.seed) {
    const footprint = r.usedMemory.afterSeed - r.usedMemory.beforeSeed;
    log(`  seeding          ${fixed(r.seed.seconds)} s, ${int(r.seed.customersPerSecond)} customers/s; records ${int(r.seed.recordBytes.mean)} B on average`);
    log(`  redis memory     +${mib(footprint)} for the customers (${int(footprint / r.seed.customers)} B each); used_memory ${mib(r.usedMemory.afterSeed)}${r.usedMemory.afterSweep === null ? '' : `, after the sweep ${mib(r.usedMemory.afterSweep)}`}`);
  }
  const s = r.sweep;
  if (s) {
    log(`  sweep            ${s.completed ? 'completed' : `NOT completed (${s.stoppedBecause ?? '?'})`}: ${int(s.reevaluated)} of ${int(s.dueAtStart)} re-evaluated in ${fixed(s.seconds)} s${s.drainedSeconds === null ? '' : ` (last transaction committed at ${fixed(s.drainedSeconds)} s)`}`);
    log(`  rate             ${int(s.customersPerSecond)} customers/s overall; ${s.steadyState ? `${int(s.steadyState.customersPerSecond)}/s after the first 10%` : 'no steady state measured'}`);
    log(`  transitions      ${int(s.transitions)} (${fixed(s.transitions / Math.max(1, s.reevaluated), 3)} per customer)`);
    log(`  batches          ${int(s.batches)}, ${s.meanBatchMs === null ? 'n/a' : `${fixed(s.meanBatchMs, 0)} ms`} each on average; batch time / wall time ${pct(s.batchBusyShare)}`);
    log(`  cpu              worker ${fixed(s.cpu.workerSeconds)} s (${fixed(s.cpu.workerCores, 2)} cores), redis ${fixed(s.cpu.redisSeconds)} s (+${fixed(s.cpu.redisForkSeconds)} s in ${s.redisForks} forks), benchmark ${fixed(s.cpu.benchSeconds)} s, the rest ${s.cpu.otherSeconds === null ? 'n/a' : `${fixed(s.cpu.otherSeconds)} s`}; machine ${pct(s.cpu.machineBusyShare)} busy, ${pct(s.cpu.stealShare)} stolen`);
  }
  if (r.logProblems && r.logProblems.errors > 0) {
    const first = r.logProblems.firstError ?? '';
    log(`  worker log       ${r.logProblems.errors} errors, ${r.logProblems.warnings} warnings; first error: ${/"msg":"([^"]*)"/.exec(first)?.[1] ?? first.slice(0, 200)}`);
  }
  if (r.batchLog) {
    const b = r.batchLog;
    log(`  batch log        ${int(b.sweepBatches)} sweep batches, ${fixed(b.sweptPerBatch, 0)} customers each; a batch every ${fixed(b.cycleMs.mean, 0)} ms (p50 ${b.cycleMs.p50}, p90 ${b.cycleMs.p90}, p99 ${b.cycleMs.p99}, max ${b.cycleMs.max})`);
  }
  if (r.profile) {
    log(`  worker cpu profile (${fixed(r.profile.busySeconds)} s busy, ${fixed(r.profile.idleSeconds)} s idle; ${r.profile.file})`);
    for (const e of r.profile.byArea.slice(0, 10)) log(`    ${pct(e.share).padStart(4)}  ${e.name}`);
    log('    hottest functions (self time):');
    for (const e of r.profile.topSelf.slice(0, 12)) log(`    ${pct(e.share).padStart(4)}  ${e.name}`);
    log('    tierstream functions (inclusive time):');
    for (const e of r.profile.topInclusive.slice(0, 12)) log(`    ${pct(e.share).padStart(4)}  ${e.name}`);
  }
}

async function main(): Promise<number> {
  let o: SweepBenchOptions | undefined;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (!o) {
    log(USAGE);
    return 0;
  }
  const startedAt = new Date();
  const aborter = new AbortController();
  const workers: ScoringProcess[] = [];
  const onSignal = (signal: string): void => {
    if (aborter.signal.aborted) {
      for (const w of workers) w.killNow();
      process.exit(130);
    }
    console.error(`${signal}: stopping and cleaning up (again to quit at once)`);
    aborter.abort();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('exit', () => workers.forEach((w) => w.killNow()));

  const logger = createLogger({ name: 'bench-sweep', level: 'warn' });
  log('1/6 stack');
  const { endpoints, source } = await resolveEndpoints({ start: true, progress: (l) => log(`    ${l}`) });
  log(`    ${source === 'env' ? 'endpoints from the environment' : 'the local stack'}: ${endpoints.kafkaBrokers.join(',')}, ${endpoints.schemaRegistryUrl}, ${endpoints.redisUrl}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-sweep-'));
  const namespace = benchNamespace();
  const redis = createRedis(endpoints.redisUrl, logger);
  const watermark = DUE_DAY + o.catchUpDays * DAY_MS;
  let partitions = o.partitions ?? 0;
  let templateInfo: { count: number; dropped: number; seconds: number; meanEvents: number } | undefined;
  let seed: SeedResult | undefined;
  let sweep: SweepMeasurement | undefined;
  let verification: Awaited<ReturnType<typeof verify>> | undefined;
  let removal: Removal | undefined;
  let batchLog: BatchLogSummary | undefined;
  let profile: ProfileSummary | undefined;
  let logProblems: ReturnType<typeof countLogProblems> | undefined;
  let error: string | undefined;
  const usedMemory: { beforeSeed: number; afterSeed: number; afterSweep: number | null } = { beforeSeed: 0, afterSeed: 0, afterSweep: null };
  let redisVersion = '';
  const kafka = createKafka({ clientId: 'bench-sweep-admin', brokers: endpoints.kafkaBrokers, logger });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const policyFile = policyWithoutWallClockTick(o.policyFile, dir);
    const policy = loadPolicyFile(policyFile);

    log(`2/6 topics and schemas under the namespace ${namespace}`);
    partitions = await provisionNamespace(endpoints, logger, namespace, o.partitions);
    log(`    ${topicNames(namespace).events}: ${partitions} partitions`);

    log(`3/6 ${o.templates} synthetic customer histories (a year of events each), all due on ${new Date(DUE_DAY).toISOString().slice(0, 10)}`);
    const t0 = performance.now();
    const set = buildTemplates(policy, o.templates, o.seed, DUE_DAY);
    templateInfo = { count: set.templates.length, dropped: set.dropped, seconds: seconds(t0), meanEvents: set.templates.reduce((a, t) => a + t.events, 0) / set.templates.length };
    log(`    ${set.templates.length} histories (${set.dropped} dropped: nothing due without new events), ${fixed(templateInfo.meanEvents)} events each on average, in ${fixed(templateInfo.seconds)} s`);

    log(`4/6 seeding ${int(o.customers)} customers in Redis, ${int(o.chunk)} per pipeline`);
    const info = await redisInfo(redis);
    redisVersion = info['redis_version'] ?? '';
    usedMemory.beforeSeed = Number(info['used_memory'] ?? 0);
    seed = await seedCustomers(redis, { namespace, topic: topicNames(namespace).events, partitions, customers: o.customers, templates: set.templates, dueTime: set.dueTime, chunk: o.chunk }, aborter.signal, (l) => log(`    ${l}`));
    usedMemory.afterSeed = Number((await redisInfo(redis))['used_memory'] ?? 0);
    log(`    ${fixed(seed.seconds)} s, ${int(seed.customersPerSecond)} customers/s; Redis used_memory +${mib(usedMemory.afterSeed - usedMemory.beforeSeed)}`);

    log(`5/6 the scoring worker (node ${path.relative(process.cwd(), o.scoringMain)})${o.replicas > 1 ? `, ${o.replicas} replicas` : ''}${Object.keys(o.workerEnv).length > 0 ? ` with ${Object.entries(o.workerEnv).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`);
    for (let i = 0; i < o.replicas; i++) {
      const httpPort = await freePort();
      const env = {
        KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
        REDIS_URL: endpoints.redisUrl,
        TIERSTREAM_NAMESPACE: namespace,
        HTTP_PORT: String(httpPort),
        LOG_LEVEL: o.workerLogLevel,
        // Builds before fef4d9d took the transactional id from it (one per replica); later ones ignore it.
        SCORING_INSTANCE: `bench-${i}`,
        SCORING_POLICY_FILE: policyFile,
        SCORING_SWEEP_LIMIT: String(o.sweepLimit),
        ...o.workerEnv,
      };
      // A profile of the first replica is enough: they all run the same code.
      const worker = new ScoringProcess(o.scoringMain, env, httpPort, dir, o.cpuProfile && i === 0, `scoring-${i}`);
      workers.push(worker);
      worker.start();
    }
    for (const w of workers) await w.waitReady();
    await waitForAssignment(admin, `${namespace}tierstream-scoring`, workers);
    log(`    ready on :${workers.map((w) => w.httpPort).join(', :')}, partitions assigned (logs in ${dir})`);

    log(`6/6 one clock tick at ${new Date(watermark).toISOString()} into each partition; timing the sweep (at most ${o.maxSweepSeconds} s)`);
    sweep = await measureSweep(o, { endpoints, redis, admin, workers, namespace, partitions, watermark, signal: aborter.signal });
    usedMemory.afterSweep = Number((await redisInfo(redis))['used_memory'] ?? 0);
    verification = await verify(redis, namespace, o.customers, watermark);
    if (sweep.stoppedBecause?.startsWith('stalled')) error = sweep.stoppedBecause;
    if (aborter.signal.aborted) error = 'interrupted';
  } catch (err) {
    error = (err as Error).stack ?? String(err);
    console.error(`failed: ${error}`);
  } finally {
    if (workers.length > 0) {
      await Promise.all(workers.map((w) => w.stop()));
      logProblems = countLogProblems(workers.map((w) => w.logFile));
      if (o.workerLogLevel === 'debug' || o.workerLogLevel === 'trace') batchLog = summariseBatchLog(workers.map((w) => w.logFile));
      const profileDir = workers[0]?.profileDir;
      if (profileDir) profile = summariseProfile(profileDir);
    }
    log(`cleaning up the namespace ${namespace}`);
    removal = await removeNamespace(endpoints, redis, logger, namespace);
    log(`    removed ${int(removal.keys)} Redis keys, ${removal.topics} topics, ${removal.subjects} schema subjects${removal.problems.length > 0 ? `; problems: ${removal.problems.join('; ')}` : ''}`);
    await admin.disconnect().catch(() => undefined);
    redis.disconnect();
  }

  printSummary({ o, partitions, seed, usedMemory, sweep, batchLog, profile, logProblems });
  const m = machineInfo();
  const result = {
    benchmark: 'sweep-rate',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    completed: sweep?.completed ?? false,
    error: error ?? null,
    machine: m,
    stack: { source, kafkaBrokers: endpoints.kafkaBrokers, redisVersion, kafkaVersion: source === 'local-stack' ? (process.env['KAFKA_VERSION'] ?? '4.4.0') : null },
    parameters: {
      customers: o.customers,
      partitions,
      sweepLimit: o.sweepLimit,
      replicas: o.replicas,
      workerEnv: o.workerEnv,
      scoringMain: path.relative(process.cwd(), o.scoringMain),
      catchUpDays: o.catchUpDays,
      dueTime: new Date(DUE_DAY).toISOString(),
      watermark: new Date(watermark).toISOString(),
      templates: o.templates,
      seed: o.seed,
      chunk: o.chunk,
      maxSweepSeconds: o.maxSweepSeconds,
      stallSeconds: o.stallSeconds,
      workerLogLevel: o.workerLogLevel,
      cpuProfile: o.cpuProfile,
      policy: path.relative(process.cwd(), o.policyFile) + ' (wall_clock_tick: off)',
      namespace,
    },
    templates: templateInfo ?? null,
    seeding: seed
      ? {
          seconds: seed.seconds,
          customersPerSecond: seed.customersPerSecond,
          recordBytes: seed.recordBytes,
          customersPerPartition: seed.perPartition,
          redisUsedMemoryBefore: usedMemory.beforeSeed,
          redisUsedMemoryAfter: usedMemory.afterSeed,
          redisBytesPerCustomer: (usedMemory.afterSeed - usedMemory.beforeSeed) / seed.customers,
        }
      : null,
    sweep: sweep ? { ...sweep, redisUsedMemoryAfter: usedMemory.afterSweep } : null,
    verification: verification ?? null,
    workerLog: logProblems ?? null,
    batchLog: batchLog ?? null,
    cpuProfile: profile ?? null,
    cleanup: removal ?? null,
  };
  const file = writeResult(o.resultsDir, startedAt, result);
  log(`  result           ${path.relative(process.cwd(), file)} (and sweep-rate-latest.json)`);
  if (error) log(`  worker logs kept in ${dir}`);
  else if (profile || o.keepLogs) log(`  worker logs${profile ? ' and cpu profile' : ''} kept in ${dir}`);
  else fs.rmSync(dir, { recursive: true, force: true });
  return error ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
