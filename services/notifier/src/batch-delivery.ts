import type { TierChanged } from '@tierstream/domain';
import { deadLetterOf, type BatchContext, type DeadLetter, type ErrorCode, type Logger } from '@tierstream/runtime';
import type { DeliveryKey } from './delivery-memory';
import { matchesFilter } from './filter';
import type { NotifierMetrics } from './notifier-metrics';
import { abortReason, DeliveryAbortedError, type DeliveryOutcome } from './retry-delivery';
import type { Sink } from './sinks';
import type { Decoded } from './tier-changed-decoder';

type Message = BatchContext['messages'][number];

/** One change for one subscriber. */
interface Job {
  readonly sink: Sink;
  readonly change: TierChanged;
  readonly message: Message;
}

export interface BatchDeliveryDeps {
  readonly sinks: readonly Sink[];
  readonly decoder: { decode(value: Buffer): Promise<Decoded> };
  readonly memory: {
    delivered(items: readonly DeliveryKey[]): Promise<boolean[]>;
    remember(item: DeliveryKey, deliveredAt: number): Promise<void>;
  };
  readonly deadLetters: { publish(letters: readonly DeadLetter[]): Promise<void> };
  readonly metrics: NotifierMetrics;
  readonly logger: Logger;
  /** Aborted when the worker stops: pending retries are left and the batch is not committed. */
  readonly stopping: AbortSignal;
  readonly now?: () => number;
  /** How often to heartbeat and check the partition is still ours during a batch. */
  readonly keepAliveMs?: number;
}

const keyOf = (subscriber: string, transitionId: string): string => `${subscriber}\u0000${transitionId}`;

/**
 * Delivers one consumed batch to every subscriber whose filter matches, and returns only
 * when every delivery settled: delivered (then remembered in Redis), skipped (remembered
 * already, or the same transition earlier in the batch), or dead-lettered (refused, retries
 * exhausted, undecodable). Dead letters are published before returning; any failure
 * throws, so the batch is not committed and is fetched again.
 *
 * One subscriber receives one customer's changes in offset order; different customers
 * are delivered in parallel up to the subscriber's concurrency.
 */
export class BatchDelivery {
  private readonly now: () => number;

  constructor(private readonly deps: BatchDeliveryDeps) {
    this.now = deps.now ?? Date.now;
  }

  async handle(batch: BatchContext): Promise<void> {
    const { stopping } = this.deps;
    if (stopping.aborted) throw abortReason(stopping);
    const abort = new AbortController();
    const leave = (reason: unknown): void => {
      if (!abort.signal.aborted) abort.abort(reason);
    };
    const onStop = (): void => leave(new DeliveryAbortedError('the notifier is stopping; the batch will be fetched again'));
    stopping.addEventListener('abort', onStop, { once: true });
    const keepAlive = this.keepAlive(batch, leave);
    try {
      const letters: DeadLetter[] = [];
      const jobs = await this.plan(batch, letters);
      const pending = await this.skipDelivered(jobs);
      await this.deliverAll(batch, pending, letters, abort.signal, leave);
      if (abort.signal.aborted) throw abortReason(abort.signal);
      await this.deps.deadLetters.publish(letters);
    } finally {
      clearInterval(keepAlive);
      stopping.removeEventListener('abort', onStop);
    }
  }

  /** Keeps group membership during long batches; leaves the batch when the partition is no longer ours. */
  private keepAlive(batch: BatchContext, leave: (reason: unknown) => void): NodeJS.Timeout {
    let beating = false;
    const timer = setInterval(() => {
      if (!batch.isRunning()) return leave(new DeliveryAbortedError(`partition ${batch.topic}[${batch.partition}] was revoked or the consumer is stopping`));
      if (beating) return;
      beating = true;
      // A rebalance surfaces here: its own error is thrown so the consumer rejoins.
      batch
        .heartbeat()
        .catch((err: unknown) => leave(err))
        .finally(() => (beating = false));
    }, this.deps.keepAliveMs ?? 1000);
    timer.unref();
    return timer;
  }

  /** Decodes the batch and pairs each change with the subscribers that want it. */
  private async plan(batch: BatchContext, letters: DeadLetter[]): Promise<Job[]> {
    const jobs: Job[] = [];
    for (const message of batch.messages) {
      if (message.value === null) continue; // a tombstone: nothing to announce
      const decoded = await this.deps.decoder.decode(message.value);
      if (!decoded.ok) {
        this.deps.logger.warn({ topic: batch.topic, partition: batch.partition, offset: message.offset, reason: decoded.reason }, 'undecodable tier change dead-lettered');
        letters.push(this.letter(batch, message, undefined, 'TS_ERR_NOTIFIER_UNDECODABLE', `the record ${decoded.reason}`));
        continue;
      }
      for (const sink of this.deps.sinks) if (matchesFilter(sink.subscriber.filter, decoded.change)) jobs.push({ sink, change: decoded.change, message });
    }
    return jobs;
  }

  /** Drops repeats within the batch and what was delivered before (one Redis round trip). */
  private async skipDelivered(jobs: readonly Job[]): Promise<Job[]> {
    const seen = new Set<string>();
    const unique: Job[] = [];
    for (const job of jobs) {
      const key = keyOf(job.sink.subscriber.id, job.change.transition_id);
      if (seen.has(key)) this.deps.metrics.deliveries.inc({ subscriber: job.sink.subscriber.id, outcome: 'skipped' });
      else unique.push(job);
      seen.add(key);
    }
    const done = await this.deps.memory.delivered(unique.map((j) => ({ subscriber: j.sink.subscriber.id, transitionId: j.change.transition_id })));
    return unique.filter((job, i) => {
      if (done[i]) this.deps.metrics.deliveries.inc({ subscriber: job.sink.subscriber.id, outcome: 'skipped' });
      return !done[i];
    });
  }

  /** Runs one chain per (subscriber, customer), in offset order within it, and waits for all of them. */
  private async deliverAll(batch: BatchContext, jobs: readonly Job[], letters: DeadLetter[], signal: AbortSignal, leave: (reason: unknown) => void): Promise<void> {
    const chains = new Map<string, Job[]>();
    for (const job of jobs) {
      const key = keyOf(job.sink.subscriber.id, job.change.customer_id);
      const chain = chains.get(key);
      if (chain) chain.push(job);
      else chains.set(key, [job]);
    }
    await Promise.all(
      [...chains.values()].map(async (chain) => {
        try {
          for (const job of chain) {
            if (signal.aborted) return;
            await this.deliverOne(batch, job, letters, signal);
          }
        } catch (err) {
          // Leave the whole batch: the other chains start no new attempt.
          leave(err);
        }
      }),
    );
  }

  private async deliverOne(batch: BatchContext, job: Job, letters: DeadLetter[], signal: AbortSignal): Promise<void> {
    const { metrics } = this.deps;
    const subscriber = job.sink.subscriber.id;
    const outcome = await job.sink.limit.run(async () => {
      if (signal.aborted) throw abortReason(signal);
      const endTimer = metrics.deliveryDuration.startTimer({ subscriber });
      metrics.inFlight.inc({ subscriber });
      try {
        const result: DeliveryOutcome = await job.sink.deliver(job.change, signal);
        endTimer({ outcome: result.kind });
        return result;
      } finally {
        metrics.inFlight.dec({ subscriber });
      }
    });
    metrics.deliveries.inc({ subscriber, outcome: outcome.kind });
    const at = { subscriber, transitionId: job.change.transition_id, customerId: job.change.customer_id, attempts: outcome.attempts };
    if (outcome.kind === 'delivered') {
      const deliveredAt = this.now();
      metrics.deliveryLag.observe({ subscriber }, Math.max(0, deliveredAt - job.change.emitted_at) / 1000);
      await this.deps.memory.remember({ subscriber, transitionId: job.change.transition_id }, deliveredAt);
      this.deps.logger.debug(at, 'tier change delivered');
      return;
    }
    const code: ErrorCode = outcome.kind === 'rejected' ? 'TS_ERR_WEBHOOK_REJECTED' : 'TS_ERR_WEBHOOK_EXHAUSTED';
    this.deps.logger.warn({ ...at, code, reason: outcome.reason }, 'tier change not delivered, dead-lettered');
    letters.push(this.letter(batch, job.message, job.change, code, `subscriber ${subscriber}: ${outcome.reason}`));
  }

  private letter(batch: BatchContext, message: Message, change: TierChanged | undefined, code: ErrorCode, text: string): DeadLetter {
    const reason = { code, message: text, eventId: change?.transition_id ?? null, customerId: change?.customer_id ?? message.key?.toString('utf8') ?? null };
    return deadLetterOf({ topic: batch.topic, partition: batch.partition, message }, reason, 'notifier', this.now());
  }
}
