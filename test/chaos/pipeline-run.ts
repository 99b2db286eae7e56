import fs from 'node:fs';
import path from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import type { CustomerEventRecord } from '@tierstream/domain';
import { AvroCodec, DEFAULT_POLICY_FILE, loadPolicyFile, SchemaFiles, topicNames, type Endpoints, type SchemaRegistry, type TopicNames } from '@tierstream/runtime';
import { committedOffsets, endOffsets, scrapeCounter } from '../../services/cli/src/demo/consumer-lag';
import { portInUse } from '../../services/cli/src/stack/process-control';
import { clockTick } from '../../services/scoring/src/scoring-worker';
import { provisionNamespace, workerEnv } from '../support/pipeline';
import type { Dataset } from './dataset';
import { Feeder, type FeedStats } from './feeder';
import { RecordingReceiver } from './recording-receiver';
import type { WorkerKind } from './schedule';
import { Supervisor, type ExitRecord } from './supervisor';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const DAY = 86_400_000;

/** The two webhook subscribers and their filters: each sees a different subset of the transitions. */
export const SUBSCRIBERS = [
  { id: 'crm', filter: { dimensions: ['value', 'membership'] }, concurrency: 8 },
  { id: 'journeys', filter: { directions: ['UP' as const] }, concurrency: 4 },
] as const;
export const WEBHOOK_TIMEOUT_MS = 5_000;

export interface GroupSpec {
  readonly worker: WorkerKind;
  readonly group: string;
  readonly topic: string;
  /** Written in transactions: its last offset is a commit marker no consumer commits past. */
  readonly transactional: boolean;
}

export interface Position {
  readonly committed: number;
  readonly behind: number;
}

let nextPort = 28_100;

/** A port for a worker's HTTP server that stays its own across restarts (unlike HTTP_PORT=0). */
async function freePort(): Promise<number> {
  while (await portInUse(nextPort)) nextPort++;
  return nextPort++;
}

/** The default policy with the wall-clock tick off: event time alone drives both runs. */
function replayPolicy(dir: string): string {
  const file = path.join(dir, 'policy-clock-off.yaml');
  const text = fs.readFileSync(DEFAULT_POLICY_FILE, 'utf8');
  const replaced = text.replace(/wall_clock_tick: \{[^}]*\}/, 'wall_clock_tick: off');
  if (replaced === text) throw new Error(`${DEFAULT_POLICY_FILE}: no wall_clock_tick block to turn off`);
  fs.writeFileSync(file, replaced);
  loadPolicyFile(file); // fails here, with its message, rather than in scoring's log
  return file;
}

/**
 * One namespace's pipeline on the chaos stack: its topics and schemas, the three workers
 * under a supervisor, a recording webhook receiver, a feeder. The same class runs the
 * reference and the fault run.
 */
export class PipelineRun {
  readonly topics: TopicNames;
  readonly supervisor: Supervisor;
  readonly receiver = new RecordingReceiver(SUBSCRIBERS.map((s) => s.id));
  readonly groups: readonly GroupSpec[];
  feeder: Feeder | undefined;
  private env: Record<string, string> = {};

  private constructor(
    readonly label: string,
    readonly namespace: string,
    private readonly endpoints: Endpoints,
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    readonly logDir: string,
  ) {
    this.topics = topicNames(namespace);
    this.supervisor = new Supervisor(logDir);
    this.groups = [
      { worker: 'ingest', group: `${namespace}tierstream-ingest`, topic: this.topics.raw, transactional: false },
      { worker: 'scoring', group: `${namespace}tierstream-scoring`, topic: this.topics.events, transactional: true },
      { worker: 'notifier', group: `${namespace}tierstream-notifier`, topic: this.topics.tierChanged, transactional: true },
    ];
  }

  static async provision(label: string, endpoints: Endpoints, kafka: Kafka, admin: Admin, logRoot: string, partitions: number): Promise<PipelineRun> {
    // provisionNamespace reads the endpoints from the environment (testEndpoints): the chaos
    // project has no global setup, so the chaos stack's are set there by chaos-suite.ts.
    const { namespace } = await provisionNamespace(`chaos-${label}`, partitions);
    const logDir = path.join(logRoot, label);
    fs.mkdirSync(logDir, { recursive: true });
    return new PipelineRun(label, namespace, endpoints, kafka, admin, logDir);
  }

  async startWorkers(): Promise<void> {
    await this.receiver.start();
    const subscribers = SUBSCRIBERS.map((s) => ({
      id: s.id,
      type: 'webhook',
      url: this.receiver.url(s.id),
      secrets: [this.receiver.secret(s.id)],
      filter: s.filter,
      concurrency: s.concurrency,
      timeoutMs: WEBHOOK_TIMEOUT_MS,
      // The receiver never refuses: attempts fail only while the notifier or its network
      // is down, so retries must outlast every fault instead of dead-lettering.
      maxAttempts: 100,
      backoff: { initialMs: 200, maxMs: 2_000 },
    }));
    this.env = workerEnv(this.namespace, this.endpoints, {
      LOG_LEVEL: process.env['CHAOS_LOG_LEVEL'] ?? 'info',
      SCORING_POLICY_FILE: replayPolicy(this.logDir),
      // Faults hold back one ingest path while the other runs on; the partition's watermark
      // must not turn the held-back events late (as in the demo).
      SCORING_ALLOWED_LATENESS_HOURS: String(400 * 24),
      // A killed ingest's in-flight HTTP claims free up after this, so the feeder's resend goes through.
      INGEST_PENDING_TTL_SECONDS: '20',
      NOTIFIER_SUBSCRIBERS: JSON.stringify(subscribers),
    });
    for (const kind of ['ingest', 'scoring', 'notifier'] as const) this.supervisor.start(kind, kind, await freePort(), this.env);
    await Promise.all(['ingest', 'scoring', 'notifier'].map((n) => this.waitReady(n, 120_000)));
  }

  /** A further replica of a worker (a scale-out), on its own port. */
  async startReplica(name: string, kind: WorkerKind): Promise<void> {
    this.supervisor.start(name, kind, await freePort(), this.env);
  }

  async ready(name: string): Promise<{ ok: boolean; failing: string[]; reachable: boolean }> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.supervisor.port(name)}/readyz`, { signal: AbortSignal.timeout(3_000) });
      const body = (await res.json()) as { checks?: Record<string, string> };
      return { ok: res.ok, failing: Object.entries(body.checks ?? {}).filter(([, v]) => v !== 'ok').map(([k]) => k), reachable: true };
    } catch {
      return { ok: false, failing: [], reachable: false };
    }
  }

  async waitReady(name: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await this.ready(name)).ok) {
      if (Date.now() > deadline) throw new Error(`${this.label}: ${name} not ready after ${timeoutMs} ms (log ${this.supervisor.logFile(name)})`);
      await sleep(250);
    }
  }

  /** The worker's own count of consumed records: 0 until its first batch after a (re)start. */
  async eventsIn(name: string): Promise<number> {
    try {
      return await scrapeCounter(this.supervisor.port(name), 'tierstream_events_in_total');
    } catch {
      return 0;
    }
  }

  async position(g: GroupSpec): Promise<Position> {
    const [end, committed] = await Promise.all([endOffsets(this.admin, g.topic), committedOffsets(this.admin, g.group, g.topic)]);
    let behind = 0;
    let total = 0;
    for (const [p, high] of end) {
      const c = committed.get(p) ?? 0;
      total += c;
      if (high > 0) behind += Math.max(0, high - (g.transactional ? 1 : 0) - c);
    }
    return { committed: total, behind };
  }

  feed(dataset: Dataset, allowed?: () => number): Promise<void> {
    this.feeder = new Feeder(this.kafka, this.topics.raw, `http://127.0.0.1:${this.supervisor.port('ingest')}/v1/events`, allowed);
    return this.feeder.run(dataset);
  }

  get feedStats(): FeedStats | undefined {
    return this.feeder?.stats;
  }

  /**
   * Until every group has consumed everything and nothing moved for `quietMs`. A consumer
   * never commits past a transaction's commit marker, so a partition one record short of
   * its end is caught up when that record is a marker, and not when it is a clock tick
   * scoring sent itself outside transactions to go on sweeping (it consumes that within a
   * second). Both look alike in offsets, hence the quiet time: nothing of the pipeline's
   * topics and groups may move meanwhile. After `giveUpMs` without any move (an aborted
   * transaction last on a partition is never consumed past either) it is drained as well.
   */
  async drain(timeoutMs: number, quietMs = 6_000, giveUpMs = 45_000): Promise<number> {
    const begun = Date.now();
    let last = '';
    let since = Date.now();
    for (;;) {
      if (Date.now() - begun > timeoutMs) throw new Error(`${this.label}: not drained after ${timeoutMs} ms: ${JSON.stringify(await this.positions().catch((e: unknown) => String(e)))}`);
      try {
        const snapshot: string[] = [];
        let caughtUp = true;
        for (const g of this.groups) {
          const [end, committed] = await Promise.all([endOffsets(this.admin, g.topic), committedOffsets(this.admin, g.group, g.topic)]);
          for (const [p, high] of end) {
            const c = committed.get(p) ?? 0;
            snapshot.push(`${g.group}:${p}:${high}:${c}`);
            if (high - c > (g.transactional ? 1 : 0)) caughtUp = false;
          }
        }
        const key = snapshot.join(',');
        if (key !== last) {
          last = key;
          since = Date.now();
        }
        const quiet = Date.now() - since;
        if ((caughtUp && quiet >= quietMs) || quiet >= giveUpMs) return Date.now() - begun - quiet;
      } catch {
        // The broker is restarting: ask again.
      }
      await sleep(500);
    }
  }

  async positions(): Promise<Record<string, Position>> {
    const out: Record<string, Position> = {};
    for (const g of this.groups) out[g.worker] = await this.position(g);
    return out;
  }

  /** A clock tick to every partition of the events topic, far past the data: everyone decays, as in the e2e test. */
  async tickToEnd(registry: SchemaRegistry, lastEventTime: number, partitions: number): Promise<number> {
    const end = lastEventTime + 400 * DAY;
    const codec = new AvroCodec<CustomerEventRecord>(registry, this.topics.events, SchemaFiles.customerEvent);
    // In a transaction, like everything else on the topic: its last offset is then a commit
    // marker again, which is what position() assumes.
    const producer = this.kafka.producer({ transactionalId: `${this.namespace}chaos-tick`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const messages = await Promise.all(Array.from({ length: partitions }, async (_, partition) => ({ partition, value: await codec.encode(clockTick(partition, end)) })));
      const txn = await producer.transaction();
      await txn.send({ topic: this.topics.events, acks: -1, messages });
      await txn.commit();
    } finally {
      await producer.disconnect();
    }
    return end;
  }

  async stop(): Promise<ExitRecord[]> {
    const exits = await this.supervisor.stopAll();
    await this.receiver.close();
    return exits;
  }
}
