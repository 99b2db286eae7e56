import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The Prometheus metrics every worker exposes on /metrics; one registry per worker. */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly eventsIn: Counter<'topic'>;
  readonly eventsOut: Counter<'topic'>;
  readonly deadLetters: Counter<'reason'>;
  readonly batchDuration: Histogram<'topic'>;
  readonly consumerLag: Gauge<'topic' | 'partition'>;

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
  }
}
