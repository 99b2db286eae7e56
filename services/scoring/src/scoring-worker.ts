import type { Admin, KafkaMessage, Producer } from 'kafkajs';
import { commandRecord, type CustomerEventRecord, type Policy, type TierChanged } from '@tierstream/domain';
import {
  AvroCodec,
  BatchConsumer,
  CustomerStore,
  deadLetterOf,
  PartitionClock,
  SchemaFiles,
  topicNames,
  TransactionalBatchWriter,
  type TopicMessages,
  type BatchContext,
  type DeadLetter,
  type TopicNames,
  type WorkerContext,
  type WorkerProcess,
} from '@tierstream/runtime';
import { uncommittedRecords } from './committed-records';
import { IdleTicker } from './idle-ticker';
import { LoopPacer } from './loop-pacer';
import { decodeInput } from './decode-input';
import { advanceWatermark, customerOf, planBatchSteps, type ScoringInput } from './scoring-batch';

/** Longest run of synchronous batch work before the event loop gets a turn: /healthz answers within a few of these. */
const SLICE_MS = 10;
const DEFAULT_BATCH_TIME_MS = 2000;

export interface ScoringSettings {
  readonly policy: Policy;
  /** Events older than the partition's watermark minus this go to the DLQ as late. */
  readonly allowedLatenessMs: number;
  /** Re-evaluate due customers as the watermark advances (off: only events change tiers). */
  readonly sweep: boolean;
  /** How many input partitions are processed at once. */
  readonly concurrency: number;
  /** Bytes fetched per partition at most: bounds a batch, hence its transaction and its latency. Default 256 KiB. */
  readonly fetchMaxBytes?: number;
  /** At most this many due customers are re-evaluated per batch; the rest in later ones, which a clock tick brings at once. */
  readonly sweepLimit: number;
  /**
   * A batch stops sweeping due customers once it has run this long (default 2000 ms); the rest
   * go to the next batches, which a clock tick brings at once. Bounds a batch's sweep, hence
   * its shutdown and rebalance latency, whatever the due customers' backlog of due times.
   */
  readonly batchTimeMs?: number;
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
  /** One transactional producer per input partition, created on first use (see unfencedRecords). */
  private readonly writer: TransactionalBatchWriter;
  private readonly store: CustomerStore;
  private readonly clock: PartitionClock;
  private readonly events: AvroCodec<CustomerEventRecord>;
  /** Writes the idle ticker's clock ticks: outside the batches' transactions, which are one at a time per producer. */
  private readonly tickProducer: Producer;
  private readonly ticker: IdleTicker | undefined;
  private readonly transitions: AvroCodec<TierChanged>;
  private readonly deadLetters: AvroCodec<DeadLetter>;
  private readonly groupId: string;
  /** Reads the group's committed offsets when a partition's producer is (re)initialised (see unfencedRecords). */
  private readonly admin: Admin;

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
    this.tickProducer = ctx.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    // The partition's id, not the replica's (the layout before KIP-447, which KafkaJS does not
    // implement): whichever replica owns the partition next initialises the same id, which
    // aborts the transaction a crashed or zombie owner left open and fences that owner out.
    this.writer = new TransactionalBatchWriter(ctx.kafka, ctx.logger.child({ component: 'scoring' }), {
      transactionalIdOf: (partition) => `tierstream-scoring-${this.topics.events}-${partition}`,
      transactionTimeoutMs: 30_000,
    });
    this.admin = ctx.kafka.admin();
    const tick = settings.tick;
    this.ticker = tick && new IdleTicker({ ...tick, send: (partition, time) => this.sendTick(partition, time), now: Date.now, logger: ctx.logger.child({ component: 'clock' }) });
    this.consumer = new BatchConsumer(ctx.kafka, {
      groupId: this.groupId,
      topics: [this.topics.events],
      handler: (batch) => this.handle(batch),
      logger: ctx.logger.child({ component: 'scoring' }),
      metrics: ctx.metrics,
      commits: 'handler',
      // Partitions are independent (their customers, clocks and producers are disjoint).
      partitionsConsumedConcurrently: settings.concurrency,
      ...(settings.fetchMaxBytes === undefined ? {} : { maxBytesPerPartition: settings.fetchMaxBytes }),
      onAssignment: (assignment) => this.assigned(assignment[this.topics.events] ?? []),
    });
  }

  private assigned(partitions: readonly number[]): void {
    this.ticker?.assign(partitions);
    this.writer.retain(partitions);
  }

  /**
   * The batch's records this owner may score. On the first batch after the partition's
   * producer is (re)created: initialise the producer first, then read the group's committed
   * offset, and drop the records below it (the pre-KIP-447 recipe). The initialisation fences
   * an old owner that stalled past its session timeout: it can commit no transaction after
   * it. One it committed before is visible in the offset read after it, so its records (whose
   * state and pending transitions are in Redis) are not scored, nor their transitions re-emitted.
   */
  private async unfencedRecords(batch: BatchContext): Promise<readonly KafkaMessage[]> {
    if (this.writer.has(batch.partition)) return batch.messages;
    await this.writer.connect(batch.partition);
    const [committed] = await this.admin.fetchOffsets({ groupId: this.groupId, topics: [batch.topic] }).catch((err: unknown) => {
      // Else the batch's retry would find the producer and not read the offset.
      this.writer.drop(batch.partition);
      throw err;
    });
    const offset = committed?.partitions.find((p) => p.partition === batch.partition)?.offset ?? '-1';
    const records = uncommittedRecords(batch.messages, Number(offset));
    if (records.length < batch.messages.length) {
      this.ctx.logger.info({ partition: batch.partition, committed: offset, dropped: batch.messages.length - records.length }, 'records an old owner committed are skipped');
    }
    return records;
  }

  async start(): Promise<void> {
    await Promise.all([this.events.init(), this.transitions.init(), this.deadLetters.init()]);
    await Promise.all([this.tickProducer.connect(), this.admin.connect()]);
    await this.consumer.start();
    this.ticker?.start();
  }

  async stop(): Promise<void> {
    await this.ticker?.stop();
    await this.consumer.stop();
    await Promise.all([this.writer.close(), this.tickProducer.disconnect(), this.admin.disconnect()]);
  }

  /** Writes a clock tick into one partition of the events topic. */
  private async sendTick(partition: number, time: number): Promise<void> {
    await this.tickProducer.send({ topic: this.topics.events, acks: -1, messages: [{ partition, key: null, value: await this.events.encode(clockTick(partition, time)) }] });
    this.ctx.logger.debug({ partition, time }, 'clock tick written');
  }

  /**
   * One batch, one straight path: skip what an old owner committed, decode, load, plan
   * (pure), commit state, send in a transaction. The pacer gives the event loop a turn between records, customers and encodes,
   * so a long catch-up neither stalls /healthz nor starves the consumer's heartbeat timer.
   */
  private async handle(batch: BatchContext): Promise<void> {
    const { partition } = batch;
    const records = await this.unfencedRecords(batch);
    // All committed by an old owner: nothing to do; the consumer resolves the batch.
    if (records.length === 0) return;
    const pacer = new LoopPacer({ sliceMs: SLICE_MS });
    const inputs: ScoringInput[] = [];
    const letters: DeadLetter[] = [];
    for (const m of records) {
      const offset = Number(m.offset);
      const input = await decodeInput(this.events, partition, offset, m.value);
      if (typeof input === 'string') letters.push(this.deadLetter(batch.topic, partition, m, offset, 'TS_ERR_SCORING_DECODE', input, null, m.key?.toString() ?? null));
      else inputs.push(input);
      await pacer.pace();
    }
    if (inputs.some((i) => !('tick' in i)) || letters.length > 0) this.ticker?.noteRecords(partition);
    const firstOffset = Number(records[0]?.offset ?? 0);
    const lastOffset = Number(records[records.length - 1]?.offset ?? 0);
    const { allowedLatenessMs, sweepLimit, batchTimeMs = DEFAULT_BATCH_TIME_MS } = this.settings;
    const reading = await this.clock.read(partition, firstOffset);
    const advanced = advanceWatermark(reading.watermarkBefore, inputs, allowedLatenessMs);
    const dueNow = this.settings.sweep ? await this.clock.due(partition, advanced.watermark, sweepLimit) : [];
    const resweep = new Set(this.settings.sweep ? reading.sweptBefore : []);
    const customers = [...new Set([...inputs.flatMap((i) => customerOf(i) ?? []), ...resweep, ...dueNow])];
    const pace = () => pacer.pace();
    const loaded = await this.store.load(customers, pace);
    const steps = planBatchSteps(partition, firstOffset, lastOffset, inputs, loaded, this.settings.policy, Date.now(), {
      watermarkBefore: reading.watermarkBefore,
      allowedLatenessMs,
      sweep: new Set(dueNow),
      resweep,
      sweepTouched: this.settings.sweep,
      advanced,
    });
    const plan = await pacer.drive(steps, (step) => step === 'may-sweep' && pacer.elapsedMs() >= batchTimeMs);
    await this.clock.write({ partition, firstOffset, lastOffset, watermark: plan.watermark, swept: plan.swept, due: this.settings.sweep ? plan.due : new Map() });
    const batchToken = `${partition}:${firstOffset}-${lastOffset}`;
    await this.store.commit(plan.writes, pace, batchToken);
    // By offset: a batch of thousands of rejected records must not scan the batch for each.
    const inputAt = new Map(inputs.map((i) => [i.offset, i]));
    const rawAt = new Map(records.map((m) => [Number(m.offset), m]));
    for (const r of plan.rejected) {
      const input = inputAt.get(r.offset);
      const raw = rawAt.get(r.offset);
      const eventId = input && 'event' in input ? input.event.event_id : input && 'override' in input ? input.override.command_id : null;
      letters.push(this.deadLetter(batch.topic, partition, raw, r.offset, r.code, r.message, eventId, input ? (customerOf(input) ?? null) : null));
    }
    // Encoded before the transaction opens, so it stays short.
    const transitionMessages = await pacer.map(plan.emit, async (t) => ({ key: t.customer_id, value: await this.transitions.encode(t), headers: { 'transition-id': t.transition_id } }));
    const letterMessages = await pacer.map(letters, async (l) => ({ key: l.customer_id, value: await this.deadLetters.encode(l), headers: { 'error-code': l.error_code } }));
    // More customers are due than this batch swept (the limit, or its time): a tick at the same
    // watermark brings the next batch at once. In the transaction, so a crash or a broker
    // failure after the commit cannot lose it, nor fail a committed batch into a replay.
    const followUp = dueNow.length >= sweepLimit || plan.deferred > 0 ? await this.events.encode(clockTick(partition, plan.watermark)) : undefined;
    // Transitions in chunks: a sweep's all go to one partition, and one record batch over the
    // broker's message.max.bytes would be refused whole, batch after batch (the writer chunks).
    const sends: TopicMessages[] = [
      { topic: this.topics.tierChanged, messages: transitionMessages },
      { topic: this.topics.eventsDlq, messages: letterMessages },
      ...(followUp ? [{ topic: this.topics.events, partition, messages: [{ key: null, value: followUp }] }] : []),
    ];
    await this.writer.write(partition, sends, { consumerGroupId: this.groupId, topic: batch.topic, partition, offset: String(lastOffset + 1) });
    // Committed: nothing replays this batch, so its pending transitions are dead weight in
    // Redis. Not a customer whose record also keeps another partition's (not ours to settle).
    const settled = plan.writes.filter((w) => (w.record.pending.length > 0 || (w.record.rejections?.length ?? 0) > 0) && w.record.pending.every((p) => p.partition === partition) && (w.record.rejections ?? []).every((r) => r.partition === partition));
    await this.store.settle(settled.map((w) => w.customerId), batchToken, pace).catch((err: unknown) => {
      this.ctx.logger.warn({ err, partition, customers: settled.length }, 'removing committed pending transitions failed; the next batch of each customer drops them');
    });
    this.ctx.metrics.eventsOut.inc({ topic: this.topics.tierChanged }, plan.emit.length);
    for (const l of letters) this.ctx.metrics.deadLetters.inc({ reason: l.error_code });
    this.ctx.logger.debug(
      {
        partition,
        firstOffset,
        lastOffset,
        watermark: plan.watermark,
        swept: plan.swept.length,
        deferred: plan.deferred,
        transitions: plan.emit.length,
        skipped: plan.skipped,
        dead: letters.length,
        ms: Math.round(pacer.elapsedMs()),
      },
      'batch scored',
    );
  }

  /** A record's dead letter, kept whole (bytes, key, headers, coordinates); `offset` finds the record in the batch. */
  private deadLetter(topic: string, partition: number, message: KafkaMessage | undefined, offset: number, code: string, text: string, eventId: string | null, customerId: string | null): DeadLetter {
    const source = { topic, partition, message: message ?? { offset: String(offset), value: null, key: null, headers: {} } };
    return deadLetterOf(source, { code, message: text, eventId, customerId }, 'scoring', Date.now());
  }

}
