import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The Prometheus metrics every worker exposes on /metrics; one registry per worker. */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly eventsIn: Counter<'topic'>;
  readonly eventsOut: Counter<'topic'>;
  readonly deadLetters: Counter<'reason'>;
  readonly batchDuration: Histogram<'topic'>;
  readonly consumerLag: Gauge<'topic' | 'partition'>;
  readonly consumerUp: Gauge<'group'>;
  /**
   * Each consumer group's own word on itself, by group id: undefined while it consumes, else
   * why not (joining, crashed and restarting, stopped). /readyz reads it; consumers write it
   * through reportConsumer, since every worker hands its consumers these metrics.
   */
  private readonly consumers = new Map<string, string | undefined>();

  constructor(worker: string) {
    this.registry.setDefaultLabels({ worker });
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.eventsIn = new Counter({ name: 'tierstream_events_in_total', help: 'Records consumed or accepted', labelNames: ['topic'], registers });
    this.eventsOut = new Counter({ name: 'tierstream_events_out_total', help: 'Records produced', labelNames: ['topic'], registers });
    this.deadLetters = new Counter({ name: 'tierstream_dead_letters_total', help: 'Records sent to a DLQ, by reason code', labelNames: ['reason'], registers });
    this.batchDuration = new Histogram({
      name: 'tierstream_batch_duration_seconds',
      help: 'Time to process one consumed batch',
      labelNames: ['topic'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.consumerLag = new Gauge({ name: 'tierstream_consumer_lag', help: 'Offset lag of the last batch per partition', labelNames: ['topic', 'partition'], registers });
    this.consumerUp = new Gauge({ name: 'tierstream_consumer_up', help: '1 while the consumer group member consumes, 0 while it joins, restarts or stopped', labelNames: ['group'], registers });
  }

  /** Records whether a consumer consumes (`problem` undefined) or why not. */
  reportConsumer(groupId: string, problem: string | undefined): void {
    this.consumers.set(groupId, problem);
    this.consumerUp.set({ group: groupId }, problem === undefined ? 1 : 0);
  }

  /** Why consumers do not consume, by group id; empty when all do (or there are none). */
  consumerProblems(): Record<string, string> {
    return Object.fromEntries([...this.consumers].flatMap(([group, problem]) => (problem === undefined ? [] : [[group, problem]])));
  }
}
