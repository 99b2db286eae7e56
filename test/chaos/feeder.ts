import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Dataset } from './dataset';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface FeedStats {
  /** Records and body entries sent, counting each once however often it was retried. */
  sent: number;
  kafkaRetries: number;
  httpRetries: number;
  /** Events POST /v1/events refused for good (the bad ones; they are dead-lettered). */
  httpRejected: number;
  doneAt: number;
}

interface IngestAnswer {
  readonly rejected?: readonly { readonly index: number; readonly code: string; readonly retriable: boolean }[];
}

/**
 * An upstream that never gives up: sends the dataset chunk by chunk, in order, and retries
 * what failed (a send to Kafka, a POST answered 503 or not at all, events refused as
 * retriable) until it went through. Retries may duplicate; ingest dedupes by event id.
 * `allowed()` paces it: how many records may have been sent by now.
 */
export class Feeder {
  readonly stats: FeedStats = { sent: 0, kafkaRetries: 0, httpRetries: 0, httpRejected: 0, doneAt: 0 };
  private producer: Producer | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly ingestUrl: string,
    private readonly allowed: () => number = () => Number.POSITIVE_INFINITY,
  ) {}

  async run(dataset: Dataset, stopped: () => boolean = () => false): Promise<void> {
    this.producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    await this.retry(() => (this.producer as Producer).connect(), () => this.stats.kafkaRetries++);
    try {
      for (const chunk of dataset.chunks) {
        const size = chunk.kafka.length + chunk.http.length;
        while (this.stats.sent + size > this.allowed() && !stopped()) await sleep(50);
        await Promise.all([this.sendKafka(chunk.kafka), this.post(chunk.http)]);
        this.stats.sent += size;
      }
      this.stats.doneAt = Date.now();
    } finally {
      await this.producer.disconnect().catch(() => undefined);
    }
  }

  private async sendKafka(records: readonly { key: string; value: string }[]): Promise<void> {
    if (records.length === 0) return;
    const producer = this.producer as Producer;
    await this.retry(() => producer.send({ topic: this.topic, acks: -1, messages: records.map((r) => ({ key: r.key, value: r.value })) }), () => this.stats.kafkaRetries++);
  }

  private async post(events: readonly Record<string, unknown>[]): Promise<void> {
    let pending = [...events];
    while (pending.length > 0) {
      let answer: IngestAnswer | undefined;
      try {
        const res = await fetch(this.ingestUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(pending), signal: AbortSignal.timeout(180_000) });
        const text = await res.text();
        if (res.status === 202) answer = JSON.parse(text) as IngestAnswer;
        else if (res.status < 500) throw new Error(`POST /v1/events answered ${res.status}: ${text.slice(0, 300)}`);
      } catch (err) {
        if (err instanceof Error && err.message.startsWith('POST /v1/events answered')) throw err;
        // Not listening, reset, timed out: the worker is down or restarting. Send again.
      }
      if (answer === undefined) {
        this.stats.httpRetries++;
        await sleep(500);
        continue;
      }
      const again = (answer.rejected ?? []).filter((r) => r.retriable).map((r) => pending[r.index]);
      this.stats.httpRejected += (answer.rejected ?? []).filter((r) => !r.retriable).length;
      pending = again.filter((e): e is Record<string, unknown> => e !== undefined);
      if (pending.length > 0) {
        this.stats.httpRetries++;
        await sleep(500);
      }
    }
  }

  private async retry(fn: () => Promise<unknown>, counted: () => void): Promise<void> {
    for (;;) {
      try {
        await fn();
        return;
      } catch {
        counted();
        await sleep(1_000);
      }
    }
  }
}
