import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { CustomerStore, encodeCustomerRecord, RedisKeys, type CustomerRecord, type CustomerWrite, type Redis } from '@tierstream/runtime';
import type { Template } from './templates';

export interface SeedPlan {
  readonly namespace: string;
  /** The events topic: customers' due-index entries go to the partition their key maps to. */
  readonly topic: string;
  readonly partitions: number;
  readonly customers: number;
  readonly templates: readonly Template[];
  readonly dueTime: number;
  /** Customers per pipeline (one round trip). */
  readonly chunk: number;
}

export interface SeedResult {
  readonly customers: number;
  readonly seconds: number;
  readonly customersPerSecond: number;
  readonly recordBytes: { readonly mean: number; readonly min: number; readonly max: number };
  /** Customers per partition of the events topic. */
  readonly perPartition: number[];
}

/** The i-th seeded customer's id: `c0000042`. */
export const customerId = (i: number, total: number): string => `c${String(i).padStart(Math.max(7, String(total - 1).length), '0')}`;

/** The partition kafkajs's DefaultPartitioner (murmur2 of the key, as the Java client) gives a key. */
export function partitionerFor(topic: string, partitions: number): (key: string) => number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata: PartitionMetadata[] = Array.from({ length: partitions }, (_, partitionId) => ({ partitionErrorCode: 0, partitionId, leader: 0, replicas: [0], isr: [0] }));
  return (key) => partitioner({ topic, partitionMetadata, message: { key, value: null } });
}

/**
 * Writes the customers as the scoring worker would have left them: each record through the
 * worker's own CustomerStore (its commit script, the current record format and key layout, `ts:{c:<id>}:record`),
 * fence `<partition>:0`, and an entry in its partition's due-time index at `dueTime`.
 * `chunk` customers per call, the next chunk built while Redis runs the last one.
 */
export async function seedCustomers(redis: Redis, plan: SeedPlan, signal: AbortSignal, progress: (line: string) => void): Promise<SeedResult> {
  const store = new CustomerStore(redis, plan.namespace);
  const keys = new RedisKeys(plan.namespace);
  const partitionOf = partitionerFor(plan.topic, plan.partitions);
  const perPartition = new Array<number>(plan.partitions).fill(0);
  let bytes = 0;
  let min = Number.MAX_SAFE_INTEGER;
  let max = 0;

  const runChunk = (from: number, to: number): Promise<Error | undefined> => {
    const writes: CustomerWrite[] = [];
    const due = new Map<number, (string | number)[]>();
    for (let i = from; i < to; i++) {
      const id = customerId(i, plan.customers);
      const template = plan.templates[i % plan.templates.length] as Template;
      const record = JSON.parse(template.parts.join(id)) as CustomerRecord;
      const partition = partitionOf(id);
      perPartition[partition] = (perPartition[partition] ?? 0) + 1;
      // Sizes as stored (record and pending fields): measured on a sample, encoding twice is not free at a million.
      if (i % 100 === 0) {
        const stored = encodeCustomerRecord(record);
        const size = stored.record.length + (stored.pending?.length ?? 0);
        bytes += size * Math.min(100, to - i);
        if (size < min) min = size;
        if (size > max) max = size;
      }
      writes.push({ customerId: id, expectedFence: '', newFence: `${partition}:0`, record });
      const entries = due.get(partition) ?? [];
      entries.push(plan.dueTime, id);
      due.set(partition, entries);
    }
    const pipeline = redis.pipeline();
    for (const [partition, entries] of due) pipeline.zadd(keys.dueIndex(plan.topic, partition), ...entries);
    // A fence conflict means the namespace held the customer already.
    return Promise.all([store.commit(writes), pipeline.exec()]).then(
      ([, results]) => (results ?? []).find(([err]) => err)?.[0] ?? undefined,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
  };

  const started = process.hrtime.bigint();
  let inFlight: Promise<Error | undefined> | undefined;
  let nextReport = 0.1;
  for (let from = 0; from < plan.customers; from += plan.chunk) {
    if (signal.aborted) throw new Error('interrupted while seeding');
    const running = runChunk(from, Math.min(plan.customers, from + plan.chunk));
    const error = await inFlight;
    if (error) throw error;
    inFlight = running;
    const done = Math.min(plan.customers, from + plan.chunk);
    if (done / plan.customers >= nextReport && done < plan.customers) {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      progress(`seeded ${done.toLocaleString('en-US')} (${Math.round(done / seconds).toLocaleString('en-US')}/s)`);
      nextReport += 0.1;
    }
  }
  const error = await inFlight;
  if (error) throw error;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    customers: plan.customers,
    seconds,
    customersPerSecond: plan.customers / seconds,
    recordBytes: { mean: bytes / plan.customers, min, max },
    perPartition,
  };
}
