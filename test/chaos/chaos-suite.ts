import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { createKafka, createLogger, createSchemaRegistry, type SchemaRegistry } from '@tierstream/runtime';
import { matchesFilter } from '../../services/notifier/src/filter';
import { REPO_ROOT } from '../../services/cli/src/stack/settings';
import { ChaosStack } from './chaos-stack';
import { collectOutcome } from './collect';
import { chaosDataset, type Dataset } from './dataset';
import { FaultInjector, type FaultRecord } from './faults';
import { checkInvariants, type RunOutcome, type Verdict } from './invariants';
import { PipelineRun, sleep, SUBSCRIBERS } from './pipeline-run';
import { faultSchedule, describeFault, type Fault } from './schedule';
import type { ExitRecord } from './supervisor';

export interface ChaosOptions {
  readonly events: number;
  readonly seed: number;
  readonly outageMs: number;
  readonly registryStopMs: number;
  readonly killsPerWorker: number;
  /** The issue's durations and every stop on its own (see ScheduleOptions.compact). */
  readonly full: boolean;
  readonly partitions: number;
  /** false: the second run is fault-free too (both runs must then be equal). */
  readonly faults: boolean;
  /** Where the figures go as JSON (chaos-<timestamp>.json and chaos-latest.json); none when undefined. */
  readonly resultsDir: string | undefined;
}

/** CI size unless the environment (set by test/chaos/run-chaos.js from its flags) says otherwise. */
export function chaosOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ChaosOptions {
  const int = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: must be a whole number, got '${raw}'`);
    return n;
  };
  // CI size: with the compact schedule it fits .ci/run's budget (about 8 minutes on a 2-core machine, see docs/chaos.md).
  const events = int('CHAOS_EVENTS', 20_000);
  // The issue's durations on demand (--full, or any run of 200k events and more); shorter ones at CI size.
  const full = env['CHAOS_FULL'] === '1' || events >= 200_000;
  return {
    events,
    seed: int('CHAOS_SEED', 9),
    outageMs: int('CHAOS_OUTAGE_S', full ? 60 : 15) * 1000,
    registryStopMs: int('CHAOS_REGISTRY_STOP_S', full ? 30 : 5) * 1000,
    killsPerWorker: int('CHAOS_KILLS_PER_WORKER', full ? 2 : 1),
    full,
    partitions: int('CHAOS_PARTITIONS', 10),
    faults: env['CHAOS_FAULTS'] !== 'off',
    resultsDir: env['CHAOS_RESULTS'] === 'off' ? undefined : path.join(REPO_ROOT, 'bench', 'results'),
  };
}

export interface RunSummary {
  readonly label: string;
  readonly namespace: string;
  readonly wallMs: number;
  readonly feedMs: number;
  readonly drainMs: number;
  readonly feed: unknown;
  readonly exits: readonly ExitRecord[];
  readonly finalExits: readonly ExitRecord[];
}

export interface ChaosResult {
  readonly options: ChaosOptions;
  readonly schedule: readonly Fault[];
  readonly dataset: { readonly customers: number; readonly events: number; readonly records: number };
  readonly reference: RunSummary;
  readonly faultRun: RunSummary;
  readonly faults: readonly FaultRecord[];
  /** The reference against itself: no duplicates, no gaps, every delivery once. */
  readonly referenceVerdict: Verdict;
  readonly verdict: Verdict;
  /** Problems of the run itself: workers that never reported a down part, faults without recovery. */
  readonly operational: readonly string[];
  readonly drainAfterLastFaultMs: number | null;
  readonly wallMs: number;
}

interface Shared {
  readonly stack: ChaosStack;
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly registry: SchemaRegistry;
  readonly logRoot: string;
  readonly log: (line: string) => void;
}

function expectedDeliveries(reference: RunOutcome): Map<string, string[]> {
  const byId = new Map<string, { dimension: string; from_tier: string | null; to_tier: string; direction: string }>();
  for (const t of reference.transitions) byId.set(t.transitionId, JSON.parse(t.content) as { dimension: string; from_tier: string | null; to_tier: string; direction: string });
  return new Map(SUBSCRIBERS.map((s) => [s.id, [...byId].filter(([, c]) => matchesFilter(s.filter, c as Parameters<typeof matchesFilter>[1])).map(([id]) => id)]));
}

/** Feeds, (faults,) drains, ticks to the end, drains, stops the workers and reads back what the run produced. */
async function runOnce(sh: Shared, o: ChaosOptions, dataset: Dataset, label: string, faults: readonly Fault[]): Promise<{ summary: RunSummary; outcome: RunOutcome; records: FaultRecord[]; windows: FaultInjector['windows']; lastFaultEnd: number; drainedAt: number }> {
  const begun = Date.now();
  const run = await PipelineRun.provision(label, sh.stack.endpoints, sh.kafka, sh.admin, sh.logRoot, o.partitions);
  sh.log(`${label}: namespace ${run.namespace}, worker logs in ${run.logDir}`);
  await run.startWorkers();
  const injector = new FaultInjector(sh.stack, run, sh.log, () => (run.feedStats?.doneAt ?? 0) > 0);
  // Paced so events flow through the whole schedule: fault k's share of the records is
  // released over the time that fault is expected to take.
  const expectMs = (f: Fault): number => f.gapMs + (f.kind === 'stop-part' ? f.downMs + 30_000 : 20_000);
  const allowed =
    faults.length === 0
      ? undefined
      : () => {
          const k = Math.min(injector.current, faults.length);
          const f = faults[k];
          const within = f ? Math.min(1, (Date.now() - injector.currentStartedAt) / expectMs(f)) : 1;
          return (dataset.records * (k + within)) / faults.length;
        };
  const feedBegun = Date.now();
  const feeding = run.feed(dataset, allowed);
  let lastFaultEnd = Date.now();
  if (faults.length > 0) {
    injector.currentStartedAt = Date.now();
    await Promise.all([feeding, injector.runAll(faults).then(() => (lastFaultEnd = Date.now()))]);
  } else await feeding;
  const feedMs = Date.now() - feedBegun;
  sh.log(`${label}: fed ${dataset.records} records in ${(feedMs / 1000).toFixed(1)} s; draining`);
  const drainLimit = 600_000 + dataset.events * 20;
  const drainMs = await run.drain(drainLimit);
  const drainedAt = Date.now();
  sh.log(`${label}: drained in ${(drainMs / 1000).toFixed(1)} s; a clock tick to the end on every partition`);
  await run.tickToEnd(sh.registry, dataset.lastEventTime, o.partitions);
  await sleep(1_000);
  const tickMs = await run.drain(drainLimit);
  sh.log(`${label}: swept to the end in ${(tickMs / 1000).toFixed(1)} s`);
  // The notifier commits after its deliveries; give the last ones a moment to arrive.
  await sleep(1_000);
  const exitsDuring = [...run.supervisor.exits];
  const finalExits = await run.stop();
  const outcome = await collectOutcome(sh.kafka, sh.admin, sh.registry, sh.stack.endpoints.redisUrl, run.namespace, dataset.customers, run.receiver);
  const summary: RunSummary = { label, namespace: run.namespace, wallMs: Date.now() - begun, feedMs, drainMs, feed: run.feedStats, exits: exitsDuring, finalExits };
  sh.log(`${label}: done in ${(summary.wallMs / 1000).toFixed(1)} s (${outcome.canonicalEventIds.length} canonical events, ${outcome.transitions.length} transitions)`);
  return { summary, outcome, records: injector.records, windows: injector.windows, lastFaultEnd, drainedAt };
}

/** Problems of the run that are not differences of output: a down part not reported, no recovery. */
function operationalProblems(records: readonly FaultRecord[], finalExits: readonly ExitRecord[]): string[] {
  const problems: string[] = [];
  for (const r of records) {
    if (r.recoveryMs === null) problems.push(`fault ${r.index + 1} (${r.description}): no progress within the limit after it ended`);
    if (r.fault.kind === 'stop-part' && r.fault.outage) {
      for (const [worker, seen] of Object.entries(r.readiness ?? {})) {
        if (seen.notReadyNamingPart === 0 && seen.unreachable < seen.polls) problems.push(`fault ${r.index + 1} (${r.description}): ${worker} never reported not-ready naming ${r.fault.part} (${seen.polls} polls, failing checks seen: ${seen.failingChecks.join(', ') || 'none'})`);
      }
    }
  }
  for (const e of finalExits) if (e.code !== 0) problems.push(`${e.instance}: exit ${e.code ?? e.signal} on the final SIGTERM (expected 0)`);
  return problems;
}

export async function runChaos(o: ChaosOptions, log: (line: string) => void = (l) => console.log(`[chaos] ${l}`)): Promise<ChaosResult> {
  const begun = Date.now();
  const schedule = o.faults ? faultSchedule({ seed: o.seed, outageMs: o.outageMs, registryStopMs: o.registryStopMs, killsPerWorker: o.killsPerWorker, compact: !o.full }) : [];
  log(`seed ${o.seed}: ${o.events} events, ${schedule.length} faults (replay: npm run test:chaos -- --events ${o.events} --seed ${o.seed})`);
  for (const [i, f] of schedule.entries()) log(`  ${String(i + 1).padStart(2)}. after ${(f.gapMs / 1000).toFixed(1)} s: ${describeFault(f)}`);
  const stack = new ChaosStack((line) => log(`stack: ${line}`));
  await stack.up();
  const endpoints = stack.endpoints;
  // provisionNamespace and the workers' env read the endpoints from here (see PipelineRun.provision).
  process.env['KAFKA_BROKERS'] = endpoints.kafkaBrokers.join(',');
  process.env['SCHEMA_REGISTRY_URL'] = endpoints.schemaRegistryUrl;
  process.env['REDIS_URL'] = endpoints.redisUrl;
  const logRoot = path.join(stack.settings.runDir, 'runs', new Date().toISOString().replace(/[:.]/g, '-'));
  const kafka = createKafka({ clientId: 'chaos', brokers: endpoints.kafkaBrokers, logger: createLogger({ name: 'chaos', level: 'fatal' }) });
  const admin = kafka.admin();
  await admin.connect();
  const registry = createSchemaRegistry(endpoints.schemaRegistryUrl);
  const sh: Shared = { stack, kafka, admin, registry, logRoot, log };
  try {
    const dataset = chaosDataset(o.events, o.seed, o.partitions);
    log(`dataset: ${dataset.customers.length} customers, ${dataset.events} events, ${dataset.records} records with bad ones and duplicates`);
    const ref = await runOnce(sh, o, dataset, 'reference', []);
    const fault = await runOnce(sh, o, dataset, o.faults ? 'faults' : 'second', schedule);
    const expected = expectedDeliveries(ref.outcome);
    const referenceVerdict = checkInvariants({ reference: ref.outcome, run: ref.outcome, expectedDeliveries: expected, windows: [] });
    const verdict = checkInvariants({ reference: ref.outcome, run: fault.outcome, expectedDeliveries: expected, windows: fault.windows });
    const result: ChaosResult = {
      options: o,
      schedule,
      dataset: { customers: dataset.customers.length, events: dataset.events, records: dataset.records },
      reference: ref.summary,
      faultRun: fault.summary,
      faults: fault.records,
      referenceVerdict,
      verdict,
      operational: operationalProblems(fault.records, [...ref.summary.finalExits, ...fault.summary.finalExits]),
      drainAfterLastFaultMs: schedule.length > 0 ? fault.drainedAt - fault.lastFaultEnd : null,
      wallMs: Date.now() - begun,
    };
    printFigures(result, log);
    writeResults(result, log);
    return result;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function stopChaosStack(log: (line: string) => void = (l) => console.log(`[chaos] ${l}`)): Promise<void> {
  const stopped = await new ChaosStack((line) => log(`stack: ${line}`)).down();
  log(`chaos stack stopped (${stopped.join(', ') || 'nothing was running'})`);
}

function printFigures(r: ChaosResult, log: (line: string) => void): void {
  const f = r.verdict.figures;
  const s = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);
  log('figures (fault run vs reference)');
  log(`  events in ${r.dataset.events} (+${r.dataset.records - r.dataset.events} bad/duplicate records), events counted ${f.eventsCounted} of ${f.eventsExpected}, duplicated ${f.eventsDuplicated}, missing ${f.eventsMissing}`);
  log(`  transitions expected ${f.transitionsExpected} / found ${f.transitionsFound} / duplicated ${f.transitionsDuplicated} / missing ${f.transitionsMissing} / unexpected ${f.transitionsUnexpected} / differing ${f.transitionsDiffering}`);
  log(`  tier_version gaps ${f.versionGaps}, final-tier differences ${f.finalTierDifferences}, Redis state differences ${f.stateDifferences}, dead letters ${f.deadLettersFound} of ${f.deadLettersExpected}`);
  log(`  deliveries expected ${f.deliveriesExpected} / delivered ${f.deliveriesDelivered} / missing ${f.deliveriesMissing} / duplicated ${f.deliveriesDuplicated} (outside the window ${f.deliveriesDuplicatedOutsideWindow})`);
  const byCause = Object.entries(f.deliveriesDuplicatedByCause);
  if (byCause.length > 0) log(`  repeated deliveries by fault: ${byCause.map(([cause, n]) => `${cause} ${n}`).join(', ')}`);
  for (const rec of r.faults) log(`  fault ${String(rec.index + 1).padStart(2)} ${rec.description}: recovery ${s(rec.recoveryMs)}${rec.notes.length ? ` (${rec.notes.join('; ')})` : ''}`);
  log(`  drain after the last fault ${s(r.drainAfterLastFaultMs)}; reference run ${s(r.reference.wallMs)}, fault run ${s(r.faultRun.wallMs)}, all ${s(r.wallMs)}`);
  const unplanned = r.faultRun.exits.filter((e) => e.signal !== 'SIGKILL' && !(e.code === 0));
  if (unplanned.length > 0) log(`  exits other than kill -9 and a clean 0: ${unplanned.map((e) => `${e.instance} ${e.code ?? e.signal}`).join(', ')}`);
  for (const p of [...r.referenceVerdict.problems.map((p) => `reference ${p.area}: ${p.message}`), ...r.verdict.problems.map((p) => `${p.area}: ${p.message}`), ...r.operational]) log(`  PROBLEM ${p}`);
  if (r.verdict.problems.length === 0 && r.referenceVerdict.problems.length === 0 && r.operational.length === 0) log('  no difference: exactly-once held');
}

function writeResults(r: ChaosResult, log: (line: string) => void): void {
  if (!r.options.resultsDir) return;
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    // not a checkout: the figures still stand
  }
  fs.mkdirSync(r.options.resultsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const text = `${JSON.stringify({ commit, at: new Date().toISOString(), ...r }, null, 2)}\n`;
  const file = path.join(r.options.resultsDir, `chaos-${stamp}.json`);
  fs.writeFileSync(file, text);
  fs.writeFileSync(path.join(r.options.resultsDir, 'chaos-latest.json'), text);
  log(`figures written to ${path.relative(REPO_ROOT, file)} and chaos-latest.json`);
}
