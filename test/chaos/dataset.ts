import { Partitioners } from 'kafkajs';
import type { CustomerEvent } from '@tierstream/domain';
import { generatePopulation } from '../../services/cli/src/demo/population';
import { badRecords, isoCst, toUpstreamJson } from '../../services/cli/src/demo/upstream-json';

/** Events per customer the demo population averages (a year of activity). */
const EVENTS_PER_CUSTOMER = 6.43;

export interface RawRecord {
  readonly key: string;
  readonly value: string;
}

/** One step of the feed, in event-time order: records for customer.events.raw and a body for POST /v1/events. */
export interface FeedChunk {
  readonly kafka: readonly RawRecord[];
  readonly http: readonly Record<string, unknown>[];
}

export interface Dataset {
  readonly chunks: readonly FeedChunk[];
  readonly customers: readonly string[];
  /** Distinct events of the population (what ingest should accept). */
  readonly events: number;
  /** Records and body entries sent in all, duplicates and bad ones included. */
  readonly records: number;
  readonly lastEventTime: number;
}

const CHUNK = 500;

/** The partition ingest's producer (DefaultPartitioner, murmur2 of the key) sends a customer's events to. */
export function partitionOf(customerId: string, partitions: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
  return partitioner({ topic: 'customer.events.v1', partitionMetadata, message: { key: customerId, value: null } });
}

/**
 * A seeded population (services/cli demo) as upstream JSON: the customers of the first of
 * `partitions` partitions (a tenth with 10) go by POST /v1/events, the rest to
 * customer.events.raw. A partition of customer.events.v1 is fed by one path only, in
 * one order whatever the faults do: scoring's watermark, and so the transitions, then
 * depend on the data alone, and a fault run can be compared with a fault-free one. Midway
 * a few bad records (both paths) and, at the end, duplicates of earlier events (both paths).
 */
export function chaosDataset(events: number, seed: number, partitions: number, idPrefix = 'k-'): Dataset {
  const customers = Math.max(10, Math.round(events / EVENTS_PER_CUSTOMER));
  const population = generatePopulation({ customers, days: 365, start: Date.UTC(2025, 10, 1), seed, idPrefix });
  const ids = [...new Set(population.events.map((e) => e.customer_id))].sort();
  const viaHttp = new Set(ids.filter((id) => partitionOf(id, partitions) === 0));
  const chunks: FeedChunk[] = [];
  const all = population.events;
  const asRecord = (e: CustomerEvent): RawRecord => ({ key: e.customer_id, value: JSON.stringify(toUpstreamJson(e)) });
  const middle = Math.floor(all.length / CHUNK / 2) * CHUNK;
  let records = 0;
  for (let i = 0; i < all.length; i += CHUNK) {
    const slice = all.slice(i, i + CHUNK);
    const kafka = slice.filter((e) => !viaHttp.has(e.customer_id)).map(asRecord);
    const http = slice.filter((e) => viaHttp.has(e.customer_id)).map(toUpstreamJson);
    if (i === middle) {
      const at = slice[0]?.event_time ?? Date.UTC(2026, 5, 1);
      kafka.push(...badRecords(idPrefix, at).map((b) => ({ key: b.key, value: b.value })));
      http.push(...httpBadEvents(idPrefix, at));
    }
    records += kafka.length + http.length;
    chunks.push({ kafka, http });
  }
  // Resent by a careless upstream: ingest must drop them as duplicates.
  const kafkaDuplicates = all.filter((e) => !viaHttp.has(e.customer_id)).slice(-25).map(asRecord);
  const httpDuplicates = all.filter((e) => viaHttp.has(e.customer_id)).slice(-25).map(toUpstreamJson);
  chunks.push({ kafka: kafkaDuplicates, http: httpDuplicates });
  records += kafkaDuplicates.length + httpDuplicates.length;
  return { chunks, customers: ids, events: all.length, records, lastEventTime: Math.max(...all.map((e) => e.event_time)) };
}

/** Events that POST /v1/events rejects into the DLQ (202 with `rejected`). */
function httpBadEvents(prefix: string, at: number): Record<string, unknown>[] {
  const base = (n: number) => ({ event_id: `${prefix}httpbad${n}`, customer_id: `${prefix}c00000`, type: 'order', occurred_at: isoCst(at) });
  return [
    { ...base(1), order: { order_id: 'h1', amount: '12.00', currency: 'ZZZ' } },
    { ...base(2), order: { order_id: 'h2', amount: '-3.00', currency: 'CNY' } },
    { ...base(3), type: 'teleport' },
  ];
}
