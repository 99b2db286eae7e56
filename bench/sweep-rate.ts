/**
 * The sweep-rate benchmark (`npm run bench:sweep`): how many customers per second the real
 * scoring worker re-evaluates when the watermark passes their due time, with N customers
 * (default 1,000,000) in Redis. See docs/benchmarks.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DAY_MS } from '@tierstream/domain';
import { createKafka, createLogger, createRedis, CustomerStore, loadPolicyFile, topicNames, type Redis } from '@tierstream/runtime';
import { resolveEndpoints } from '@tierstream/cli/dist/endpoints';
import { summariseBatchLog, type BatchLogSummary } from './lib/batch-log';
import { summariseProfile, type ProfileSummary } from './lib/cpu-profile';
import { optionsOrExitCode, runMain } from './lib/cli';
import { machineInfo, redisInfo } from './lib/machine';
import { benchNamespace, provisionNamespace, removeNamespace, type Removal } from './lib/namespace';
import { parseOptions, USAGE, type SweepBenchOptions } from './lib/options';
import { fixed, int, mib, pct, writeResult } from './lib/results';
import { customerId, seedCustomers, type SeedResult } from './lib/seed';
import { countLogProblems } from './lib/log-problems';
import { DUE_DAY, measureSweep, type SweepMeasurement } from './lib/sweep';
import { buildTemplates, policyWithoutWallClockTick } from './lib/templates';
import { freePort, ScoringProcess, waitForAssignment } from './lib/worker';

const seconds = (fromMs: number): number => (performance.now() - fromMs) / 1000;
const log = (line: string): void => console.log(line);

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
  const o = optionsOrExitCode(parseOptions, USAGE, process.argv.slice(2));
  if (typeof o === 'number') return o;
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
    sweep = await measureSweep(o, log, { endpoints, redis, admin, workers, namespace, partitions, watermark, signal: aborter.signal });
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

runMain(main);
