import { Registry } from 'prom-client';
import type { TierChanged } from '@tierstream/domain';
import { createLogger, type BatchContext, type DeadLetter } from '@tierstream/runtime';
import { BatchDelivery, type BatchDeliveryDeps } from './batch-delivery';
import type { DeliveryKey } from './delivery-memory';
import { NotifierMetrics } from './notifier-metrics';
import { DeliveryAbortedError, type DeliveryOutcome } from './retry-delivery';
import { Semaphore } from './semaphore';
import type { Sink } from './sinks';
import type { SubscriberFilter } from './subscribers';
import type { Decoded } from './tier-changed-decoder';
import { tierChange } from './testing/fixtures';

type Message = BatchContext['messages'][number];

/** Records are "encoded" as JSON here; the decoder is not what these tests are about. */
const encode = (change: TierChanged): Buffer => Buffer.from(JSON.stringify(change));
const decoder = {
  decode: (value: Buffer): Promise<Decoded> => {
    const text = value.toString('utf8');
    return Promise.resolve(text.startsWith('{') ? { ok: true, change: JSON.parse(text) as TierChanged } : { ok: false, reason: 'is garbage' });
  },
};

function message(value: Buffer | null, offset: number, key = 'c-1'): Message {
  return { key: Buffer.from(key), value, offset: String(offset), timestamp: '0', attributes: 0, headers: { source: Buffer.from('scoring') } };
}

function batchOf(values: (TierChanged | Buffer | null)[], running: () => boolean = () => true): BatchContext {
  return {
    topic: 'ns.customer.tier-changed.v1',
    partition: 2,
    messages: values.map((v, i) => message(v === null || Buffer.isBuffer(v) ? v : encode(v), 100 + i, v !== null && !Buffer.isBuffer(v) ? v.customer_id : 'c-x')),
    heartbeat: () => Promise.resolve(),
    isRunning: running,
  };
}

/** A sink whose answers a test scripts per transition id; records every call in order. */
class FakeSink implements Sink {
  readonly limit: Semaphore;
  readonly calls: string[] = [];
  private readonly answers = new Map<string, DeliveryOutcome | (() => Promise<DeliveryOutcome>)>();
  constructor(
    id: string,
    filter: SubscriberFilter = {},
    concurrency = 4,
  ) {
    this.subscriber = { id, type: 'log', filter };
    this.limit = new Semaphore(concurrency);
  }
  readonly subscriber: Sink['subscriber'];
  answer(transitionId: string, outcome: DeliveryOutcome | (() => Promise<DeliveryOutcome>)): void {
    this.answers.set(transitionId, outcome);
  }
  async deliver(change: TierChanged): Promise<DeliveryOutcome> {
    this.calls.push(change.transition_id);
    const a = this.answers.get(change.transition_id);
    if (typeof a === 'function') return a();
    return a ?? { kind: 'delivered', attempts: 1 };
  }
}

class FakeMemory {
  readonly remembered = new Map<string, number>();
  lookups = 0;
  delivered(items: readonly DeliveryKey[]): Promise<boolean[]> {
    this.lookups += 1;
    return Promise.resolve(items.map((i) => this.remembered.has(`${i.subscriber}/${i.transitionId}`)));
  }
  remember(item: DeliveryKey, at: number): Promise<void> {
    this.remembered.set(`${item.subscriber}/${item.transitionId}`, at);
    return Promise.resolve();
  }
}

class FakeDlq {
  readonly published: DeadLetter[][] = [];
  failWith: Error | undefined;
  publish(letters: readonly DeadLetter[]): Promise<void> {
    if (this.failWith) return Promise.reject(this.failWith);
    this.published.push([...letters]);
    return Promise.resolve();
  }
  get letters(): DeadLetter[] {
    return this.published.flat();
  }
}

function setup(sinks: FakeSink[], stopping = new AbortController()) {
  const memory = new FakeMemory();
  const dlq = new FakeDlq();
  const registry = new Registry();
  const metrics = new NotifierMetrics(registry);
  const deps: BatchDeliveryDeps = { sinks, decoder, memory, deadLetters: dlq, metrics, logger: createLogger({ name: 'test', level: 'silent' }), stopping: stopping.signal, now: () => 1_000, keepAliveMs: 5 };
  return { delivery: new BatchDelivery(deps), memory, dlq, registry, stopping };
}

const count = async (registry: Registry, subscriber: string, outcome: string): Promise<number> => {
  const metric = await registry.getSingleMetric('tierstream_notifier_deliveries_total')?.get();
  return metric?.values.find((v) => v.labels['subscriber'] === subscriber && v.labels['outcome'] === outcome)?.value ?? 0;
};

const a1 = tierChange({ transition_id: 'c-1:value:1', customer_id: 'c-1', dimension: 'value', direction: 'UP' });
const a2 = tierChange({ transition_id: 'c-1:value:2', customer_id: 'c-1', dimension: 'value', direction: 'DOWN', from_tier: 'gold', to_tier: 'silver' });
const b1 = tierChange({ transition_id: 'c-2:lifecycle:1', customer_id: 'c-2', dimension: 'lifecycle', direction: 'INITIAL', from_tier: null, to_tier: 'active' });

describe('BatchDelivery', () => {
  it('delivers each change to each subscriber whose filter matches, remembering each delivery', async () => {
    const all = new FakeSink('all');
    const ups = new FakeSink('ups', { directions: ['UP'] });
    const { delivery, memory, dlq, registry } = setup([all, ups]);
    await delivery.handle(batchOf([a1, a2, b1]));
    expect(all.calls.sort()).toEqual([a1, a2, b1].map((c) => c.transition_id).sort());
    expect(ups.calls).toEqual([a1.transition_id]);
    expect([...memory.remembered.keys()].sort()).toEqual(['all/c-1:value:1', 'all/c-1:value:2', 'all/c-2:lifecycle:1', 'ups/c-1:value:1']);
    expect(memory.lookups).toBe(1);
    expect(dlq.letters).toEqual([]);
    expect(await count(registry, 'all', 'delivered')).toBe(3);
  });

  it('skips what was delivered before and a transition repeated within the batch', async () => {
    const sink = new FakeSink('s');
    const { delivery, memory, registry } = setup([sink]);
    await memory.remember({ subscriber: 's', transitionId: a1.transition_id }, 1);
    await delivery.handle(batchOf([a1, a2, a2, b1, a2]));
    expect(sink.calls.sort()).toEqual([a2.transition_id, b1.transition_id].sort());
    expect(await count(registry, 's', 'skipped')).toBe(3);
  });

  it("keeps one customer's changes in offset order for a subscriber, even when the first waits", async () => {
    const sink = new FakeSink('s', {}, 8);
    sink.answer(a1.transition_id, () => new Promise((resolve) => setTimeout(() => resolve({ kind: 'delivered', attempts: 2 }), 30)));
    const { delivery } = setup([sink]);
    await delivery.handle(batchOf([a1, b1, a2]));
    expect(sink.calls.indexOf(a1.transition_id)).toBeLessThan(sink.calls.indexOf(a2.transition_id));
    expect(sink.calls[0]).toBe(a1.transition_id);
    expect(sink.calls[1]).toBe(b1.transition_id); // another customer does not wait behind c-1
  });

  it('dead-letters a refused and an exhausted delivery with the original record and coordinates, and does not remember them', async () => {
    const sink = new FakeSink('crm');
    sink.answer(a1.transition_id, { kind: 'rejected', attempts: 1, status: 400, reason: 'POST http://r/ answered 400: bad' });
    sink.answer(b1.transition_id, { kind: 'exhausted', attempts: 5, reason: '5 attempts failed, the last: answered 503' });
    const { delivery, dlq, memory } = setup([sink]);
    const batch = batchOf([a1, b1]);
    await delivery.handle(batch);
    expect(dlq.published).toHaveLength(1);
    expect(dlq.letters).toEqual([
      {
        error_code: 'TS_ERR_WEBHOOK_REJECTED',
        error_message: 'subscriber crm: POST http://r/ answered 400: bad',
        original_value: batch.messages[0]?.value,
        original_key: Buffer.from('c-1'),
        original_headers: { source: Buffer.from('scoring') },
        source_topic: 'ns.customer.tier-changed.v1',
        source_partition: 2,
        source_offset: 100,
        worker: 'notifier',
        event_id: a1.transition_id,
        customer_id: 'c-1',
        failed_at: 1_000,
      },
      expect.objectContaining({ error_code: 'TS_ERR_WEBHOOK_EXHAUSTED', error_message: 'subscriber crm: 5 attempts failed, the last: answered 503', source_offset: 101, event_id: b1.transition_id }),
    ]);
    expect(memory.remembered.size).toBe(0);
  });

  it('dead-letters an undecodable record once, not once per subscriber, and skips tombstones', async () => {
    const [s1, s2] = [new FakeSink('s1'), new FakeSink('s2')];
    const { delivery, dlq } = setup([s1, s2]);
    await delivery.handle(batchOf([Buffer.from('garbage'), null, a1]));
    expect(dlq.letters).toEqual([expect.objectContaining({ error_code: 'TS_ERR_NOTIFIER_UNDECODABLE', error_message: 'the record is garbage', event_id: null, customer_id: 'c-x', source_offset: 100 })]);
    expect(s1.calls).toEqual([a1.transition_id]);
  });

  it('throws when the DLQ write fails, so the batch is not committed and is fetched again', async () => {
    const sink = new FakeSink('s');
    sink.answer(a1.transition_id, { kind: 'rejected', attempts: 1, status: 404, reason: 'answered 404' });
    const { delivery, dlq } = setup([sink]);
    dlq.failWith = new Error('broker down');
    await expect(delivery.handle(batchOf([a1]))).rejects.toThrow('broker down');
  });

  it('does not return before every delivery settled', async () => {
    const sink = new FakeSink('s');
    let settled = false;
    sink.answer(a1.transition_id, () => new Promise((resolve) => setTimeout(() => {
      settled = true;
      resolve({ kind: 'delivered', attempts: 3 });
    }, 40)));
    const { delivery } = setup([sink]);
    await delivery.handle(batchOf([a1, b1]));
    expect(settled).toBe(true);
  });

  it('is left with TS_ERR_DELIVERY_ABORTED when the worker stops mid-batch: no new delivery starts, nothing is published', async () => {
    const sink = new FakeSink('s', {}, 1);
    const stopping = new AbortController();
    sink.answer(a1.transition_id, () => {
      stopping.abort(new DeliveryAbortedError('stopping'));
      return Promise.resolve({ kind: 'delivered', attempts: 1 });
    });
    sink.answer(a2.transition_id, { kind: 'rejected', attempts: 1, status: 400, reason: 'x' });
    const { delivery, dlq } = setup([sink], stopping);
    await expect(delivery.handle(batchOf([a1, a2]))).rejects.toMatchObject({ code: 'TS_ERR_DELIVERY_ABORTED' });
    expect(sink.calls).toEqual([a1.transition_id]);
    expect(dlq.published).toEqual([]);
  });

  it('is left when the partition is no longer ours', async () => {
    const sink = new FakeSink('s');
    let running = true;
    sink.answer(a1.transition_id, () => new Promise((resolve) => {
      running = false;
      setTimeout(() => resolve({ kind: 'delivered', attempts: 1 }), 30);
    }));
    const { delivery } = setup([sink]);
    await expect(delivery.handle(batchOf([a1, a2], () => running))).rejects.toMatchObject({ code: 'TS_ERR_DELIVERY_ABORTED' });
    expect(sink.calls).toEqual([a1.transition_id]);
  });

  it("bounds a subscriber's deliveries in flight by its concurrency", async () => {
    const sink = new FakeSink('s', {}, 2);
    let inFlight = 0;
    let peak = 0;
    const changes = Array.from({ length: 6 }, (_, i) => tierChange({ transition_id: `c-${i}:value:1`, customer_id: `c-${i}` }));
    for (const c of changes) {
      sink.answer(c.transition_id, async () => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 10));
        inFlight -= 1;
        return { kind: 'delivered', attempts: 1 };
      });
    }
    const { delivery } = setup([sink]);
    await delivery.handle(batchOf(changes));
    expect(sink.calls).toHaveLength(6);
    expect(peak).toBe(2);
  });
});
