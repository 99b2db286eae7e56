import os from 'node:os';
import { Partitioners, type Producer } from 'kafkajs';
import { commandRecord, type CustomerEventRecord, type Policy, type TierChanged } from '@tierstream/domain';
import {
  AvroCodec,
  BatchConsumer,
  CustomerStore,
  PartitionClock,
  SchemaFiles,
  topicNames,
  type BatchContext,
  type DeadLetter,
  type TopicNames,
  type WorkerContext,
  type WorkerProcess,
} from '@tierstream/runtime';
import { IdleTicker } from './idle-ticker';
import { advanceWatermark, customerOf, planBatch, scoringInputOf, type ScoringInput } from './scoring-batch';

export interface ScoringSettings {
  readonly policy: Policy;
  /** Distinguishes replicas on one host: each needs its own stable transactional id. */
  readonly instance: string;
  /** Events older than the partition's watermark minus this go to the DLQ as late. */
  readonly allowedLatenessMs: number;
  /** Re-evaluate due customers as the watermark advances (off: only events change tiers). */
  readonly sweep: boolean;
  /** At most this many due customers are re-evaluated per batch; the rest in later ones, which a clock tick brings at once. */
  readonly sweepLimit: number;
  /** The wall-clock tick for idle partitions (the policy's `clock.wall_clock_tick`); undefined: off. */
  readonly tick: { readonly everyMs: number; readonly idleAfterMs: number } | undefined;
}

/** A clock tick record: no customer, no key; moves the partition's watermark to `time`. */
export const clockTick = (partition: number, time: number): CustomerEventRecord =>
  commandRecord({ event_id: `tick/${partition}/${time}`, customer_id: '', type: 'CLOCK_TICK', event_time: time });

/**
 * Consumes canonical events, applies them to per-customer state in Redis and produces
 * tier transitions, exactly once: Redis state is written with a fence (compare-and-set)
 * before a Kafka transaction carries the transitions, dead letters and consumed offsets.
 */
export class ScoringWorker implements WorkerProcess {
  private readonly topics: TopicNames;
  private readonly consumer: BatchConsumer;
  private readonly producer: Producer;
  private readonly store: CustomerStore;
  private readonly clock: PartitionClock;
  private readonly events: AvroCodec<CustomerEventRecord>;
  /** Writes clock ticks: outside the batches' transactions, which are one at a time per producer. */
  private readonly tickProducer: Producer;
  private readonly ticker: IdleTicker | undefined;
  private readonly transitions: AvroCodec<TierChanged>;
  private readonly deadLetters: AvroCodec<DeadLetter>;
  private readonly groupId: string;

  constructor(
    private readonly ctx: WorkerContext,
    private readonly settings: ScoringSettings,
  ) {
    const ns = ctx.config.namespace;
    this.topics = topicNames(ns);
    this.groupId = `${ns}tierstream-scoring`;
    this.store = new CustomerStore(ctx.redis, ns);
    this.clock = new PartitionClock(ctx.redis, this.topics.events, ns);
    this.events = new AvroCodec(ctx.registry, this.topics.events, SchemaFiles.customerEvent);
    this.transitions = new AvroCodec(ctx.registry, this.topics.tierChanged, SchemaFiles.tierChanged);
    this.deadLetters = new AvroCodec(ctx.registry, this.topics.eventsDlq, SchemaFiles.deadLetter);
    this.producer = ctx.kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      // Stable across restarts of this replica, so a restarted worker fences its predecessor
      // and aborts the transaction it left open instead of waiting for its timeout.
      transactionalId: `${ns}tierstream-scoring-${os.hostname()}-${settings.instance}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 30_000,
    });
    this.tickProducer = ctx.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const tick = settings.tick;
    this.ticker = tick && new IdleTicker({ ...tick, send: (partition, time) => this.sendTick(partition, time), now: Date.now, logger: ctx.logger.child({ component: 'clock' }) });
    this.consumer = new BatchConsumer(ctx.kafka, {
      groupId: this.groupId,
      topics: [this.topics.events],
      handler: (batch) => this.handle(batch),
      logger: ctx.logger.child({ component: 'scoring' }),
      metrics: ctx.metrics,
      commits: 'handler',
      onAssignment: (assignment) => this.ticker?.assign(assignment[this.topics.events] ?? []),
    });
  }

  async start(): Promise<void> {
    await Promise.all([this.events.init(), this.transitions.init(), this.deadLetters.init()]);
    await Promise.all([this.producer.connect(), this.tickProducer.connect()]);
    await this.consumer.start();
    this.ticker?.start();
  }

  async stop(): Promise<void> {
    await this.ticker?.stop();
    await this.consumer.stop();
    await Promise.all([this.producer.disconnect(), this.tickProducer.disconnect()]);
  }

  /** Writes a clock tick into one partition of the events topic. */
  private async sendTick(partition: number, time: number): Promise<void> {
    await this.tickProducer.send({ topic: this.topics.events, acks: -1, messages: [{ partition, key: null, value: await this.events.encode(clockTick(partition, time)) }] });
    this.ctx.logger.debug({ partition, time }, 'clock tick written');
  }

  private async handle(batch: BatchContext): Promise<void> {
    const { partition } = batch;
    const inputs: ScoringInput[] = [];
    const letters: DeadLetter[] = [];
    for (const m of batch.messages) {
      const offset = Number(m.offset);
      let input: ScoringInput | string;
      try {
        if (!m.value) throw new Error('empty value');
        input = scoringInputOf(offset, await this.events.decode(m.value));
      } catch (err) {
        input = (err as Error).message;
      }
      if (typeof input === 'string') letters.push(this.deadLetter(batch.topic, partition, offset, m.value, m.key, 'TS_ERR_SCORING_DECODE', input, null, m.key?.toString() ?? null));
      else inputs.push(input);
    }
    if (inputs.some((i) => !('tick' in i)) || letters.length > 0) this.ticker?.noteRecords(partition);
    const firstOffset = Number(batch.messages[0]?.offset ?? 0);
    const lastOffset = Number(batch.messages[batch.messages.length - 1]?.offset ?? 0);
    const { allowedLatenessMs, sweepLimit } = this.settings;
    const reading = await this.clock.read(partition, firstOffset);
    const { watermark } = advanceWatermark(reading.watermarkBefore, inputs, allowedLatenessMs);
    const dueNow = this.settings.sweep ? await this.clock.due(partition, watermark, sweepLimit) : [];
    const sweep = new Set([...dueNow, ...(this.settings.sweep ? reading.sweptBefore : [])]);
    const customers = [...new Set([...inputs.flatMap((i) => customerOf(i) ?? []), ...sweep])];
    const loaded = await this.store.load(customers);
    const plan = planBatch(partition, firstOffset, lastOffset, inputs, loaded, this.settings.policy, Date.now(), {
      watermarkBefore: reading.watermarkBefore,
      allowedLatenessMs,
      sweep,
    });
    await this.clock.write({ partition, firstOffset, lastOffset, watermark: plan.watermark, swept: plan.swept, due: this.settings.sweep ? plan.due : new Map() });
    await this.store.commit(plan.writes);
    for (const r of plan.rejected) {
      const input = inputs.find((i) => i.offset === r.offset);
      const raw = batch.messages.find((m) => Number(m.offset) === r.offset);
      const eventId = input && 'event' in input ? input.event.event_id : input && 'override' in input ? input.override.command_id : null;
      letters.push(this.deadLetter(batch.topic, partition, r.offset, raw?.value ?? null, raw?.key ?? null, r.code, r.message, eventId, input ? (customerOf(input) ?? null) : null));
    }
    const tx = await this.producer.transaction();
    try {
      if (plan.emit.length > 0) {
        await tx.send({
          topic: this.topics.tierChanged,
          acks: -1,
          messages: await Promise.all(plan.emit.map(async (t) => ({ key: t.customer_id, value: await this.transitions.encode(t), headers: { 'transition-id': t.transition_id } }))),
        });
      }
      if (letters.length > 0) {
        await tx.send({
          topic: this.topics.eventsDlq,
          acks: -1,
          messages: await Promise.all(letters.map(async (l) => ({ key: l.customer_id, value: await this.deadLetters.encode(l), headers: { 'error-code': l.error_code } }))),
        });
      }
      await tx.sendOffsets({ consumerGroupId: this.groupId, topics: [{ topic: batch.topic, partitions: [{ partition, offset: String(lastOffset + 1) }] }] });
      await tx.commit();
    } catch (err) {
      await tx.abort().catch((abortErr: unknown) => this.ctx.logger.warn({ err: abortErr }, 'abort after a failed transaction failed'));
      throw err;
    }
    // More customers are due than one batch sweeps: a tick at the same watermark brings the next batch at once.
    if (dueNow.length >= sweepLimit) await this.sendTick(partition, plan.watermark);
    this.ctx.metrics.eventsOut.inc({ topic: this.topics.tierChanged }, plan.emit.length);
    for (const l of letters) this.ctx.metrics.deadLetters.inc({ reason: l.error_code });
    this.ctx.logger.debug(
      { partition, firstOffset, lastOffset, watermark: plan.watermark, swept: plan.swept.length, transitions: plan.emit.length, skipped: plan.skipped, dead: letters.length },
      'batch scored',
    );
  }

  private deadLetter(
    topic: string,
    partition: number,
    offset: number,
    value: Buffer | null,
    key: Buffer | null,
    code: string,
    message: string,
    eventId: string | null,
    customerId: string | null,
  ): DeadLetter {
    return {
      error_code: code,
      error_message: message,
      original_value: value,
      original_key: key,
      original_headers: {},
      source_topic: topic,
      source_partition: partition,
      source_offset: offset,
      worker: 'scoring',
      event_id: eventId,
      customer_id: customerId,
      failed_at: Date.now(),
    };
  }
}
