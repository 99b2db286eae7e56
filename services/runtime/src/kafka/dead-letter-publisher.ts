import { Partitioners, type IHeaders, type Kafka, type KafkaMessage, type Message, type Producer } from 'kafkajs';
import { SchemaFiles } from '../contracts';
import type { WorkerMetrics } from '../metrics/worker-metrics';
import { AvroCodec } from '../registry/avro-codec';
import type { SchemaRegistry } from '../registry/avro-registry';

/** The dead-letter record as schemas/dead-letter.avsc defines it. */
export interface DeadLetter {
  readonly error_code: string;
  readonly error_message: string;
  readonly original_value: Buffer | null;
  readonly original_key: Buffer | null;
  readonly original_headers: Readonly<Record<string, Buffer>>;
  readonly source_topic: string | null;
  readonly source_partition: number | null;
  readonly source_offset: number | null;
  readonly worker: string;
  readonly event_id: string | null;
  readonly customer_id: string | null;
  readonly failed_at: number;
}

/** Headers as bytes, the way the DLQ keeps them whatever their original type. */
export function headersAsBytes(headers: IHeaders | undefined): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) out[k] = Buffer.isBuffer(first) ? first : Buffer.from(String(first));
  }
  return out;
}

/** Where a dead-lettered input came from: a consumed record (kept whole: bytes, key, headers, coordinates), or bytes that arrived another way (an HTTP body's element). */
export type DeadLetterSource =
  | { readonly topic: string; readonly partition: number; readonly message: Pick<KafkaMessage, 'offset' | 'value' | 'key' | 'headers'> }
  | { readonly bytes: Buffer | null };

/** Why it was dead-lettered, and whose it was when that is known. */
export interface DeadLetterReason {
  readonly code: string;
  readonly message: string;
  readonly eventId: string | null;
  readonly customerId: string | null;
}

/** The one builder of dead letters, for every worker: the DLQ record of an input and the reason it was refused. */
export function deadLetterOf(source: DeadLetterSource, reason: DeadLetterReason, worker: string, now: number): DeadLetter {
  const from =
    'message' in source
      ? {
          original_value: source.message.value,
          original_key: source.message.key,
          original_headers: headersAsBytes(source.message.headers),
          source_topic: source.topic,
          source_partition: source.partition,
          source_offset: Number(source.message.offset),
        }
      : { original_value: source.bytes, original_key: null, original_headers: {}, source_topic: null, source_partition: null, source_offset: null };
  return { error_code: reason.code, error_message: reason.message, ...from, worker, event_id: reason.eventId, customer_id: reason.customerId, failed_at: now };
}

/** Publishes dead letters (Avro) to one DLQ topic, acknowledged by all in-sync replicas. */
export class DeadLetterPublisher {
  private readonly codec: AvroCodec<DeadLetter>;
  private readonly producer: Producer;
  private connected = false;

  constructor(
    kafka: Kafka,
    registry: SchemaRegistry,
    readonly topic: string,
    private readonly metrics: WorkerMetrics,
  ) {
    this.codec = new AvroCodec<DeadLetter>(registry, topic, SchemaFiles.deadLetter);
    this.producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  }

  async start(): Promise<void> {
    await this.codec.init();
    await this.producer.connect();
    this.connected = true;
  }

  async publish(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    await this.producer.send({ topic: this.topic, acks: -1, messages: await this.encode(letters) });
    this.count(letters);
  }

  /** The letters as messages for `topic`, for a caller that sends them in its own transaction (then `count` them). */
  encode(letters: readonly DeadLetter[]): Promise<Message[]> {
    return Promise.all(letters.map(async (l) => ({ key: l.customer_id ?? l.original_key, value: await this.codec.encode(l), headers: { 'error-code': l.error_code } })));
  }

  /** Counts letters sent, by reason. */
  count(letters: readonly DeadLetter[]): void {
    for (const l of letters) this.metrics.deadLetters.inc({ reason: l.error_code });
  }

  async close(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.producer.disconnect();
  }
}
