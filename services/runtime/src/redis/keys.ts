/**
 * Every Redis key tierstream uses comes from here. One customer's keys share the hash
 * tag `{c:<id>}`, so every script touches one slot and runs unchanged on Redis Cluster.
 */
export class RedisKeys {
  constructor(private readonly namespace = '') {}

  /** The customer's applied-offset fence and state: a string, `<fence>|<record bytes>` (customer-store.ts). */
  customerRecord(customerId: string): string {
    return `${this.namespace}ts:{c:${customerId}}:record`;
  }

  /** The transitions and rejections of the customer's last batch while it may be replayed: `<batch token>|<bytes>`. */
  customerPending(customerId: string): string {
    return `${this.namespace}ts:{c:${customerId}}:pending`;
  }

  /**
   * The customer as releases before the string layout kept it: a hash (`fence`, `record`,
   * `pending`, `pbatch`). Read while the customer has no record key, deleted by its first write.
   */
  customerStateHash(customerId: string): string {
    return `${this.namespace}ts:{c:${customerId}}:state`;
  }

  /** The event ids ingest remembers for this customer: settled entries and open claims, packed (services/ingest/src/dedupe.ts). */
  customerSeen(customerId: string): string {
    return `${this.namespace}ts:{c:${customerId}}:seen`;
  }

  /**
   * The dedupe marker of one event id as ingest wrote it before the per-customer layout:
   * read, never written, for one dedupe horizon after the upgrade.
   */
  eventSeen(eventId: string): string {
    return `${this.namespace}ts:{e:${eventId}}:seen`;
  }

  /** When this namespace's ingest first ran with the per-customer dedupe layout (ms). */
  dedupeLayoutSince(): string {
    return `${this.namespace}ts:dedupe:layout-since`;
  }

  /**
   * One input partition's clock: watermark after each recent batch (by its last offset) and
   * the customers each batch re-evaluated, so a replayed batch sees the same time.
   */
  partitionClock(topic: string, partition: number): string {
    return `${this.namespace}ts:{p:${topic}:${partition}}:clock`;
  }

  /** Due-time index of one input partition's customers (sorted set: customer → due event time). */
  dueIndex(topic: string, partition: number): string {
    return `${this.namespace}ts:{p:${topic}:${partition}}:due`;
  }

  /** The notifier's record that a transition was delivered to a subscriber. */
  delivered(subscriber: string, transitionId: string): string {
    return `${this.namespace}ts:{d:${subscriber}}:${transitionId}`;
  }
}
