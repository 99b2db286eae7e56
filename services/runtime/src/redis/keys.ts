/**
 * Every Redis key tierstream uses comes from here. One customer's keys share the hash
 * tag `{c:<id>}`, so every script touches one slot and runs unchanged on Redis Cluster.
 */
export class RedisKeys {
  constructor(private readonly namespace = '') {}

  /** The customer's whole state (aggregates, tiers, fence, pending transitions). */
  customerState(customerId: string): string {
    return `${this.namespace}ts:{c:${customerId}}:state`;
  }

  /** Ingest's dedupe marker of one event id, kept for the dedupe horizon. */
  eventSeen(eventId: string): string {
    return `${this.namespace}ts:{e:${eventId}}:seen`;
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
