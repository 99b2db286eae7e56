/**
 * The benchmark (`npm run bench`): a generated dataset through raw kafkajs and through each
 * worker as a process (ingest alone, scoring alone, the whole pipeline), latency at fixed
 * offered loads, and the sweep. docs/benchmarks.md#npm-run-bench says what each figure is.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import type { CustomerEventRecord, TierChanged } from '@tierstream/domain';
import { AvroCodec, createKafka, createLogger, createRedis, createSchemaRegistry, loadPolicyFile, SchemaFiles, topicNames, type Endpoints, type Logger, type Redis } from '@tierstream/runtime';
import { resolveEndpoints } from '@tierstream/cli/dist/endpoints';
import { DEFAULT_KAFKA_VERSION, REPO_ROOT } from '@tierstream/cli/dist/stack/settings';
import { BENCH_USAGE, parseBenchOptions, phasesToRun, resultFileNames, type BenchOptions } from './lib/bench-options';
import { benchDataset, type BenchDataset } from './lib/dataset';
import { consumeRaw, keyBytes, produceRaw, rawKafka, rejoins, rejoinsInLog, UpDrops, waitForGroup, type Rejoins, type ConsumeResult, type DrainResult, type KeyBytes, type ProduceResult } from './lib/drain';
import { LatencyProbe, type LatencyRun } from './lib/latency';
import { optionsOrExitCode, runMain } from './lib/cli';
import { busyShare, machineCpu, machineInfo, redisInfo, stealShare, type CpuTimes } from './lib/machine';
import { provisionNamespace, removeNamespace, type Removal } from './lib/namespace';
import { summariseProfile, type ProfileSummary } from './lib/cpu-profile';
import { fixed, int, mib, pct, writeResultFiles } from './lib/results';
import { seedCustomers } from './lib/seed';
import { drainRate, type DrainRate } from './lib/stats';
import { countLogProblems } from './lib/log-problems';
import { DUE_DAY, measureSweep, type SweepMeasurement } from './lib/sweep';
import { buildTemplates, policyWithoutWallClockTick } from './lib/templates';
import { freePort, metricValue, ScoringProcess, waitForAssignment } from './lib/worker';

type WorkerName = 'ingest' | 'scoring' | 'notifier';

const begun = performance.now();
const log = (line: string): void => console.log(`[${((performance.now() - begun) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const usedMemory = async (redis: Redis): Promise<number> => Number((await redisInfo(redis))['used_memory'] ?? 0);
const groupOf = (ns: string, worker: WorkerName): string => `${ns}tierstream-${worker}`;

/** A namespace of this run: `bench-<run>-<role>.` (removed at the end, whatever happens). */
const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const namespaceFor = (role: string): string => `bench-${runId}-${role}.`;

/** The machine's CPU over a phase: how busy all cores were, how much the hypervisor took, the load average at its end. */
interface PhaseCpu {
  readonly machineBusyShare: number | null;
  readonly stealShare: number | null;
  readonly loadAverage: number[];
}

const cpuSince = (from: CpuTimes | undefined): PhaseCpu => {
  const now = machineCpu();
  return { machineBusyShare: busyShare(from, now), stealShare: stealShare(from, now), loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100) };
};

interface Ctx {
  readonly o: BenchOptions;
  readonly endpoints: Endpoints;
  readonly logger: Logger;
  readonly redis: Redis;
  readonly admin: Admin;
  readonly raw: Kafka;
  readonly dir: string;
  readonly policyFile: string;
  readonly workers: ScoringProcess[];
  /** Workers started with --cpu-prof: their profiles are summarised once they have exited. */
  readonly profiled: ScoringProcess[];
  readonly namespaces: string[];
}

async function startWorker(ctx: Ctx, worker: WorkerName, ns: string, extra: Record<string, string> = {}): Promise<ScoringProcess> {
  const httpPort = await freePort();
  const env: Record<string, string> = {
    KAFKA_BROKERS: ctx.endpoints.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: ctx.endpoints.schemaRegistryUrl,
    REDIS_URL: ctx.endpoints.redisUrl,
    TIERSTREAM_NAMESPACE: ns,
    HTTP_PORT: String(httpPort),
    // info: the notifier's log subscriber writes at info; the workers log nothing per record at info.
    LOG_LEVEL: 'info',
    SCORING_POLICY_FILE: ctx.policyFile,
    ...extra,
    ...ctx.o.workerEnv,
  };
  const main = path.join(ctx.o.workerRoot, 'services', worker, 'dist', 'main.js');
  if (!fs.existsSync(main)) throw new Error(`${main} does not exist: build that checkout first (bash infra/local/bootstrap.sh)`);
  const name = `${ns.replace(/\.$/, '').split('-').pop() ?? 'x'}-${worker}`;
  const w = new ScoringProcess(main, env, httpPort, ctx.dir, ctx.o.cpuProfile, name);
  if (w.profileDir) ctx.profiled.push(w);
  ctx.workers.push(w);
  w.start();
  return w;
}

/** Each profiled worker's profile (written when it exited), printed and kept in the result. */
function summariseProfiles(workers: readonly ScoringProcess[]): Record<string, ProfileSummary> {
  const out: Record<string, ProfileSummary> = {};
  for (const w of workers) {
    if (!w.profileDir) continue;
    const summary = summariseProfile(w.profileDir);
    if (!summary) continue;
    out[w.name] = summary;
    log(`\n${w.name}: cpu profile, ${fixed(summary.busySeconds)} s busy, ${fixed(summary.idleSeconds)} s idle (${summary.file})`);
    for (const [title, entries] of [['by area', summary.byArea], ['self', summary.topSelf], ['inclusive', summary.topInclusive]] as const) {
      log(`  ${title}:`);
      for (const e of entries.slice(0, 12)) log(`    ${pct(e.share).padStart(4)}  ${e.name}`);
    }
  }
  return out;
}

async function stopWorker(ctx: Ctx, w: ScoringProcess): Promise<void> {
  await w.stop();
  ctx.workers.splice(ctx.workers.indexOf(w), 1);
}

/** A drain that stalled means a broken worker, not a slow one: the run fails (and CI with it). */
function failIfStalled(what: string, drain: { readonly stoppedBecause: string | null }, workers: readonly ScoringProcess[]): void {
  if (!drain.stoppedBecause?.startsWith('stalled')) return;
  throw new Error(`${what} ${drain.stoppedBecause}\n${workers.map((w) => `${w.name}:\n${w.logTail(5)}`).join('\n')}`);
}

async function provision(ctx: Ctx, role: string): Promise<string> {
  const ns = namespaceFor(role);
  ctx.namespaces.push(ns);
  await provisionNamespace(ctx.endpoints, ctx.logger, ns, undefined);
  return ns;
}

/**
 * The ingest worker's count of canonical events it wrote, once it has stopped changing: the
 * counter moves after a transaction commits, so just after the offsets do.
 */
async function ingestWrote(w: ScoringProcess, ns: string): Promise<number> {
  const read = async (): Promise<number> => metricValue(await w.metrics(), 'tierstream_events_out_total', `topic="${topicNames(ns).events}"`);
  let last = await read();
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await read();
    if (now === last && i >= 3) return now;
    last = now;
  }
  return last;
}

interface IsolatedResult {
  namespace: string;
  produce: ProduceResult;
  ingest?: { drain: DrainResult; rate: DrainRate; cpu: PhaseCpu; canonicalRecords: number; rssPeakBytes: number | null; usedMemoryDelta: number; dedupeKeys: KeyBytes; dedupeBytesPerEvent: number; evictions: number };
  consume?: ConsumeResult;
  scoring?: {
    drain: DrainResult;
    rate: DrainRate;
    cpu: PhaseCpu;
    rejoins: Rejoins;
    memberIds: number;
    rssPeakBytes: number | null;
    rssMetricBytes: number;
    /** The worker's process_cpu_seconds_total at the end of the drain (its start-up included). */
    workerCpuSeconds: number;
    usedMemoryDelta: number;
    redisBytesPerCustomer: number;
    scoringKeyBytesPerCustomer: number;
    transitions: number;
    deadLetters: number;
  };
  latency?: (LatencyRun & { caughtUpBefore: boolean })[];
}

/** Raw produce, ingest alone, raw consume, scoring alone and the latency loads, in one namespace. */
async function isolatedPhases(ctx: Ctx, data: BenchDataset, run: ReadonlySet<string>): Promise<IsolatedResult> {
  const { o, admin, redis } = ctx;
  const ns = await provision(ctx, 'a');
  const topics = topicNames(ns);
  log(`  namespace ${ns}`);

  log(`  raw kafkajs producer: ${int(data.events)} upstream JSON records into ${topics.raw}`);
  const produce = await produceRaw(ctx.raw, topics.raw, data.raw);
  log(`    ${fixed(produce.seconds)} s, ${int(produce.perSecond)} records/s`);
  const result: IsolatedResult = { namespace: ns, produce };

  log('  ingest alone drains the raw topic');
  const memBeforeIngest = await usedMemory(redis);
  let started = performance.now();
  let cpuFrom = machineCpu();
  const ingest = await startWorker(ctx, 'ingest', ns);
  let peak = 0;
  const ingestDrain = await waitForGroup(admin, {
    groupId: groupOf(ns, 'ingest'),
    topic: topics.raw,
    transactional: false,
    total: data.events,
    startedMs: started,
    timeoutSeconds: o.phaseTimeoutSeconds,
    stallSeconds: o.stallSeconds,
    every: () => {
      ingest.assertRunning();
      peak = Math.max(peak, ingest.peakRssBytes() ?? 0);
    },
    log,
  });
  const ingestCpu = cpuSince(cpuFrom);
  failIfStalled('ingest alone:', ingestDrain, [ingest]);
  const canonicalRecords = (await ingestWrote(ingest, ns)) || data.events;
  peak = Math.max(peak, ingest.peakRssBytes() ?? 0);
  await stopWorker(ctx, ingest);
  const memAfterIngest = await usedMemory(redis);
  // Nothing but ingest has written under the namespace yet: all its keys are ingest's (dedupe and whatever it keeps beside).
  const dedupeKeys = await keyBytes(redis, `${ns}*`);
  result.ingest = {
    drain: ingestDrain,
    rate: drainRate(data.events, ingestDrain.seconds, ingestDrain.samples),
    cpu: ingestCpu,
    canonicalRecords,
    rssPeakBytes: peak || null,
    usedMemoryDelta: memAfterIngest - memBeforeIngest,
    dedupeKeys,
    dedupeBytesPerEvent: dedupeKeys.bytes / canonicalRecords,
    evictions: rejoinsInLog(fs.readFileSync(ingest.logFile, 'utf8'), groupOf(ns, 'ingest')).evictions,
  };
  log(`    ${ingestDrain.completed ? 'drained' : 'NOT drained'} in ${fixed(ingestDrain.seconds)} s from its start: ${int(result.ingest.rate.perSecond)} events/s (${result.ingest.rate.steadyPerSecond === null ? 'no steady rate' : `${int(result.ingest.rate.steadyPerSecond)}/s after 10%`}); ${int(canonicalRecords)} canonical events; machine ${pct(ingestCpu.machineBusyShare)} busy`);
  log(`    dedupe: ${int(dedupeKeys.keys)} keys, ${int(dedupeKeys.bytes)} B (MEMORY USAGE), ${fixed(result.ingest.dedupeBytesPerEvent)} B per event; used_memory +${mib(result.ingest.usedMemoryDelta)}`);

  log(`  raw kafkajs consumer reads ${topics.events}`);
  result.consume = await consumeRaw(ctx.raw, `${ns}bench-baseline`, topics.events, canonicalRecords, o.phaseTimeoutSeconds);
  log(`    ${int(result.consume.records)} records in ${fixed(result.consume.seconds, 2)} s from its join (${fixed(result.consume.joinSeconds)} s after subscribing; first batch ${fixed(result.consume.firstBatchSeconds, 2)} s after it): ${int(result.consume.perSecond)} records/s`);

  if (!run.has('scoring')) return result;
  log('  scoring alone drains the canonical events topic');
  const memBeforeScoring = await usedMemory(redis);
  started = performance.now();
  cpuFrom = machineCpu();
  const scoring = await startWorker(ctx, 'scoring', ns);
  peak = 0;
  const members = new Set<string>();
  const ups = new UpDrops();
  let polls = 0;
  const scoringDrain = await waitForGroup(admin, {
    groupId: groupOf(ns, 'scoring'),
    topic: topics.events,
    transactional: true,
    total: canonicalRecords,
    startedMs: started,
    timeoutSeconds: o.phaseTimeoutSeconds,
    stallSeconds: o.stallSeconds,
    every: () => {
      scoring.assertRunning();
      peak = Math.max(peak, scoring.peakRssBytes() ?? 0);
      // A member evicted and back has a new member id; a member re-joining shows consumer_up 0 meanwhile.
      if (polls++ % 3 === 0) {
        void admin.describeGroups([groupOf(ns, 'scoring')]).then(
          ({ groups }) => groups[0]?.members.forEach((m) => members.add(m.memberId)),
          () => undefined,
        );
        void scoring.metrics().then(
          (text) => ups.see(metricValue(text, 'tierstream_consumer_up', `group="${groupOf(ns, 'scoring')}"`)),
          () => undefined,
        );
      }
    },
    log,
  });
  const scoringCpu = cpuSince(cpuFrom);
  failIfStalled('scoring alone:', scoringDrain, [scoring]);
  peak = Math.max(peak, scoring.peakRssBytes() ?? 0);
  const metrics = await scoring.metrics();
  const memAfterScoring = await usedMemory(redis);
  const all = await keyBytes(redis, `${ns}*`);
  result.scoring = {
    drain: scoringDrain,
    rate: drainRate(canonicalRecords, scoringDrain.seconds, scoringDrain.samples),
    cpu: scoringCpu,
    rejoins: rejoins(rejoinsInLog(fs.readFileSync(scoring.logFile, 'utf8'), groupOf(ns, 'scoring')), members.size, ups.drops),
    memberIds: members.size,
    rssPeakBytes: peak || null,
    rssMetricBytes: metricValue(metrics, 'process_resident_memory_bytes'),
    workerCpuSeconds: metricValue(metrics, 'process_cpu_seconds_total'),
    usedMemoryDelta: memAfterScoring - memBeforeScoring,
    redisBytesPerCustomer: (memAfterScoring - memBeforeScoring) / data.customers,
    scoringKeyBytesPerCustomer: (all.bytes - dedupeKeys.bytes) / data.customers,
    transitions: metricValue(metrics, 'tierstream_events_out_total', `topic="${topics.tierChanged}"`),
    deadLetters: metricValue(metrics, 'tierstream_dead_letters_total'),
  };
  const s = result.scoring;
  log(`    ${scoringDrain.completed ? 'drained' : 'NOT drained'} in ${fixed(scoringDrain.seconds)} s from its start: ${int(s.rate.perSecond)} events/s (${s.rate.steadyPerSecond === null ? 'no steady rate' : `${int(s.rate.steadyPerSecond)}/s after 10%`}); ${int(s.transitions)} transitions`);
  log(`    machine ${pct(s.cpu.machineBusyShare)} busy (load ${s.cpu.loadAverage.join(' ')}); re-joins ${s.rejoins.rejoins} (${s.memberIds} member ids), peak RSS ${s.rssPeakBytes === null ? 'n/a' : mib(s.rssPeakBytes)}; Redis +${mib(s.usedMemoryDelta)}: ${int(s.redisBytesPerCustomer)} B per customer (keys: ${int(s.scoringKeyBytesPerCustomer)} B)`);

  if (run.has('latency')) {
    log(`  latency: ingest and scoring running, new customers' orders offered into ${topics.events}`);
    const ingestAgain = await startWorker(ctx, 'ingest', ns);
    await ingestAgain.waitReady();
    const registry = createSchemaRegistry(ctx.endpoints.schemaRegistryUrl);
    const eventCodec = new AvroCodec<CustomerEventRecord>(registry, topics.events, SchemaFiles.customerEvent);
    const changeCodec = new AvroCodec<TierChanged>(registry, topics.tierChanged, SchemaFiles.tierChanged);
    await Promise.all([eventCodec.init(), changeCodec.init()]);
    const probe = new LatencyProbe(ctx.raw, `${ns}bench-latency`, topics, eventCodec, changeCodec);
    await probe.start();
    result.latency = [];
    try {
      for (const rate of o.rates) {
        // Caught up first: the previous load's backlog would be measured again.
        const caughtUp = await waitForGroup(admin, { groupId: groupOf(ns, 'scoring'), topic: topics.events, transactional: true, total: 1, startedMs: performance.now(), timeoutSeconds: o.latencyDrainSeconds, every: () => scoring.assertRunning() });
        if (!caughtUp.completed) log(`    scoring still had a backlog after ${o.latencyDrainSeconds} s: the next load starts on top of it`);
        // At the dataset's last event time: the watermark stays where it is, so no sweep runs meanwhile.
        const measured = await probe.run(`l${rate}-`, rate, o.latencySeconds, o.latencyDrainSeconds, data.lastEventTime, log);
        result.latency.push({ ...measured, caughtUpBefore: caughtUp.completed });
      }
    } finally {
      await probe.stop();
      await stopWorker(ctx, ingestAgain);
    }
    scoring.assertRunning();
  }
  await stopWorker(ctx, scoring);
  return result;
}

interface PipelineResult {
  namespace: string;
  produce: ProduceResult;
  completed: boolean;
  seconds: number;
  perSecond: number;
  rate: DrainRate;
  cpu: PhaseCpu;
  transitions: number;
  notified: number;
}

/** Ingest, scoring and notifier (one log subscriber) together on the raw records, in a namespace of their own. */
async function pipelinePhase(ctx: Ctx, data: BenchDataset): Promise<PipelineResult> {
  const { admin, o } = ctx;
  const ns = await provision(ctx, 'p');
  const topics = topicNames(ns);
  const produce = await produceRaw(ctx.raw, topics.raw, data.raw);
  log(`  namespace ${ns}: ${int(data.events)} raw records written in ${fixed(produce.seconds)} s; starting ingest, scoring and notifier`);
  const started = performance.now();
  const cpuFrom = machineCpu();
  const workers = [
    await startWorker(ctx, 'ingest', ns),
    await startWorker(ctx, 'scoring', ns),
    await startWorker(ctx, 'notifier', ns, { NOTIFIER_SUBSCRIBERS: JSON.stringify({ subscribers: [{ id: 'bench-log', type: 'log' }] }) }),
  ];
  const every = (): void => workers.forEach((w) => w.assertRunning());
  const timeoutSeconds = o.phaseTimeoutSeconds;
  const stallSeconds = o.stallSeconds;
  const ingest = await waitForGroup(admin, { groupId: groupOf(ns, 'ingest'), topic: topics.raw, transactional: false, total: data.events, startedMs: started, timeoutSeconds, stallSeconds, every });
  const scoring = await waitForGroup(admin, { groupId: groupOf(ns, 'scoring'), topic: topics.events, transactional: true, total: data.events, startedMs: started, timeoutSeconds, stallSeconds, every, log });
  const notifier = await waitForGroup(admin, { groupId: groupOf(ns, 'notifier'), topic: topics.tierChanged, transactional: true, total: data.events, startedMs: started, timeoutSeconds, stallSeconds, every });
  for (const [what, d] of [['pipeline, ingest:', ingest], ['pipeline, scoring:', scoring], ['pipeline, notifier:', notifier]] as const) failIfStalled(what, d, workers);
  const seconds = notifier.seconds;
  const cpu = cpuSince(cpuFrom);
  const [ingestW, scoringW, notifierW] = workers as [ScoringProcess, ScoringProcess, ScoringProcess];
  const transitions = metricValue(await scoringW.metrics(), 'tierstream_events_out_total', `topic="${topics.tierChanged}"`);
  const notified = metricValue(await notifierW.metrics(), 'tierstream_events_in_total');
  for (const w of [ingestW, scoringW, notifierW]) await stopWorker(ctx, w);
  const completed = ingest.completed && scoring.completed && notifier.completed;
  const result = { namespace: ns, produce, completed, seconds, perSecond: data.events / seconds, rate: drainRate(data.events, scoring.seconds, scoring.samples), cpu, transitions, notified };
  log(`    ${completed ? 'drained' : 'NOT drained'} in ${fixed(seconds)} s: ${int(result.perSecond)} events/s through all three; ${int(transitions)} transitions, ${int(notified)} consumed by the notifier`);
  return result;
}

/** The sweep benchmark's measurement (bench/sweep-rate.ts) on `customers` seeded customers all due at once. */
async function sweepPhase(ctx: Ctx, customers: number): Promise<{ namespace: string; seedSeconds: number; measurement: SweepMeasurement }> {
  const ns = await provision(ctx, 's');
  const topic = topicNames(ns).events;
  const partitions = (await ctx.admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions.length ?? 12;
  const set = buildTemplates(loadPolicyFile(ctx.policyFile), Math.min(1000, customers), ctx.o.seed, DUE_DAY);
  // Seeded by hand through the commit script in today's record format (bench/lib/seed.ts), as bench:sweep does.
  const seed = await seedCustomers(ctx.redis, { namespace: ns, topic, partitions, customers, templates: set.templates, dueTime: set.dueTime, chunk: 5000 }, new AbortController().signal, (l) => log(`    ${l}`));
  log(`  namespace ${ns}: ${int(customers)} customers seeded in ${fixed(seed.seconds)} s, all due on ${new Date(DUE_DAY).toISOString().slice(0, 10)}`);
  const scoring = await startWorker(ctx, 'scoring', ns, { LOG_LEVEL: 'warn' });
  await scoring.waitReady();
  await waitForAssignment(ctx.admin, groupOf(ns, 'scoring'), [scoring]);
  const measurement = await measureSweep({ maxSweepSeconds: ctx.o.phaseTimeoutSeconds, stallSeconds: ctx.o.stallSeconds }, log, {
    endpoints: ctx.endpoints,
    redis: ctx.redis,
    admin: ctx.admin,
    workers: [scoring],
    namespace: ns,
    partitions,
    watermark: DUE_DAY,
    signal: new AbortController().signal,
  });
  failIfStalled('sweep:', measurement, [scoring]);
  await stopWorker(ctx, scoring);
  log(`    ${measurement.completed ? 'completed' : 'NOT completed'}: ${int(measurement.reevaluated)} re-evaluated in ${fixed(measurement.seconds)} s, ${int(measurement.customersPerSecond)} customers/s`);
  return { namespace: ns, seedSeconds: seed.seconds, measurement };
}

function gitCommit(dir: string): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

const TARGETS: Record<string, string> = {
  baseline_produce_eps: '',
  baseline_consume_eps: '',
  ingest_eps: '>= 40,000',
  scoring_eps: '>= 40,000',
  scoring_ratio: '',
  scoring_cpu_us_per_event: '<= 25',
  sweep_cps: '>= 40,000',
  pipeline_eps: '>= 15,000',
  p50_ms_at_2k: '',
  p99_ms_at_2k: '<= 250',
  p99_ms_at_5k: '<= 500',
  redis_bytes_per_customer: '<= 1,024',
  dedupe_bytes_per_event: '<= 32',
  worker_rss_mb: '<= 300',
  scoring_rejoins: '0',
};

function printTable(figures: Record<string, number | null>, notes: Record<string, string>): void {
  log('');
  log(`  ${'figure'.padEnd(26)} ${'value'.padStart(12)}  ${'target'.padEnd(11)} note`);
  for (const key of Object.keys(TARGETS)) {
    const v = figures[key];
    const text = v === null || v === undefined ? 'n/a' : Math.abs(v) >= 100 || Number.isInteger(v) ? int(v) : fixed(v, key === 'scoring_ratio' ? 4 : 1);
    log(`  ${key.padEnd(26)} ${text.padStart(12)}  ${(TARGETS[key] ?? '').padEnd(11)} ${notes[key] ?? ''}`);
  }
}

async function main(): Promise<number> {
  const o = optionsOrExitCode((argv) => parseBenchOptions(argv, REPO_ROOT), BENCH_USAGE, process.argv.slice(2));
  if (typeof o === 'number') return o;
  const startedAt = new Date();
  const run = phasesToRun(o.only);
  const logger = createLogger({ name: 'bench', level: 'warn' });
  const { endpoints, source } = await resolveEndpoints({ start: true, progress: (l) => log(`    ${l}`) });
  log(`stack: ${source === 'env' ? 'endpoints from the environment' : 'the local stack'} (${endpoints.kafkaBrokers.join(',')}, ${endpoints.schemaRegistryUrl}, ${endpoints.redisUrl}); workers from ${o.workerRoot}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  const redis = createRedis(endpoints.redisUrl, logger);
  const admin = createKafka({ clientId: 'bench-admin', brokers: endpoints.kafkaBrokers, logger }).admin();
  const ctx: Ctx = { o, endpoints, logger, redis, admin, raw: rawKafka(endpoints.kafkaBrokers, 'bench-raw'), dir, policyFile: policyWithoutWallClockTick(o.policyFile, dir), workers: [], profiled: [], namespaces: [] };
  process.on('exit', () => ctx.workers.forEach((w) => w.killNow()));
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      // Once: the workers go at once, the namespaces are removed, then the exit; twice: the exit now.
      if (interrupted) process.exit(130);
      interrupted = true;
      console.error(`${signal}: removing this run's namespaces (again to quit at once)`);
      ctx.workers.forEach((w) => w.killNow());
      void Promise.all(ctx.namespaces.map((ns) => removeNamespace(endpoints, redis, logger, ns))).finally(() => process.exit(130));
    });
  }

  let error: string | null = null;
  let data: BenchDataset | undefined;
  let isolated: IsolatedResult | undefined;
  let pipeline: PipelineResult | undefined;
  let sweep: Awaited<ReturnType<typeof sweepPhase>> | undefined;
  const removals: Removal[] = [];
  const redisVersion = (await redisInfo(redis))['redis_version'] ?? null;
  try {
    await admin.connect();
    if (run.has('baseline') || run.has('pipeline')) {
      log(`dataset: ${int(o.events)} events for ${int(o.customers)} customers over 180 days (seed ${o.seed})`);
      data = benchDataset(o.events, o.customers, o.seed);
      log(`  ${int(data.events)} events (${Object.entries(data.byType).map(([t, n]) => `${t.toLowerCase()} ${int(n)}`).join(', ')}), ${int(data.customers)} customers with events, built in ${fixed(data.seconds)} s`);
    }
    if (data && run.has('baseline')) {
      log('isolated phases');
      isolated = await isolatedPhases(ctx, data, run);
    }
    if (data && run.has('pipeline')) {
      log('pipeline: ingest + scoring + notifier (log subscriber)');
      pipeline = await pipelinePhase(ctx, data);
    }
    if (run.has('sweep')) {
      log(`sweep: ${int(o.sweepCustomers)} customers due at once`);
      sweep = await sweepPhase(ctx, o.sweepCustomers);
    }
  } catch (err) {
    error = (err as Error).stack ?? String(err);
    console.error(`failed: ${error}`);
  } finally {
    for (const w of [...ctx.workers]) await stopWorker(ctx, w).catch(() => undefined);
    for (const ns of ctx.namespaces) {
      const removal = await removeNamespace(endpoints, redis, logger, ns);
      removals.push(removal);
      log(`cleaned up ${ns}: ${int(removal.keys)} keys, ${removal.topics} topics, ${removal.subjects} subjects${removal.problems.length > 0 ? `; problems: ${removal.problems.join('; ')}` : ''}`);
    }
    await admin.disconnect().catch(() => undefined);
    redis.disconnect();
  }
  const cpuProfiles = summariseProfiles(ctx.profiled);

  const latencyAt = (rate: number): LatencyRun | undefined => isolated?.latency?.find((l) => l.offeredPerSecond === rate);
  const scoringEps = isolated?.scoring?.rate.perSecond ?? null;
  const consumeEps = isolated?.consume?.perSecond ?? null;
  const figures: Record<string, number | null> = {
    baseline_produce_eps: isolated?.produce.perSecond ?? null,
    baseline_consume_eps: consumeEps,
    ingest_eps: isolated?.ingest?.rate.perSecond ?? null,
    scoring_eps: scoringEps,
    scoring_steady_eps: isolated?.scoring?.rate.steadyPerSecond ?? null,
    scoring_ratio: scoringEps !== null && consumeEps ? scoringEps / consumeEps : null,
    // CPU per event is what a busy, shared machine changes least: 40,000 events/s on one thread is 25 µs each.
    scoring_cpu_us_per_event: isolated?.scoring && isolated.ingest?.canonicalRecords ? (isolated.scoring.workerCpuSeconds * 1e6) / isolated.ingest.canonicalRecords : null,
    sweep_cps: sweep?.measurement.customersPerSecond ?? null,
    pipeline_eps: pipeline?.perSecond ?? null,
    p50_ms_at_2k: latencyAt(2000)?.latency.p50Ms ?? null,
    p99_ms_at_2k: latencyAt(2000)?.latency.p99Ms ?? null,
    p99_ms_at_5k: latencyAt(5000)?.latency.p99Ms ?? null,
    redis_bytes_per_customer: isolated?.scoring?.redisBytesPerCustomer ?? null,
    dedupe_bytes_per_event: isolated?.ingest?.dedupeBytesPerEvent ?? null,
    worker_rss_mb: isolated?.scoring?.rssPeakBytes ? isolated.scoring.rssPeakBytes / 2 ** 20 : null,
    scoring_rejoins: isolated?.scoring?.rejoins.rejoins ?? null,
    events: data?.events ?? null,
    customers: data?.customers ?? null,
  };
  const notes: Record<string, string> = {};
  const notDrained = (d: DrainResult): string => `NOT drained: ${d.stoppedBecause ?? '?'}`;
  if (isolated?.ingest && !isolated.ingest.drain.completed) notes['ingest_eps'] = notDrained(isolated.ingest.drain);
  if (isolated?.scoring) {
    notes['scoring_eps'] = isolated.scoring.drain.completed ? `${int(isolated.scoring.rate.steadyPerSecond ?? 0)}/s after the first 10%` : notDrained(isolated.scoring.drain);
    notes['scoring_rejoins'] = `${isolated.scoring.memberIds} member ids seen`;
  }
  for (const [key, rate] of [['p99_ms_at_2k', 2000], ['p99_ms_at_5k', 5000]] as const) {
    const l = latencyAt(rate);
    if (l) notes[key] = l.keptUp ? `${int(l.seen)} events` : `did NOT keep up: ${int(l.sentPerSecond)}/s sent, ${int(l.seenPerSecond)}/s seen${l.missing > 0 ? `, ${int(l.missing)} of ${int(l.sent)} not seen in ${o.latencyDrainSeconds} s (a lower bound)` : ''}`;
  }
  if (pipeline && !pipeline.completed) notes['pipeline_eps'] = 'NOT drained (phase timeout or stalled: see the JSON)';
  if (sweep && !sweep.measurement.completed) notes['sweep_cps'] = `NOT completed: ${sweep.measurement.stoppedBecause ?? '?'}`;
  printTable(figures, notes);

  const m = machineInfo();
  const kafkajsVersion = (JSON.parse(fs.readFileSync(require.resolve('kafkajs/package.json'), 'utf8')) as { version: string }).version;
  const workerLogs = countLogProblems(fs.readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => path.join(dir, f)));
  const result = {
    benchmark: 'bench',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    error,
    ...figures,
    machine: m,
    versions: { node: process.version, kafka: source === 'local-stack' ? (process.env['KAFKA_VERSION'] ?? DEFAULT_KAFKA_VERSION) : null, redis: redisVersion, kafkajs: kafkajsVersion },
    git: { commit: m.git.commit, workerRoot: o.workerRoot === REPO_ROOT ? '.' : o.workerRoot, workerCommit: gitCommit(o.workerRoot) },
    stack: { source, kafkaBrokers: endpoints.kafkaBrokers },
    parameters: {
      events: o.events,
      customers: o.customers,
      seed: o.seed,
      quick: o.quick,
      phases: [...run],
      rates: o.rates,
      latencySeconds: o.latencySeconds,
      latencyDrainSeconds: o.latencyDrainSeconds,
      sweepCustomers: o.sweepCustomers,
      phaseTimeoutSeconds: o.phaseTimeoutSeconds,
      workerEnv: o.workerEnv,
      policy: `${path.relative(REPO_ROOT, o.policyFile)} (wall_clock_tick: off)`,
    },
    notes,
    dataset: data ? { events: data.events, customers: data.customers, byType: data.byType, lastEventTime: new Date(data.lastEventTime).toISOString(), seconds: data.seconds } : null,
    isolated: isolated ?? null,
    pipeline: pipeline ?? null,
    sweep: sweep ? { ...sweep, measurement: { ...sweep.measurement, samples: undefined } } : null,
    workerLogs,
    cpuProfiles,
    cleanup: removals,
  };
  const names = resultFileNames(o.name, startedAt, o.quick);
  // A failed run keeps its file for a look (not a quick one), but never replaces the latest figures.
  const written = error ? names.filter((n) => !n.endsWith('latest.json')) : names;
  const file = written.length > 0 ? writeResultFiles(o.resultsDir, written, result) : undefined;
  log(`\nresult: ${file ? written.map((n) => path.relative(process.cwd(), path.join(o.resultsDir, n))).join(', ') : 'not written (a failed quick run)'}`);
  if (error || o.keepLogs) log(`worker logs kept in ${dir}`);
  else fs.rmSync(dir, { recursive: true, force: true });
  return error ? 1 : 0;
}

runMain(main);
