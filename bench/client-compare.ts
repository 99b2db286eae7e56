/**
 * `npm run bench:client`: kafkajs and @confluentinc/kafka-javascript (CKJS: librdkafka under
 * its KafkaJS-compatible API) side by side against the local stack, on the same generated
 * records, each client in its own fresh topics (deleted at the end, also after a failure or
 * SIGINT). Per run and client: (a) plain produce, acks all, `--batch` per send, `--in-flight`
 * sends at a time, as bench/lib/drain.ts produceRaw; (b) read_committed consume of that topic
 * from the beginning in a new group, eachBatch, from the group join to the last record; (c)
 * consume-transform-produce as the scoring worker does it: one transactional producer per
 * input partition, per `--tx-batch` records one transaction with send + sendOffsets + commit.
 * Clients alternate run by run. docs/kafka-client.md says how to install CKJS and what the
 * figures mean. Writes bench/results/client-compare-<time>.json.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, Partitioners, type Admin, type logCreator } from 'kafkajs';
import { benchDataset, type RawRecord } from './lib/dataset';
import { busyShare, machineCpu, machineInfo, type CpuTimes } from './lib/machine';
import { fixed, int, pct, writeResultFiles } from './lib/results';
import { integer, optionsOrExitCode, runMain } from './lib/cli';
import { partitionerFor } from './lib/seed';

const USAGE = `npm run bench:client -- [options]
  --records N        records per run (default 200000)
  --customers N      customer ids the records are keyed by (default 20000)
  --seed N           dataset seed (default 7)
  --rounds N         runs per client, alternating (default 2)
  --partitions N     partitions of each fresh topic (default 12)
  --batch N          records per plain send (default 2000)
  --in-flight N      plain sends at a time (default 4)
  --tx-batch N       records per transaction (default 500)
  --ckjs-max-batch N CKJS's js.consumer.max.batch.size in the plain consume phase (default --tx-batch; --ckjs-max-batch=-1 unlimited)
  --concurrency N    partitionsConsumedConcurrently of the transactional phase (default 4, the scoring worker's)
  --consume-concurrency N  partitionsConsumedConcurrently of the plain consume phase (default 1, as bench's raw consumer)
  --timeout S        seconds a consume phase may take (default 300)
  --clients LIST     kafkajs,ckjs (default both)
Brokers from KAFKA_BROKERS (default 127.0.0.1:19092); CKJS from CKJS_PATH (default @confluentinc/kafka-javascript).`;

type ClientName = 'kafkajs' | 'ckjs';

interface Options {
  readonly records: number;
  readonly customers: number;
  readonly seed: number;
  readonly rounds: number;
  readonly partitions: number;
  readonly batch: number;
  readonly inFlight: number;
  readonly txBatch: number;
  readonly ckjsMaxBatch: number;
  readonly concurrency: number;
  readonly consumeConcurrency: number;
  readonly timeoutSeconds: number;
  readonly clients: readonly ClientName[];
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      records: { type: 'string' },
      customers: { type: 'string' },
      seed: { type: 'string' },
      rounds: { type: 'string' },
      partitions: { type: 'string' },
      batch: { type: 'string' },
      'in-flight': { type: 'string' },
      'tx-batch': { type: 'string' },
      'ckjs-max-batch': { type: 'string' },
      concurrency: { type: 'string' },
      'consume-concurrency': { type: 'string' },
      timeout: { type: 'string' },
      clients: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) return undefined;
  const clients = (values.clients ?? 'kafkajs,ckjs').split(',').map((c) => c.trim());
  for (const c of clients) if (c !== 'kafkajs' && c !== 'ckjs') throw new Error(`--clients: expected kafkajs and/or ckjs, got ${c}`);
  return {
    records: integer('records', values.records, 200_000, 1, 10_000_000),
    customers: integer('customers', values.customers, 20_000, 1, 10_000_000),
    seed: integer('seed', values.seed, 7, 0, 2 ** 31),
    rounds: integer('rounds', values.rounds, 2, 1, 20),
    partitions: integer('partitions', values.partitions, 12, 1, 256),
    batch: integer('batch', values.batch, 2000, 1, 100_000),
    inFlight: integer('in-flight', values['in-flight'], 4, 1, 64),
    txBatch: integer('tx-batch', values['tx-batch'], 500, 1, 100_000),
    ckjsMaxBatch: values['ckjs-max-batch'] === '-1' ? -1 : integer('ckjs-max-batch', values['ckjs-max-batch'], integer('tx-batch', values['tx-batch'], 500, 1, 100_000), 1, 1_000_000),
    concurrency: integer('concurrency', values.concurrency, 4, 1, 64),
    consumeConcurrency: integer('consume-concurrency', values['consume-concurrency'], 1, 1, 64),
    timeoutSeconds: integer('timeout', values.timeout, 300, 1, 3600),
    clients: clients as ClientName[],
  };
}

// ---- The shape both clients share: the few calls of kafkajs's API this benchmark makes. ----

interface OutMessage {
  readonly key: string | Buffer | null;
  readonly value: string | Buffer | null;
}
interface SendArgs {
  readonly topic: string;
  readonly messages: OutMessage[];
}
interface TopicOffsets {
  readonly topic: string;
  readonly partitions: { partition: number; offset: string }[];
}
/** Offsets of a consume-transform-produce transaction: kafkajs names the group, CKJS takes the consumer itself (KIP-447 group metadata). */
interface OffsetsArgs {
  readonly groupId: string;
  readonly consumer: BenchConsumer;
  readonly topics: TopicOffsets[];
}
interface BenchTransaction {
  send(args: SendArgs): Promise<unknown>;
  sendOffsets(args: OffsetsArgs): Promise<unknown>;
  commit(): Promise<unknown>;
  abort(): Promise<unknown>;
}
interface BenchProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(args: SendArgs): Promise<unknown>;
}
interface TxProducer extends BenchProducer {
  transaction(): Promise<BenchTransaction>;
}
interface InMessage {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}
interface BatchPayload {
  readonly batch: { readonly topic: string; readonly partition: number; readonly messages: InMessage[] };
}
interface BenchConsumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(args: { topics: string[] }): Promise<void>;
  run(args: { eachBatch: (payload: BatchPayload) => Promise<void>; partitionsConsumedConcurrently: number }): Promise<void>;
}
interface ConsumerSettings {
  readonly groupId: string;
  readonly autoCommit: boolean;
  /** Fetch bytes per partition: bounds a batch (the scoring worker sets 256 KiB). */
  readonly maxBytesPerPartition: number;
  /** CKJS only: eachBatch's batch size is client-side and 32 by default (kafkajs's is a fetch's worth). */
  readonly maxBatchSize: number;
  readonly onJoin: () => void;
}

/** One client behind the shared shape: what differs between them is configuration, and sendOffsets's group argument. */
interface Driver {
  readonly name: ClientName;
  readonly version: string;
  readonly settings: Record<string, unknown>;
  plainProducer(): BenchProducer;
  txProducer(transactionalId: string): TxProducer;
  consumer(s: ConsumerSettings): BenchConsumer;
}

const kafkajsVersion = (): string => (JSON.parse(fs.readFileSync(require.resolve('kafkajs/package.json'), 'utf8')) as { version: string }).version;

/** kafkajs error lines: counted; those about CONCURRENT_TRANSACTIONS (retried by kafkajs after every commit, as in the worker) not printed. */
const kafkajsErrorLines = { printed: 0, concurrentTransactions: 0 };
const countingLogCreator: logCreator = () => (entry) => {
  const text = `${entry.log.message} ${typeof entry.log['error'] === 'string' ? entry.log['error'] : ''}`;
  if (/another concurrent operation on the same transaction/.test(text)) {
    kafkajsErrorLines.concurrentTransactions++;
    return;
  }
  kafkajsErrorLines.printed++;
  console.error(`kafkajs ${entry.namespace}: ${text}`);
};

function kafkajsDriver(brokers: readonly string[]): Driver {
  const kafka = new Kafka({ clientId: 'bench-client-compare', brokers: [...brokers], logLevel: logLevel.ERROR, logCreator: countingLogCreator });
  return {
    name: 'kafkajs',
    version: kafkajsVersion(),
    settings: { plain: 'DefaultPartitioner, acks -1 per send, kafkajs defaults', transactional: 'idempotent, maxInFlightRequests 1, transactionTimeout 30000 (the scoring worker)' },
    plainProducer: () => {
      const p = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
      return { connect: () => p.connect(), disconnect: () => p.disconnect(), send: (a) => p.send({ ...a, acks: -1 }) };
    },
    txProducer: (transactionalId) => {
      const p = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 30_000, allowAutoTopicCreation: false });
      return {
        connect: () => p.connect(),
        disconnect: () => p.disconnect(),
        send: (a) => p.send({ ...a, acks: -1 }),
        transaction: async () => {
          const tx = await p.transaction();
          return {
            send: (a) => tx.send({ ...a, acks: -1 }),
            sendOffsets: (a) => tx.sendOffsets({ consumerGroupId: a.groupId, topics: a.topics }),
            commit: () => tx.commit(),
            abort: () => tx.abort(),
          };
        },
      };
    },
    consumer: (s) => {
      const c = kafka.consumer({ groupId: s.groupId, readUncommitted: false, maxBytesPerPartition: s.maxBytesPerPartition });
      c.on(c.events.GROUP_JOIN, s.onJoin);
      return {
        connect: () => c.connect(),
        disconnect: () => c.disconnect(),
        subscribe: (a) => c.subscribe({ ...a, fromBeginning: true }),
        run: (a) => c.run({ ...a, autoCommit: s.autoCommit }),
      };
    },
  };
}

/** What this benchmark uses of `require('@confluentinc/kafka-javascript')`. */
interface CkjsModule {
  readonly KafkaJS: { readonly Kafka: new (config: Record<string, unknown>) => CkjsKafka };
  readonly librdkafkaVersion?: string;
}
interface CkjsKafka {
  producer(config: Record<string, unknown>): CkjsProducer;
  consumer(config: Record<string, unknown>): BenchConsumer;
}
interface CkjsProducer extends BenchProducer {
  transaction(): Promise<CkjsTransaction>;
}
interface CkjsTransaction {
  send(args: SendArgs): Promise<unknown>;
  /** `consumer` must be the CKJS consumer object itself; a consumerGroupId is refused. */
  sendOffsets(args: { consumer: BenchConsumer; topics: TopicOffsets[] }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** librdkafka's RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS: the rebalance callback's "partitions assigned". */
const ERR_ASSIGN_PARTITIONS = -175;

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;

/**
 * CKJS is loaded at run time, not imported: it is not a dependency of the project (its native
 * build takes minutes and would run in every `npm ci`), so this file must compile without it.
 * What `require` returns is unknown and narrowed to the little of it used here.
 */
function loadCkjs(): { module: CkjsModule; version: string; from: string } | Error {
  const from = process.env['CKJS_PATH'] ?? '@confluentinc/kafka-javascript';
  try {
    const load = createRequire(__filename);
    const loaded: unknown = load(from);
    if (!isRecord(loaded) || !isRecord(loaded['KafkaJS']) || typeof loaded['KafkaJS']['Kafka'] !== 'function') return new Error(`${from} has no KafkaJS.Kafka`);
    const pkg: unknown = JSON.parse(fs.readFileSync(load.resolve(`${from}/package.json`), 'utf8'));
    const version = isRecord(pkg) && typeof pkg['version'] === 'string' ? pkg['version'] : 'unknown';
    return { module: loaded as unknown as CkjsModule, version, from };
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

function ckjsDriver(brokers: readonly string[], ckjs: { module: CkjsModule; version: string }): Driver {
  const kafka = new ckjs.module.KafkaJS.Kafka({ kafkaJS: { clientId: 'bench-client-compare', brokers: [...brokers], logLevel: logLevel.ERROR } });
  return {
    name: 'ckjs',
    version: `${ckjs.version} (librdkafka ${ckjs.module.librdkafkaVersion ?? 'unknown'})`,
    settings: {
      plain: 'acks -1 on the producer (CKJS refuses it per send), allowAutoTopicCreation false, librdkafka defaults (linger.ms 5, partitioner murmur2_random)',
      transactional: 'idempotent, maxInFlightRequests 1, transactionTimeout 30000 (the scoring worker)',
      consumer: 'js.consumer.max.batch.size = --ckjs-max-batch in the plain consume phase, --tx-batch in the transactional one (CKJS default 32)',
    },
    plainProducer: () => kafka.producer({ kafkaJS: { acks: -1, allowAutoTopicCreation: false } }),
    txProducer: (transactionalId) => {
      const p = kafka.producer({ kafkaJS: { acks: -1, transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 30_000, allowAutoTopicCreation: false } });
      return {
        connect: () => p.connect(),
        disconnect: () => p.disconnect(),
        send: (a) => p.send(a),
        transaction: async () => {
          const tx = await p.transaction();
          return { send: (a) => tx.send(a), sendOffsets: (a) => tx.sendOffsets({ consumer: a.consumer, topics: a.topics }), commit: () => tx.commit(), abort: () => tx.abort() };
        },
      };
    },
    consumer: (s) =>
      kafka.consumer({
        kafkaJS: { groupId: s.groupId, fromBeginning: true, autoCommit: s.autoCommit, readUncommitted: false, maxBytesPerPartition: s.maxBytesPerPartition },
        'js.consumer.max.batch.size': s.maxBatchSize,
        // The group join as kafkajs's GROUP_JOIN event marks it; returning nothing keeps CKJS's own assignment.
        rebalance_cb: (err: unknown) => {
          if (isRecord(err) && err['code'] === ERR_ASSIGN_PARTITIONS) s.onJoin();
        },
      }),
  };
}

// ---- The phases ----

/** Consumers still in a group: a SIGINT disconnects them first, or their groups could not be deleted (they have members). */
const activeConsumers = new Set<BenchConsumer>();

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const since = (fromMs: number): number => (performance.now() - fromMs) / 1000;
const cpuSeconds = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1e6;

/** The process's CPU (librdkafka's threads included: they are this process's), the machine's, over a phase. */
interface PhaseCost {
  readonly processCpuSeconds: number;
  readonly cpuMicrosPerRecord: number;
  readonly machineBusyShare: number | null;
  readonly loadAverage: number[];
}
const costSince = (cpu0: NodeJS.CpuUsage, m0: CpuTimes | undefined, records: number): PhaseCost => {
  const c = cpuSeconds(process.cpuUsage(cpu0));
  return { processCpuSeconds: c, cpuMicrosPerRecord: records > 0 ? (c * 1e6) / records : 0, machineBusyShare: busyShare(m0, machineCpu()), loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100) };
};

interface ProducePhase extends PhaseCost {
  readonly records: number;
  readonly seconds: number;
  readonly perSecond: number;
}

async function plainProduce(d: Driver, topic: string, records: readonly RawRecord[], o: Options): Promise<ProducePhase> {
  const producer = d.plainProducer();
  await producer.connect();
  try {
    const cpu0 = process.cpuUsage();
    const m0 = machineCpu();
    const started = performance.now();
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < records.length) {
        const from = next;
        next += o.batch;
        await producer.send({ topic, messages: records.slice(from, from + o.batch).map((r) => ({ key: r.key, value: r.value })) });
      }
    };
    await Promise.all(Array.from({ length: o.inFlight }, lane));
    const seconds = since(started);
    return { records: records.length, seconds, perSecond: records.length / seconds, ...costSince(cpu0, m0, records.length) };
  } finally {
    await producer.disconnect();
  }
}

interface ConsumePhase extends PhaseCost {
  readonly records: number;
  readonly completed: boolean;
  /** From the group join to the last record. */
  readonly seconds: number;
  readonly perSecond: number;
  readonly joinSeconds: number;
  readonly batches: number;
  /** Records whose partition is not the one kafkajs's DefaultPartitioner gives their key. */
  readonly partitionMismatches: number;
}

async function consume(d: Driver, groupId: string, topic: string, expected: number, o: Options): Promise<ConsumePhase> {
  const partitionOf = partitionerFor(topic, o.partitions);
  let joined: number | undefined;
  const consumer = d.consumer({ groupId, autoCommit: true, maxBytesPerPartition: 1024 * 1024, maxBatchSize: o.ckjsMaxBatch, onJoin: () => (joined ??= performance.now()) });
  activeConsumers.add(consumer);
  await consumer.connect();
  const cpu0 = process.cpuUsage();
  const m0 = machineCpu();
  const started = performance.now();
  let last = started;
  let records = 0;
  let batches = 0;
  let mismatches = 0;
  try {
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({
      partitionsConsumedConcurrently: o.consumeConcurrency,
      eachBatch: async ({ batch }) => {
        batches++;
        for (const m of batch.messages) if (m.key === null || partitionOf(m.key.toString()) !== batch.partition) mismatches++;
        records += batch.messages.length;
        last = performance.now();
      },
    });
    while (records < expected && since(started) < o.timeoutSeconds) await sleep(10);
  } finally {
    activeConsumers.delete(consumer);
    await consumer.disconnect();
  }
  const from = joined ?? started;
  const seconds = (last - from) / 1000;
  return { records, completed: records >= expected, seconds, perSecond: seconds > 0 ? records / seconds : 0, joinSeconds: (from - started) / 1000, batches, partitionMismatches: mismatches, ...costSince(cpu0, m0, records) };
}

interface TxPhase extends PhaseCost {
  readonly records: number;
  readonly completed: boolean;
  readonly transactions: number;
  /** From the group join to the last commit. */
  readonly seconds: number;
  readonly perSecond: number;
  readonly transactionsPerSecond: number;
  readonly joinSeconds: number;
  /** Milliseconds per transaction (send + sendOffsets + commit): median and 99th percentile. */
  readonly transactionMs: { readonly p50: number; readonly p99: number };
}

const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

async function transactional(d: Driver, groupId: string, input: string, output: string, expected: number, o: Options, txIdPrefix: string): Promise<TxPhase> {
  // The producers are made and initialised before the clock starts (the worker keeps them across batches).
  const producers = Array.from({ length: o.partitions }, (_, p) => d.txProducer(`${txIdPrefix}${p}`));
  await Promise.all(producers.map((p) => p.connect()));
  let joined: number | undefined;
  const consumer = d.consumer({ groupId, autoCommit: false, maxBytesPerPartition: 256 * 1024, maxBatchSize: o.txBatch, onJoin: () => (joined ??= performance.now()) });
  let records = 0;
  let transactions = 0;
  const txMs: number[] = [];
  let failure: unknown;
  activeConsumers.add(consumer);
  try {
    await consumer.connect();
    const cpu0 = process.cpuUsage();
    const m0 = machineCpu();
    const started = performance.now();
    let last = started;
    await consumer.subscribe({ topics: [input] });
    await consumer.run({
      partitionsConsumedConcurrently: o.concurrency,
      eachBatch: async ({ batch }) => {
        const producer = producers[batch.partition];
        if (!producer) throw new Error(`no producer for partition ${batch.partition}`);
        for (let i = 0; i < batch.messages.length; i += o.txBatch) {
          const chunk = batch.messages.slice(i, i + o.txBatch);
          const lastOffset = chunk[chunk.length - 1]?.offset;
          if (lastOffset === undefined) continue;
          const t0 = performance.now();
          const tx = await producer.transaction();
          try {
            await tx.send({ topic: output, messages: chunk.map((m) => ({ key: m.key, value: m.value })) });
            await tx.sendOffsets({ groupId, consumer, topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(Number(lastOffset) + 1) }] }] });
            await tx.commit();
          } catch (err) {
            failure ??= err;
            await tx.abort().catch(() => undefined); // the first error is the one reported
            throw err;
          }
          txMs.push(performance.now() - t0);
          transactions++;
          records += chunk.length;
          last = performance.now();
        }
      },
    });
    while (records < expected && failure === undefined && since(started) < o.timeoutSeconds) await sleep(10);
    if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
    const from = joined ?? started;
    const seconds = (last - from) / 1000;
    const sorted = [...txMs].sort((a, b) => a - b);
    return {
      records,
      completed: records >= expected,
      transactions,
      seconds,
      perSecond: seconds > 0 ? records / seconds : 0,
      transactionsPerSecond: seconds > 0 ? transactions / seconds : 0,
      joinSeconds: (from - started) / 1000,
      transactionMs: { p50: Math.round(quantile(sorted, 0.5) * 10) / 10, p99: Math.round(quantile(sorted, 0.99) * 10) / 10 },
      ...costSince(cpu0, m0, records),
    };
  } finally {
    activeConsumers.delete(consumer);
    await consumer.disconnect().catch((err: unknown) => console.error(`consumer disconnect: ${String(err)}`));
    await Promise.all(producers.map((p) => p.disconnect().catch((err: unknown) => console.error(`producer disconnect: ${String(err)}`))));
  }
}

// ---- The run ----

interface Run {
  readonly client: ClientName;
  readonly round: number;
  readonly loadAverageBefore: number[];
  readonly produce: ProducePhase;
  readonly consume: ConsumePhase;
  readonly transactional: TxPhase;
}

const begun = performance.now();
const log = (line: string): void => console.log(`[${((performance.now() - begun) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

async function main(): Promise<number> {
  const o = optionsOrExitCode(parseOptions, USAGE, process.argv.slice(2));
  if (typeof o === 'number') return o;
  const startedAt = new Date();
  const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',').map((b) => b.trim()).filter((b) => b !== '');
  const drivers: Driver[] = [];
  if (o.clients.includes('kafkajs')) drivers.push(kafkajsDriver(brokers));
  if (o.clients.includes('ckjs')) {
    const ckjs = loadCkjs();
    if (ckjs instanceof Error) {
      console.error(`@confluentinc/kafka-javascript cannot be loaded: ${ckjs.message}

It is not a dependency of the project. Install it outside the project (a native build of a few minutes):
  apt-get install -y build-essential python3 libssl-dev zlib1g-dev pkg-config
  mkdir -p /tmp/ckjs && cd /tmp/ckjs && npm init -y
  CKJS_LINKING=dynamic npm install --foreground-scripts @confluentinc/kafka-javascript
then run with CKJS_PATH=/tmp/ckjs/node_modules/@confluentinc/kafka-javascript (or --clients kafkajs). See docs/kafka-client.md.`);
      return 2;
    }
    drivers.push(ckjsDriver(brokers, ckjs));
    log(`CKJS from ${ckjs.from}`);
  }

  const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const prefix = `bench-client-${runId}.`;
  const admin: Admin = new Kafka({ clientId: 'bench-client-compare-admin', brokers, logLevel: logLevel.ERROR }).admin();
  await admin.connect();
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    const problems: string[] = [];
    await Promise.all([...activeConsumers].map((c) => c.disconnect().catch((err: unknown) => problems.push(`consumer disconnect: ${String(err)}`))));
    try {
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
      if (groups.length > 0) await admin.deleteGroups(groups).catch((err: unknown) => problems.push(`groups: ${String(err)}`));
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
      if (topics.length > 0) await admin.deleteTopics({ topics });
      log(`removed ${topics.length} topics and ${groups.length} groups under ${prefix}`);
    } catch (err) {
      problems.push(String(err));
    }
    await admin.disconnect().catch(() => undefined);
    if (problems.length > 0) console.error(`cleanup: ${problems.join('; ')}`);
  };
  const onSignal = (signal: string): void => {
    console.error(`${signal}: removing this run's topics, then exiting`);
    cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));

  try {
    log(`dataset: ${int(o.records)} records, ${int(o.customers)} customers, seed ${o.seed}`);
    const data = benchDataset(o.records, o.customers, o.seed);
    const meanValueBytes = data.raw.reduce((n, r) => n + Buffer.byteLength(r.value), 0) / data.raw.length;
    log(`  ${int(data.raw.length)} records of ${fixed(meanValueBytes, 0)} bytes on average, ${int(data.customers)} keys`);
    const runs: Run[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      const order = round % 2 === 1 ? drivers : [...drivers].reverse();
      for (const d of order) {
        const base = `${prefix}${d.name}-${round}.`;
        const plain = `${base}plain`;
        const out = `${base}tx-out`;
        await admin.createTopics({ waitForLeaders: true, topics: [plain, out].map((topic) => ({ topic, numPartitions: o.partitions, replicationFactor: 1 })) });
        const loadAverageBefore = os.loadavg().map((l) => Math.round(l * 100) / 100);
        log(`round ${round} ${d.name}: produce`);
        const produce = await plainProduce(d, plain, data.raw, o);
        log(`  ${int(produce.perSecond)} records/s; consume`);
        const consumed = await consume(d, `${base}consume`, plain, data.raw.length, o);
        log(`  ${int(consumed.perSecond)} records/s (${consumed.partitionMismatches} off kafkajs's partitioner); transactional`);
        const tx = await transactional(d, `${base}tx`, plain, out, data.raw.length, o, `${base}txid-`);
        log(`  ${int(tx.perSecond)} records/s, ${fixed(tx.transactionsPerSecond)} transactions/s`);
        runs.push({ client: d.name, round, loadAverageBefore, produce, consume: consumed, transactional: tx });
      }
    }

    const summary = Object.fromEntries(
      drivers.map((d) => {
        const mine = runs.filter((r) => r.client === d.name);
        return [
          d.name,
          {
            produceRecordsPerSecond: median(mine.map((r) => r.produce.perSecond)),
            consumeRecordsPerSecond: median(mine.map((r) => r.consume.perSecond)),
            transactionalRecordsPerSecond: median(mine.map((r) => r.transactional.perSecond)),
            transactionsPerSecond: median(mine.map((r) => r.transactional.transactionsPerSecond)),
            produceCpuMicrosPerRecord: median(mine.map((r) => r.produce.cpuMicrosPerRecord)),
            consumeCpuMicrosPerRecord: median(mine.map((r) => r.consume.cpuMicrosPerRecord)),
            transactionalCpuMicrosPerRecord: median(mine.map((r) => r.transactional.cpuMicrosPerRecord)),
            allComplete: mine.every((r) => r.consume.completed && r.transactional.completed),
            partitionMismatches: mine.reduce((n, r) => n + r.consume.partitionMismatches, 0),
          },
        ];
      }),
    );

    console.log('\nclient   round  produce/s  consume/s  tx records/s  tx/s    tx p50/p99 ms  CPU us/record (p/c/tx)  machine busy (p/c/tx)  load before');
    for (const r of runs) {
      console.log(
        [
          r.client.padEnd(8),
          String(r.round).padStart(5),
          int(r.produce.perSecond).padStart(10),
          int(r.consume.perSecond).padStart(10),
          int(r.transactional.perSecond).padStart(13),
          fixed(r.transactional.transactionsPerSecond).padStart(6),
          `${fixed(r.transactional.transactionMs.p50)}/${fixed(r.transactional.transactionMs.p99)}`.padStart(14),
          `${fixed(r.produce.cpuMicrosPerRecord)}/${fixed(r.consume.cpuMicrosPerRecord)}/${fixed(r.transactional.cpuMicrosPerRecord)}`.padStart(23),
          `${pct(r.produce.machineBusyShare)}/${pct(r.consume.machineBusyShare)}/${pct(r.transactional.machineBusyShare)}`.padStart(22),
          r.loadAverageBefore.join(' ').padStart(16),
        ].join(' '),
      );
    }
    console.log('\nmedians');
    for (const [name, s] of Object.entries(summary)) {
      console.log(`  ${name.padEnd(8)} produce ${int(s.produceRecordsPerSecond)}/s  consume ${int(s.consumeRecordsPerSecond)}/s  transactional ${int(s.transactionalRecordsPerSecond)}/s (${fixed(s.transactionsPerSecond)} tx/s)  complete ${s.allComplete}  partition mismatches ${s.partitionMismatches}`);
    }

    const stamp = startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
    const file = writeResultFiles(path.resolve(__dirname, '..', 'results'), [`client-compare-${stamp}.json`], {
      kind: 'client-compare',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      command: `npm run bench:client -- ${process.argv.slice(2).join(' ')}`.trim(),
      machine: machineInfo(),
      loadAverage: { atStart: runs[0]?.loadAverageBefore ?? null, atEnd: os.loadavg().map((l) => Math.round(l * 100) / 100) },
      brokers,
      options: o,
      clients: Object.fromEntries(drivers.map((d) => [d.name, { version: d.version, settings: d.settings }])),
      dataset: { records: data.raw.length, customers: data.customers, seed: o.seed, meanValueBytes: Math.round(meanValueBytes) },
      summary,
      kafkajsErrorLines,
      runs,
    });
    log(`wrote ${path.relative(process.cwd(), file)}`);
    return Object.values(summary).every((s) => s.allComplete && s.partitionMismatches === 0) ? 0 : 1;
  } finally {
    await cleanup();
  }
}

runMain(main);
