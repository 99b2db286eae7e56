import { createHash, randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import Redis from 'ioredis';
import { COMMAND_TYPES, type CustomerEventRecord, type TierChanged } from '@tierstream/domain';
import { CustomerStore, topicNames, type DeadLetter, type SchemaRegistry } from '@tierstream/runtime';
import { endOffsets } from '../../services/cli/src/demo/consumer-lag';
import type { ObservedTransition, RunOutcome } from './invariants';
import type { RecordingReceiver } from './recording-receiver';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** JSON with keys sorted at every level, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/**
 * Every record of a topic, read_committed, from the beginning to the end offsets of now:
 * a partition is done when its last record was seen, or the one before it and nothing more
 * came for a moment (the last is then a commit marker), or when nothing at all arrived for
 * `idleMs` (an aborted transaction at the end).
 */
export async function readTopic(kafka: Kafka, admin: Admin, topic: string, idleMs = 5_000): Promise<Buffer[]> {
  const end = await endOffsets(admin, topic);
  const waiting = new Map([...end].filter(([, high]) => high > 0));
  const out: Buffer[] = [];
  if (waiting.size === 0) return out;
  const consumer = kafka.consumer({ groupId: `chaos-read-${randomUUID()}`, maxWaitTimeInMs: 250, maxBytesPerPartition: 4 * 1_048_576 });
  let lastArrival = Date.now();
  const nearlyAt = new Map<number, number>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) if (m.value) out.push(m.value);
        lastArrival = Date.now();
        const high = waiting.get(batch.partition);
        const last = Number(batch.lastOffset());
        if (high !== undefined && last >= high - 1) waiting.delete(batch.partition);
        else if (high !== undefined && last >= high - 2) nearlyAt.set(batch.partition, Date.now());
      },
    });
    while (waiting.size > 0 && Date.now() - lastArrival < idleMs) {
      for (const [p, at] of nearlyAt) if (Date.now() - at >= 1_500) waiting.delete(p);
      await sleep(100);
    }
    return out;
  } finally {
    await consumer.disconnect();
  }
}

function transitionOf(t: TierChanged): ObservedTransition {
  // emitted_at is the wall clock of scoring; everything else follows from the events.
  const { emitted_at: _wallClock, ...rest } = t;
  return { transitionId: t.transition_id, customerId: t.customer_id, dimension: t.dimension, tierVersion: t.tier_version, toTier: t.to_tier, content: canonicalJson(rest) };
}

function deadLetterKey(l: DeadLetter): string {
  const source = l.event_id ?? `sha1:${createHash('sha1').update(l.original_value ?? Buffer.alloc(0)).digest('hex')}`;
  return `${source}|${l.error_code}`;
}

async function decodeAll<T>(registry: SchemaRegistry, values: readonly Buffer[]): Promise<T[]> {
  const out: T[] = [];
  for (const v of values) out.push((await registry.decode(v)) as T);
  return out;
}

const COMMANDS: ReadonlySet<string> = new Set(COMMAND_TYPES);

/** Reads back what a run left: canonical events, transitions, dead letters, Redis state, deliveries. */
export async function collectOutcome(kafka: Kafka, admin: Admin, registry: SchemaRegistry, redisUrl: string, namespace: string, customers: readonly string[], receiver: RecordingReceiver): Promise<RunOutcome> {
  const topics = topicNames(namespace);
  const events = await decodeAll<CustomerEventRecord>(registry, await readTopic(kafka, admin, topics.events));
  const changes = await decodeAll<TierChanged>(registry, await readTopic(kafka, admin, topics.tierChanged));
  const letters = await decodeAll<DeadLetter>(registry, await readTopic(kafka, admin, topics.eventsDlq));
  const notifierLetters = await decodeAll<DeadLetter>(registry, await readTopic(kafka, admin, topics.tierChangedDlq));
  const redis = new Redis(redisUrl);
  const customerState = new Map<string, string>();
  try {
    const store = new CustomerStore(redis, namespace);
    for (let i = 0; i < customers.length; i += 1000) {
      for (const c of await store.load(customers.slice(i, i + 1000))) if (c.record) customerState.set(c.customerId, canonicalJson(c.record.state));
    }
  } finally {
    redis.disconnect();
  }
  return {
    canonicalEventIds: events.filter((e) => !COMMANDS.has(e.type)).map((e) => e.event_id),
    transitions: changes.map(transitionOf),
    customerState,
    deadLetters: letters.map(deadLetterKey),
    notifierDeadLetters: notifierLetters.map(deadLetterKey),
    deliveries: receiver.deliveries,
    unverifiedDeliveries: receiver.unverified,
  };
}
