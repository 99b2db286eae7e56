import { Partitioners, type Consumer, type Kafka, type Producer } from 'kafkajs';
import type { CustomerEventRecord, TierChanged } from '@tierstream/domain';
import type { AvroCodec } from '@tierstream/runtime';
import { newCustomerOrders } from './dataset';
import { keptUp, LatencyRecorder, offeredBy, type LatencySummary } from './stats';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const MAX_IN_FLIGHT = 8;
const PACE_MS = 5;

interface Pending {
  readonly eventId: string;
  ackAt?: number;
  seenAt?: number;
}


export interface LatencyRun {
  readonly offeredPerSecond: number;
  readonly seconds: number;
  readonly events: number;
  readonly sent: number;
  /** Events/s actually sent: below the offer when the producer itself fell behind. */
  readonly sentPerSecond: number;
  readonly acked: number;
  readonly seen: number;
  /** Events whose transition was not seen within the drain bound. */
  readonly missing: number;
  /** A transition whose cause_event_id was not the event its customer was sent. */
  readonly mismatched: number;
  /** Transitions seen per second, from the first transition seen to the last. */
  readonly seenPerSecond: number;
  /**
   * The pipeline kept up with the offer: all sent at the rate, every transition seen, and
   * seen at 95% of the rate or more. When false the percentiles measure a growing backlog
   * (and, with events not seen, only the events seen: a lower bound).
   */
  readonly keptUp: boolean;
  readonly latency: LatencySummary;
}

/**
 * Watches customer.tier-changed.v1 (read_committed, from its end) for the first transition
 * of each customer offered, and times each event from its produce acknowledgement to that.
 */
export class LatencyProbe {
  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  private byCustomer = new Map<string, Pending>();
  private recorder = new LatencyRecorder();
  private mismatched = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
    private readonly topics: { readonly events: string; readonly tierChanged: string },
    private readonly eventCodec: AvroCodec<CustomerEventRecord>,
    private readonly changeCodec: AvroCodec<TierChanged>,
  ) {}

  async start(): Promise<void> {
    this.producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await this.producer.connect();
    const consumer = this.kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: 10 });
    this.consumer = consumer;
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topics.tierChanged], fromBeginning: false });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const now = performance.now();
        for (const m of batch.messages) {
          const p = m.key ? this.byCustomer.get(m.key.toString()) : undefined;
          if (!p || p.seenAt !== undefined || !m.value) continue;
          const change = await this.changeCodec.decode(m.value);
          if (change.cause_event_id !== p.eventId) {
            this.mismatched++;
            continue;
          }
          p.seenAt = now;
          if (p.ackAt !== undefined) this.recorder.record(now - p.ackAt);
        }
      },
    });
    await joined;
    // The group's position is taken at its first fetch: give it one before the first event.
    await sleep(1000);
  }

  /** Offers `rate` events/s of new customers for `seconds`, then waits up to `drainSeconds` for their transitions. */
  async run(prefix: string, rate: number, seconds: number, drainSeconds: number, eventTime: number, log: (line: string) => void): Promise<LatencyRun> {
    const producer = this.producer;
    if (!producer) throw new Error('LatencyProbe.start() first');
    const events = newCustomerOrders(prefix, rate * seconds, eventTime);
    const encoded = await Promise.all(events.map(async (e) => ({ key: e.customer_id, value: await this.eventCodec.encode({ ...e, override: null }) })));
    this.byCustomer = new Map(events.map((e) => [e.customer_id, { eventId: e.event_id }]));
    this.recorder = new LatencyRecorder();
    this.mismatched = 0;
    const pending = [...this.byCustomer.values()];
    let sent = 0;
    let acked = 0;
    let inFlight = 0;
    let failure: Error | undefined;
    const started = performance.now();
    while (sent < encoded.length && performance.now() - started < seconds * 1000 + 2000 && !failure) {
      const due = offeredBy(rate, performance.now() - started, encoded.length);
      if (due > sent && inFlight < MAX_IN_FLIGHT) {
        const from = sent;
        const to = Math.min(due, from + 1000);
        sent = to;
        inFlight++;
        producer.send({ topic: this.topics.events, acks: -1, messages: encoded.slice(from, to) }).then(
          () => {
            const now = performance.now();
            for (let i = from; i < to; i++) {
              const p = pending[i] as Pending;
              p.ackAt = now;
              if (p.seenAt !== undefined) this.recorder.record(p.seenAt - now);
            }
            acked += to - from;
            inFlight--;
          },
          (err: unknown) => {
            failure = err instanceof Error ? err : new Error(String(err));
            inFlight--;
          },
        );
      }
      await sleep(PACE_MS);
    }
    const sendSeconds = (performance.now() - started) / 1000;
    while (inFlight > 0) await sleep(PACE_MS);
    if (failure) throw failure;
    const drainFrom = performance.now();
    const seen = (): number => pending.filter((p) => p.seenAt !== undefined).length;
    while (seen() < sent && performance.now() - drainFrom < drainSeconds * 1000) await sleep(50);
    const seenCount = seen();
    const sentPerSecond = sent / sendSeconds;
    // Over the span of the transitions seen, as the offer spans its sends: a pipeline that keeps up sees them at the offered rate.
    let firstSeen = Number.POSITIVE_INFINITY;
    let lastSeen = 0;
    for (const p of pending) {
      if (p.seenAt === undefined) continue;
      firstSeen = Math.min(firstSeen, p.seenAt);
      lastSeen = Math.max(lastSeen, p.seenAt);
    }
    const span = lastSeen > firstSeen ? (lastSeen - firstSeen) / 1000 : 0;
    const seenPerSecond = span > 0 ? seenCount / span : 0;
    const counts = { offeredPerSecond: rate, events: encoded.length, sent, sentPerSecond, seen: seenCount, seenPerSecond };
    const kept = keptUp(counts);
    const latency = this.recorder.summary();
    log(
      `    ${rate}/s offered for ${seconds} s: ${sent} sent (${Math.round(sentPerSecond)}/s), ${seenCount} transitions seen (${Math.round(seenPerSecond)}/s); p50 ${latency.p50Ms?.toFixed(0) ?? 'n/a'} ms, p99 ${latency.p99Ms?.toFixed(0) ?? 'n/a'} ms${kept ? '' : ' (did NOT keep up)'}`,
    );
    return { ...counts, seconds, acked, missing: sent - seenCount, mismatched: this.mismatched, keptUp: kept, latency };
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
  }
}
