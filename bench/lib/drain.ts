import { Kafka, logLevel, Partitioners, type Admin } from 'kafkajs';
import type { Redis } from '@tierstream/runtime';
import type { ProgressSample } from './stats';
import type { RawRecord } from './dataset';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const since = (fromMs: number): number => (performance.now() - fromMs) / 1000;

/** A plain kafkajs client with kafkajs's own defaults: the baseline the workers are compared with. */
export const rawKafka = (brokers: readonly string[], clientId: string): Kafka => new Kafka({ clientId, brokers: [...brokers], logLevel: logLevel.ERROR });

export interface ProduceResult {
  readonly records: number;
  readonly seconds: number;
  readonly perSecond: number;
}

/** Sends the records (key = customer id, kafkajs's DefaultPartitioner, acks all), `batch` per send, `inFlight` sends at a time. */
export async function produceRaw(kafka: Kafka, topic: string, records: readonly RawRecord[], batch = 2000, inFlight = 4): Promise<ProduceResult> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const started = performance.now();
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < records.length) {
        const from = next;
        next += batch;
        await producer.send({ topic, acks: -1, messages: records.slice(from, from + batch).map((r) => ({ key: r.key, value: r.value })) });
      }
    };
    await Promise.all(Array.from({ length: inFlight }, lane));
    const seconds = since(started);
    return { records: records.length, seconds, perSecond: records.length / seconds };
  } finally {
    await producer.disconnect();
  }
}

export interface ConsumeResult {
  readonly records: number;
  readonly expected: number;
  readonly completed: boolean;
  /** From the group join (assignment received) to the last record: the join itself excluded, the fetches included. */
  readonly seconds: number;
  readonly perSecond: number;
  /** From subscribing to the group join. */
  readonly joinSeconds: number;
  /** From the join to the first batch. */
  readonly firstBatchSeconds: number;
}

/** Reads `topic` from the beginning in a new group (read_committed, kafkajs defaults) until `expected` records have arrived. */
export async function consumeRaw(kafka: Kafka, groupId: string, topic: string, expected: number, timeoutSeconds: number): Promise<ConsumeResult> {
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  const started = performance.now();
  let joined: number | undefined;
  let firstBatch: number | undefined;
  let last = started;
  let records = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined ??= performance.now();
  });
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        firstBatch ??= performance.now();
        records += batch.messages.length;
        last = performance.now();
      },
    });
    while (records < expected && since(started) < timeoutSeconds) await sleep(20);
  } finally {
    await consumer.disconnect();
  }
  const from = joined ?? firstBatch;
  const seconds = from === undefined ? 0 : (last - from) / 1000;
  return {
    records,
    expected,
    completed: records >= expected,
    seconds,
    perSecond: seconds > 0 ? records / seconds : 0,
    joinSeconds: ((joined ?? last) - started) / 1000,
    firstBatchSeconds: joined === undefined || firstBatch === undefined ? 0 : (firstBatch - joined) / 1000,
  };
}

export interface DrainResult {
  readonly completed: boolean;
  /** Why it was not completed: time up, or no progress for the stall bound. */
  readonly stoppedBecause: string | null;
  readonly seconds: number;
  readonly samples: ProgressSample[];
}

/**
 * Polls a group's committed offsets on `topic` until every partition is at its end (on a
 * topic written in transactions the last offset is a commit marker, never consumed, so
 * `end - 1`), `stopped` says stop, or `timeoutSeconds` passed. Samples are
 * [seconds since `startedMs`, share of the end offsets committed × `total`].
 */
export async function waitForGroup(
  admin: Admin,
  o: { groupId: string; topic: string; transactional: boolean; total: number; startedMs: number; timeoutSeconds: number; stallSeconds?: number; every?: () => void; log?: (line: string) => void },
): Promise<DrainResult> {
  const samples: ProgressSample[] = [[0, 0]];
  let lastLog = 0;
  let lastDone = 0;
  let lastProgress = 0;
  for (;;) {
    o.every?.();
    const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(o.topic), admin.fetchOffsets({ groupId: o.groupId, topics: [o.topic] })]);
    const at = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Math.max(0, Number(p.offset))]));
    let endSum = 0;
    let doneSum = 0;
    let behind = false;
    for (const e of ends) {
      const end = Number(e.high);
      const target = o.transactional && end > 0 ? end - 1 : end;
      const mine = Math.min(at.get(e.partition) ?? 0, target);
      endSum += target;
      doneSum += mine;
      if (mine < target) behind = true;
    }
    const t = since(o.startedMs);
    const done = endSum > 0 ? Math.round((doneSum / endSum) * o.total) : 0;
    samples.push([Math.round(t * 1000) / 1000, done]);
    if (o.log && t - lastLog >= 10) {
      lastLog = t;
      o.log(`    ${t.toFixed(0).padStart(5)} s  ${done.toLocaleString('en-US').padStart(11)} of ${o.total.toLocaleString('en-US')}  ${Math.round(done / t).toLocaleString('en-US')}/s`);
    }
    if (done > lastDone) {
      lastDone = done;
      lastProgress = t;
    }
    if (!behind && endSum > 0) return { completed: true, stoppedBecause: null, seconds: t, samples };
    if (t >= o.timeoutSeconds) return { completed: false, stoppedBecause: `time up after ${o.timeoutSeconds} s`, seconds: t, samples };
    if (o.stallSeconds !== undefined && t - lastProgress >= o.stallSeconds) return { completed: false, stoppedBecause: `stalled: nothing committed for ${o.stallSeconds} s (see the worker log)`, seconds: t, samples };
    await sleep(200);
  }
}

/**
 * Group joins and evictions in a worker log: kafkajs's 'Consumer has joined the group' lines
 * (info, which the runtime's client logs only below warn, so often none) and its warning
 * 'The coordinator is not aware of this member' (an eviction).
 */
export function rejoinsInLog(text: string, groupId: string): { joins: number; evictions: number } {
  let joins = 0;
  let evictions = 0;
  for (const line of text.split('\n')) {
    if (line.includes('Consumer has joined the group') && line.includes(groupId)) joins++;
    if (line.includes('The coordinator is not aware of this member')) evictions++;
  }
  return { joins, evictions };
}

/** Counts a gauge's falls from 1 to 0 (tierstream_consumer_up: 0 while the member joins again). */
export class UpDrops {
  drops = 0;
  private last: number | undefined;

  see(value: number): void {
    if (this.last === 1 && value === 0) this.drops++;
    this.last = value;
  }
}

export interface Rejoins {
  /** The most any of the signals below says. */
  readonly rejoins: number;
  readonly logJoins: number;
  readonly evictions: number;
  readonly memberIds: number;
  readonly consumerUpDrops: number;
}

/**
 * Re-joins after the first join, from whatever shows them: join lines in the log less the
 * first, evictions logged, member ids beyond the first (an evicted member comes back under a
 * new one), and falls of consumer_up to 0 seen while sampling.
 */
export function rejoins(log: { joins: number; evictions: number }, memberIds: number, consumerUpDrops: number): Rejoins {
  return {
    rejoins: Math.max(log.joins - 1, log.evictions, memberIds - 1, consumerUpDrops, 0),
    logJoins: log.joins,
    evictions: log.evictions,
    memberIds,
    consumerUpDrops,
  };
}

export interface KeyBytes {
  readonly keys: number;
  readonly sampled: number;
  /** MEMORY USAGE (SAMPLES 0: every element) summed over the sample, scaled to all keys. */
  readonly bytes: number;
}

/** The memory of the keys under `match`: every key counted by SCAN, MEMORY USAGE of an even sample of at most `sample`. */
export async function keyBytes(redis: Redis, match: string, sample = 20_000): Promise<KeyBytes> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 10_000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  if (keys.length === 0) return { keys: 0, sampled: 0, bytes: 0 };
  const step = Math.max(1, Math.floor(keys.length / sample));
  const picked = keys.filter((_, i) => i % step === 0);
  let sum = 0;
  for (let i = 0; i < picked.length; i += 1000) {
    const pipeline = redis.pipeline();
    for (const k of picked.slice(i, i + 1000)) pipeline.call('MEMORY', 'USAGE', k, 'SAMPLES', '0');
    for (const [err, n] of (await pipeline.exec()) ?? []) {
      if (err) throw err;
      sum += Number(n ?? 0);
    }
  }
  return { keys: keys.length, sampled: picked.length, bytes: (sum / picked.length) * keys.length };
}
