import type { KafkaMessage } from 'kafkajs';
import { TierstreamError, type BatchContext } from '@tierstream/runtime';
import { SETTLED_MARKER } from './dedupe';
import { RawBatchIngestor } from './kafka-ingest';
import { RawRecordDecoder } from './raw-record';
import { JsonEncoder, MapDedupe, quietLogger, RecordingDeadLetters, RecordingWriter, testMetrics } from './testing/doubles';

const NOW = Date.UTC(2026, 2, 1, 12);
const RAW = 'ns.customer.events.raw';
const EVENTS = 'ns.customer.events.v1';

const order = (eventId: string, changes: Record<string, unknown> = {}): string =>
  JSON.stringify({ event_id: eventId, customer_id: `c-${eventId}`, type: 'order', occurred_at: NOW - 60_000, order_id: 'o', amount: '1.00', currency: 'USD', ...changes });

interface TestBatch extends BatchContext {
  heartbeats: number;
}

function batchOf(values: (string | null)[], firstOffset = 10, partition = 2): TestBatch {
  const messages: KafkaMessage[] = values.map((v, i) => ({
    key: Buffer.from(`k-${i}`),
    value: v === null ? null : Buffer.from(v),
    offset: String(firstOffset + i),
    timestamp: '0',
    attributes: 0,
    headers: { source: 'pos' },
  }));
  const batch: TestBatch = {
    topic: RAW,
    partition,
    messages,
    heartbeats: 0,
    heartbeat: async () => {
      batch.heartbeats++;
    },
    isRunning: () => true,
  };
  return batch;
}

function setup(options: { clock?: () => number; pendingTtlMs?: number } = {}) {
  const dedupe = new MapDedupe();
  const writer = new RecordingWriter();
  const deadLetters = new RecordingDeadLetters();
  const metrics = testMetrics();
  const noRegistry = {
    getSchema: async () => Promise.reject(new Error('no registry in this test')),
    decode: async () => Promise.reject(new Error('no registry in this test')),
  };
  const ingestor = new RawBatchIngestor(
    { decoder: new RawRecordDecoder(noRegistry, 4096), encoder: new JsonEncoder(), dedupe, writer, deadLetters, metrics, logger: quietLogger() },
    { groupId: 'ns.tierstream-ingest', eventsTopic: EVENTS, dedupeHorizonMs: 3_600_000, pendingTtlMs: options.pendingTtlMs ?? 5000, clock: options.clock ?? (() => NOW), pendingPollMs: 1 },
  );
  return { ingestor, dedupe, writer, deadLetters, metrics };
}

const counterValue = async (metrics: ReturnType<typeof testMetrics>, name: string, labels: Record<string, string>): Promise<number> => {
  const metric = metrics.worker.registry.getSingleMetric(name);
  const values = (await metric?.get())?.values ?? [];
  return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
};

describe('RawBatchIngestor', () => {
  it('produces the accepted events keyed by customer_id and commits the offset after the last record, in one transaction', async () => {
    const { ingestor, writer } = setup();
    await ingestor.handle(batchOf([order('e-1'), order('e-2')]));
    expect(writer.writes).toHaveLength(1);
    const [write] = writer.writes;
    expect(write?.topic).toBe(EVENTS);
    expect(write?.messages.map((m) => m.key)).toEqual(['c-e-1', 'c-e-2']);
    expect(writer.produced().map((e) => e.event_id)).toEqual(['e-1', 'e-2']);
    expect(write?.offsets).toEqual({ consumerGroupId: 'ns.tierstream-ingest', topic: RAW, partition: 2, offset: '12' });
  });

  it('dead-letters each rejected record with its bytes and coordinates and still commits the whole batch', async () => {
    const { ingestor, writer, deadLetters } = setup();
    await ingestor.handle(batchOf(['{oops', order('e-neg', { amount: '-1' }), null, order('e-ok')]));
    expect(writer.produced().map((e) => e.event_id)).toEqual(['e-ok']);
    expect(writer.writes[0]?.offsets?.offset).toBe('14');
    expect(deadLetters.letters.map((l) => [l.error_code, l.source_offset, l.event_id])).toEqual([
      ['TS_ERR_INGEST_NOT_JSON', 10, null],
      ['TS_ERR_INGEST_NEGATIVE_AMOUNT', 11, 'e-neg'],
      ['TS_ERR_INGEST_EMPTY_RECORD', 12, null],
    ]);
    expect(deadLetters.letters[0]).toMatchObject({
      original_value: Buffer.from('{oops'),
      original_key: Buffer.from('k-0'),
      original_headers: { source: Buffer.from('pos') },
      source_topic: RAW,
      source_partition: 2,
      worker: 'ingest',
      failed_at: NOW,
    });
  });

  it('commits a batch with nothing to produce (all rejected or duplicates)', async () => {
    const { ingestor, writer, deadLetters } = setup();
    await ingestor.handle(batchOf(['[]']));
    expect(writer.writes).toEqual([
      { topic: EVENTS, messages: [], offsets: { consumerGroupId: 'ns.tierstream-ingest', topic: RAW, partition: 2, offset: '11' }, also: [{ topic: deadLetters.topic, messages: [expect.objectContaining({ value: expect.stringContaining('TS_ERR_INGEST_NOT_OBJECT') })] }] },
    ]);
  });

  it('drops duplicates within a batch and across batches, counts them, and does not dead-letter them', async () => {
    const { ingestor, writer, deadLetters, metrics, dedupe } = setup();
    await ingestor.handle(batchOf([order('e-1'), order('e-1', { amount: '2.00' })]));
    await ingestor.handle(batchOf([order('e-1'), order('e-2')], 12));
    expect(writer.produced().map((e) => [e.event_id, e.order?.amount_minor])).toEqual([
      ['e-1', 100],
      ['e-2', 100],
    ]);
    expect(deadLetters.letters).toEqual([]);
    expect(await counterValue(metrics, 'tierstream_ingest_duplicates_total', { source: 'kafka' })).toBe(2);
    expect(dedupe.claimedBy.get('e-1')).toBe(`${RAW}:2:10`);
    expect(dedupe.ttls.get('e-1')).toBe(3_600_000);
    expect(dedupe.markers.get('e-1')).toBe(SETTLED_MARKER);
  });

  it('settles the claims of produced events once their transaction committed, and keeps the claims of a batch whose transaction failed', async () => {
    const { ingestor, writer, dedupe } = setup();
    writer.failNext = new Error('transaction aborted');
    await expect(ingestor.handle(batchOf([order('e-1')]))).rejects.toThrow('transaction aborted');
    expect(dedupe.markers.get('e-1')).toBe(`${RAW}:2:10`);
    await ingestor.handle(batchOf([order('e-1')]));
    expect(dedupe.markers.get('e-1')).toBe(SETTLED_MARKER);
  });

  it('commits the batch when settling fails (its claims keep deduping)', async () => {
    const { ingestor, writer, dedupe } = setup();
    dedupe.settle = async () => Promise.reject(new Error('READONLY'));
    await ingestor.handle(batchOf([order('e-1')]));
    expect(writer.produced().map((e) => e.event_id)).toEqual(['e-1']);
    expect(dedupe.markers.get('e-1')).toBe(`${RAW}:2:10`);
  });

  it('claims the whole batch in one dedupe round trip', async () => {
    const { ingestor, dedupe } = setup();
    await ingestor.handle(batchOf([order('a'), order('b'), order('c')]));
    expect(dedupe.claimRounds).toBe(1);
  });

  it('throws a retriable error and produces nothing when the dead letters cannot be encoded (registry down), so the batch is fetched again', async () => {
    const { ingestor, writer, deadLetters } = setup();
    deadLetters.failNext = new Error('DLQ topic unavailable');
    const attempt = ingestor.handle(batchOf([order('e-1'), '{oops']));
    await expect(attempt).rejects.toBeInstanceOf(TierstreamError);
    await expect(attempt).rejects.toMatchObject({ code: 'TS_ERR_INGEST_DEAD_LETTER', retriable: true });
    expect(writer.writes).toEqual([]);
  });

  it('produces the same events and dead letters again, in the transaction, when a batch whose transaction failed is replayed', async () => {
    const { ingestor, writer, deadLetters } = setup();
    const batch = batchOf([order('e-1'), order('e-2'), '{oops']);
    writer.failNext = new Error('transaction aborted');
    await expect(ingestor.handle(batch)).rejects.toThrow('transaction aborted');
    // The replay finds its own markers (same coordinates): not duplicates.
    await ingestor.handle(batch);
    expect(writer.produced().map((e) => e.event_id)).toEqual(['e-1', 'e-2']);
    // The aborted attempt's dead letter was in its transaction: only the replay's is counted.
    expect(deadLetters.letters.map((l) => l.error_code)).toEqual(['TS_ERR_INGEST_NOT_JSON']);
    expect(writer.writes.map((w) => w.also?.[0]?.messages.length)).toEqual([1]);
  });

  it('throws before dead-lettering or producing when Redis fails', async () => {
    const { ingestor, writer, deadLetters, dedupe } = setup();
    dedupe.failNext = new TierstreamError('TS_ERR_INGEST_DEDUPE', 'claiming event ids failed: ECONNREFUSED', { retriable: true });
    await expect(ingestor.handle(batchOf([order('e-1'), '{oops']))).rejects.toMatchObject({ code: 'TS_ERR_INGEST_DEDUPE' });
    expect(writer.writes).toEqual([]);
    expect(deadLetters.letters).toEqual([]);
  });

  it('waits while an HTTP request holds the id, heartbeating, then drops the event when that request produced it', async () => {
    const { ingestor, writer, dedupe } = setup();
    dedupe.markers.set('e-held', 'pending:req-1');
    const claim = dedupe.claim.bind(dedupe);
    dedupe.claim = async (claims) => {
      if (dedupe.claimRounds === 2) dedupe.markers.set('e-held', 'done:req-1');
      return claim(claims);
    };
    const batch = batchOf([order('e-held'), order('e-free')]);
    await ingestor.handle(batch);
    expect(writer.produced().map((e) => e.event_id)).toEqual(['e-free']);
    expect(dedupe.claimRounds).toBe(3);
    expect(batch.heartbeats).toBeGreaterThanOrEqual(2);
  });

  it('claims the id once an HTTP request gave it up, and produces in batch order', async () => {
    const { ingestor, writer, dedupe } = setup();
    dedupe.markers.set('e-held', 'pending:req-1');
    const claim = dedupe.claim.bind(dedupe);
    dedupe.claim = async (claims) => {
      if (dedupe.claimRounds === 1) dedupe.markers.delete('e-held');
      return claim(claims);
    };
    await ingestor.handle(batchOf([order('e-held'), order('e-free')]));
    expect(writer.produced().map((e) => e.event_id)).toEqual(['e-held', 'e-free']);
  });

  it('gives up with a retriable error when an id stays pending past the pending TTL', async () => {
    let t = NOW;
    const { ingestor, writer, dedupe } = setup({ clock: () => (t += 1000), pendingTtlMs: 2000 });
    dedupe.markers.set('e-held', 'pending:req-1');
    await expect(ingestor.handle(batchOf([order('e-held')]))).rejects.toMatchObject({ code: 'TS_ERR_INGEST_DEDUPE', retriable: true });
    expect(writer.writes).toEqual([]);
  });
});

describe('RawBatchIngestor with a record nested too deep (issue 9, defect 1)', () => {
  it('dead-letters it as TS_ERR_INGEST_TOO_DEEP with its ids and original bytes, and produces the rest of the batch', async () => {
    const { ingestor, writer, deadLetters } = setup();
    const deep = order('e-deep', { currency: 'ZZZ' }).replace(/}$/, `,"junk":${'['.repeat(1500)}${']'.repeat(1500)}}`);
    await ingestor.handle(batchOf([order('e-1'), deep, order('e-2')]));
    expect(writer.produced().map((e) => e.event_id)).toEqual(['e-1', 'e-2']);
    expect(deadLetters.letters.map((l) => [l.error_code, l.event_id, l.customer_id, l.source_offset, l.original_value?.toString()])).toEqual([
      ['TS_ERR_INGEST_TOO_DEEP', 'e-deep', 'c-e-deep', 11, deep],
    ]);
    expect(deadLetters.letters[0]?.error_message).toMatch(/^the event is nested 1501 levels deep; at most 64 are accepted \(INGEST_MAX_EVENT_DEPTH\); currency: /);
  });
});

describe('RawBatchIngestor with amounts written as JSON numbers (issue 9, defect 3)', () => {
  /** A raw order whose amount fields are spliced in as written, e.g. `"amount": 1e2`. */
  const withAmount = (eventId: string, amountJson: string, currency = 'USD'): string =>
    `{"event_id":"${eventId}","customer_id":"c","type":"order","occurred_at":${NOW - 60_000},"order_id":"o",${amountJson},"currency":"${currency}"}`;

  it.each([
    ['"amount": 1e2', 'amount: must be a decimal number without an exponent, such as 12.34, got 1e2'],
    ['"amount": 12.5e-1', 'amount: must be a decimal number without an exponent, such as 12.34, got 12.5e-1'],
    ['"amount": 1E+2', 'amount: must be a decimal number without an exponent, such as 12.34, got 1E+2'],
    ['"amount": 1e-400', 'amount: must be a decimal number without an exponent, such as 12.34, got 1e-400'],
    ['"amount": 1.0000000000000001', 'amount: 1.0000000000000001 has 16 decimal places; USD has 2'],
    ['"amount_minor": 1e2', 'amount_minor: must be a whole number of minor units without an exponent, got 1e2'],
    ['"order": {"order_id": "o", "amount": 5e0, "currency": "USD"}', 'order.amount: must be a decimal number without an exponent, such as 12.34, got 5e0'],
  ])('rejects %s as TS_ERR_INGEST_INVALID_AMOUNT, as written', async (amountJson, message) => {
    const { ingestor, writer, deadLetters } = setup();
    await ingestor.handle(batchOf([withAmount('e-x', amountJson)]));
    expect(writer.produced()).toEqual([]);
    expect(deadLetters.letters.map((l) => [l.error_code, l.error_message])).toEqual([['TS_ERR_INGEST_INVALID_AMOUNT', message]]);
  });

  it.each([
    ['"amount": 12.50', 1250],
    ['"amount": 12.5', 1250],
    ['"amount": 100', 10_000],
    ['"amount": -0', 0],
    ['"amount_minor": 100.0', 100],
    ['"amount": "12.50", "junk": 1e5', 1250],
  ])('accepts %s exactly', async (amountJson, minor) => {
    const { ingestor, writer } = setup();
    await ingestor.handle(batchOf([withAmount('e-ok', amountJson)]));
    expect(writer.produced().map((e) => e.order?.amount_minor)).toEqual([minor]);
  });
});

describe('RawBatchIngestor metrics of a retried batch (issue 9, defect 6)', () => {
  it('counts a duplicate and a rejection once when the batch fails and is fetched again', async () => {
    const { ingestor, writer, metrics, dedupe } = setup();
    dedupe.markers.set('e-seen', `${RAW}:0:3`); // claimed by another record earlier
    const batch = batchOf([order('e-seen'), '{oops', order('e-new')]);
    writer.failNext = new Error('transaction aborted');
    await expect(ingestor.handle(batch)).rejects.toThrow('transaction aborted');
    await ingestor.handle(batch);
    expect(writer.produced().map((e) => e.event_id)).toEqual(['e-new']);
    expect(await counterValue(metrics, 'tierstream_ingest_duplicates_total', { source: 'kafka' })).toBe(1);
    expect(await counterValue(metrics, 'tierstream_ingest_rejected_total', { source: 'kafka', reason: 'TS_ERR_INGEST_NOT_JSON' })).toBe(1);
  });

  it('counts nothing for a batch whose transaction never commits', async () => {
    const { ingestor, writer, metrics, dedupe } = setup();
    dedupe.markers.set('e-seen', `${RAW}:0:3`);
    writer.failNext = new Error('transaction aborted');
    await expect(ingestor.handle(batchOf([order('e-seen'), '{oops']))).rejects.toThrow('transaction aborted');
    expect(await counterValue(metrics, 'tierstream_ingest_duplicates_total', { source: 'kafka' })).toBe(0);
    expect(await counterValue(metrics, 'tierstream_ingest_rejected_total', { source: 'kafka' })).toBe(0);
  });
});
