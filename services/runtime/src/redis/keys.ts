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

  /** The notifier's record that a transition was delivered to a subscriber. */
  delivered(subscriber: string, transitionId: string): string {
    return `${this.namespace}ts:{d:${subscriber}}:${transitionId}`;
  }
}
