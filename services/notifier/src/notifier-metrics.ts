import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AttemptLabel } from './webhook-attempt';

/** How a delivery to one subscriber ended; `skipped` was delivered before (remembered in Redis or twice in a batch). */
export type DeliveryOutcomeLabel = 'delivered' | 'skipped' | 'rejected' | 'exhausted';

/** The notifier's own metrics, beside WorkerMetrics on the worker's registry. */
export class NotifierMetrics {
  readonly deliveries: Counter<'subscriber' | 'outcome'>;
  readonly attempts: Counter<'subscriber' | 'result'>;
  readonly deliveryDuration: Histogram<'subscriber' | 'outcome'>;
  readonly deliveryLag: Histogram<'subscriber'>;
  readonly inFlight: Gauge<'subscriber'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.deliveries = new Counter({
      name: 'tierstream_notifier_deliveries_total',
      help: 'Tier changes settled per subscriber, by outcome (delivered, skipped, rejected, exhausted)',
      labelNames: ['subscriber', 'outcome'],
      registers,
    });
    this.attempts = new Counter({
      name: 'tierstream_notifier_delivery_attempts_total',
      help: 'Webhook attempts per subscriber, by result (2xx, 3xx, 4xx, 5xx, timeout, network)',
      labelNames: ['subscriber', 'result'],
      registers,
    });
    this.deliveryDuration = new Histogram({
      name: 'tierstream_notifier_delivery_duration_seconds',
      help: 'From the first attempt of a delivery to its settling, retries included',
      labelNames: ['subscriber', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.deliveryLag = new Histogram({
      name: 'tierstream_notifier_delivery_lag_seconds',
      help: "From a transition's emitted_at to its successful delivery",
      labelNames: ['subscriber'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    });
    this.inFlight = new Gauge({ name: 'tierstream_notifier_in_flight', help: 'Deliveries in progress per subscriber', labelNames: ['subscriber'], registers });
  }

  attempted(subscriber: string, result: AttemptLabel): void {
    this.attempts.inc({ subscriber, result });
  }
}
