import type { TierChanged } from '@tierstream/domain';
import type { Logger } from '@tierstream/runtime';
import type { NotifierMetrics } from './notifier-metrics';
import { webhookBody } from './payload';
import { deliverWithRetry, type DeliveryOutcome } from './retry-delivery';
import { Semaphore } from './semaphore';
import { WebhookSigner } from './signing';
import type { LogSubscriber, Subscriber, WebhookSubscriber } from './subscribers';
import { describeUrl, postWebhook, type AttemptResult, type WebhookRequest } from './webhook-attempt';

/** Where one subscriber's changes go. */
export interface Sink {
  readonly subscriber: Subscriber;
  /** Bounds this subscriber's deliveries in flight, across the partitions being delivered. */
  readonly limit: Semaphore;
  /** Settles one delivery; throws only when aborted (the batch is then fetched again). */
  deliver(change: TierChanged, signal: AbortSignal): Promise<DeliveryOutcome>;
}

export interface SinkDeps {
  readonly logger: Logger;
  readonly metrics: NotifierMetrics;
  /** Replaceable in tests. */
  readonly post?: (request: WebhookRequest) => Promise<AttemptResult>;
  readonly now?: () => number;
}

/** One pino line per change, at info, with the whole change (personal data redacted by the logger). */
export class LogSink implements Sink {
  readonly limit = new Semaphore(Number.MAX_SAFE_INTEGER);
  private readonly logger: Logger;

  constructor(
    readonly subscriber: LogSubscriber,
    deps: SinkDeps,
  ) {
    this.logger = deps.logger.child({ component: 'notifier.log-sink', subscriber: subscriber.id });
  }

  deliver(change: TierChanged): Promise<DeliveryOutcome> {
    this.logger.info({ tierChanged: change }, `tier changed: ${change.customer_id} ${change.dimension} ${change.from_tier ?? '(none)'} -> ${change.to_tier}`);
    return Promise.resolve({ kind: 'delivered', attempts: 1 });
  }
}

/** Signed POSTs with retries; the same body on every attempt, signed afresh each time. */
export class WebhookSink implements Sink {
  readonly limit: Semaphore;
  private readonly signer: WebhookSigner;
  private readonly logger: Logger;
  private readonly post: (request: WebhookRequest) => Promise<AttemptResult>;
  private readonly now: () => number;

  constructor(
    readonly subscriber: WebhookSubscriber,
    private readonly deps: SinkDeps,
  ) {
    this.limit = new Semaphore(subscriber.concurrency);
    this.signer = new WebhookSigner(subscriber.secrets);
    this.logger = deps.logger.child({ component: 'notifier.webhook', subscriber: subscriber.id, url: describeUrl(subscriber.url) });
    this.post = deps.post ?? ((request) => postWebhook(request));
    this.now = deps.now ?? Date.now;
  }

  deliver(change: TierChanged, signal: AbortSignal): Promise<DeliveryOutcome> {
    const { subscriber } = this;
    const body = webhookBody(change);
    const id = change.transition_id;
    return deliverWithRetry(
      () =>
        this.post({
          url: subscriber.url,
          body,
          timeoutMs: subscriber.timeoutMs,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'tierstream-notifier',
            ...this.signer.sign(id, new Date(this.now()), body),
          },
        }),
      subscriber,
      {
        signal,
        onAttempt: (result) => this.deps.metrics.attempted(subscriber.id, result.label),
        onRetry: (result, attempt, delayMs) =>
          this.logger.debug({ transitionId: id, attempt, maxAttempts: subscriber.maxAttempts, delayMs, reason: result.reason }, 'webhook attempt failed, retrying'),
      },
    );
  }
}

export function createSink(subscriber: Subscriber, deps: SinkDeps): Sink {
  return subscriber.type === 'log' ? new LogSink(subscriber, deps) : new WebhookSink(subscriber, deps);
}
