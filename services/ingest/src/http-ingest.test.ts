import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TierstreamError } from '@tierstream/runtime';
import { SETTLED_MARKER } from './dedupe';
import { HttpIngestor } from './http-ingest';
import { JsonEncoder, MapDedupe, quietLogger, RecordingDeadLetters, RecordingWriter, testMetrics } from './testing/doubles';

const NOW = Date.UTC(2026, 2, 1, 12);
const EVENTS = 'ns.customer.events.v1';
const PENDING = 60_000;

const event = (eventId: string, changes: Record<string, unknown> = {}) => ({
  event_id: eventId,
  customer_id: `c-${eventId}`,
  type: 'interaction',
  occurred_at: NOW - 1000,
  interaction_kind: 'visit',
  ...changes,
});

function setup() {
  const dedupe = new MapDedupe();
  const writer = new RecordingWriter();
  const deadLetters = new RecordingDeadLetters();
  const ingestor = new HttpIngestor(
    { encoder: new JsonEncoder(), dedupe, writer, deadLetters, metrics: testMetrics(), logger: quietLogger() },
    { eventsTopic: EVENTS, maxBodyBytes: 4096, maxEvents: 10, pendingTtlMs: PENDING, clock: () => NOW },
  );
  return { ingestor, dedupe, writer, deadLetters };
}

/** The ingestor behind a real HTTP server, answering 404 for other paths and 500 when it throws (as the ops server does). */
async function serve(ingestor: HttpIngestor): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    ingestor.route(req, res).then(
      (handled) => {
        if (!handled) res.writeHead(404).end();
      },
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('HttpIngestor.ingest', () => {
  it('claims with a short pending TTL, produces, then settles the id (remembered for the dedupe horizon)', async () => {
    const { ingestor, dedupe, writer } = setup();
    const claim = dedupe.claim.bind(dedupe);
    const seenWhileProducing: (string | undefined)[] = [];
    dedupe.claim = async (claims) => {
      const result = await claim(claims);
      seenWhileProducing.push(dedupe.markers.get('e-1'), String(dedupe.ttls.get('e-1')));
      return result;
    };
    expect(await ingestor.ingest([event('e-1')])).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    expect(seenWhileProducing[0]).toMatch(/^pending:[0-9a-f-]{36}$/);
    expect(seenWhileProducing[1]).toBe(String(PENDING));
    expect(dedupe.markers.get('e-1')).toBe(SETTLED_MARKER);
    expect(writer.writes[0]?.messages.map((m) => m.key)).toEqual(['c-e-1']);
    expect(writer.writes[0]?.offsets).toBeUndefined();
  });

  it('releases its claims when the produce fails, so resending the request is accepted', async () => {
    const { ingestor, dedupe, writer } = setup();
    writer.failNext = new TierstreamError('TS_ERR_INGEST_PRODUCE', 'producing 2 events failed', { retriable: true });
    await expect(ingestor.ingest([event('e-1'), event('e-2')])).rejects.toMatchObject({ code: 'TS_ERR_INGEST_PRODUCE', retriable: true });
    expect([...dedupe.markers.keys()]).toEqual([]);
    expect(await ingestor.ingest([event('e-1'), event('e-2')])).toEqual({ accepted: 2, duplicates: 0, rejected: [] });
    expect(writer.produced().map((e) => e.event_id)).toEqual(['e-1', 'e-2']);
  });

  it('produces nothing and releases its claims when the dead letters cannot be written', async () => {
    const { ingestor, dedupe, writer, deadLetters } = setup();
    deadLetters.failNext = new Error('DLQ unavailable');
    await expect(ingestor.ingest([event('e-1'), event('e-bad', { type: 'nope' })])).rejects.toMatchObject({ code: 'TS_ERR_INGEST_DEAD_LETTER', retriable: true });
    expect(writer.writes).toEqual([]);
    expect([...dedupe.markers.keys()]).toEqual([]);
  });

  it('still answers with what Kafka acknowledged when settling fails', async () => {
    const { ingestor, dedupe, writer } = setup();
    dedupe.settle = async () => Promise.reject(new Error('READONLY'));
    expect(await ingestor.ingest([event('e-1')])).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    expect(writer.produced()).toHaveLength(1);
  });

  it('dead-letters rejected elements as their JSON, without key or coordinates, and lists them by index', async () => {
    const { ingestor, deadLetters } = setup();
    const bad = event('e-bad', { occurred_at: '2026-03-01T10:00:00' });
    const answer = await ingestor.ingest([event('e-1'), bad, 42]);
    expect(answer.rejected).toEqual([
      { index: 1, event_id: 'e-bad', code: 'TS_ERR_INGEST_INVALID_FIELD', message: 'occurred_at: must carry a UTC offset (Z or ±hh:mm), got "2026-03-01T10:00:00"', retriable: false },
      { index: 2, code: 'TS_ERR_INGEST_NOT_OBJECT', message: 'an event must be a JSON object, got number', retriable: false },
    ]);
    expect(deadLetters.letters.map((l) => [l.error_code, l.original_value?.toString(), l.original_key, l.source_topic, l.source_offset, l.customer_id])).toEqual([
      ['TS_ERR_INGEST_INVALID_FIELD', JSON.stringify(bad), null, null, null, 'c-e-bad'],
      ['TS_ERR_INGEST_NOT_OBJECT', '42', null, null, null, null],
    ]);
  });

  it('treats an id claimed by a raw record or a finished request as a duplicate, and a pending one as in flight', async () => {
    const { ingestor, dedupe, writer } = setup();
    dedupe.markers.set('e-raw', 'ns.customer.events.raw:0:7');
    dedupe.markers.set('e-done', 'done:other');
    dedupe.markers.set('e-pending', 'pending:other');
    const answer = await ingestor.ingest([event('e-raw'), event('e-done'), event('e-pending'), event('e-new')]);
    expect(answer).toEqual({
      accepted: 1,
      duplicates: 2,
      rejected: [{ index: 2, event_id: 'e-pending', code: 'TS_ERR_INGEST_DUPLICATE_IN_FLIGHT', message: 'event e-pending is being ingested by another request; send it again shortly', retriable: true }],
    });
    expect(writer.produced().map((e) => e.event_id)).toEqual(['e-new']);
    expect(dedupe.markers.get('e-pending')).toBe('pending:other');
  });
});

describe('HttpIngestor.route', () => {
  const post = (url: string, body: unknown) => fetch(`${url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('answers 503 before open(), serves after, and leaves other paths alone', async () => {
    const { ingestor } = setup();
    const server = await serve(ingestor);
    try {
      const early = await post(server.url, [event('e-1')]);
      expect(early.status).toBe(503);
      expect(early.headers.get('retry-after')).toBe('1');
      expect(await early.json()).toEqual({ error: { code: 'TS_ERR_INGEST_NOT_ACCEPTING', message: 'the ingest worker is starting or shutting down; retry shortly' } });
      ingestor.open();
      expect((await post(server.url, [event('e-1')])).status).toBe(202);
      expect((await fetch(`${server.url}/v1/other`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('lets drain() wait for the request in hand and refuses new ones meanwhile', async () => {
    const { ingestor, writer } = setup();
    ingestor.open();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const write = writer.write.bind(writer);
    writer.write = async (topic, messages) => {
      await gate;
      return write(topic, messages);
    };
    const server = await serve(ingestor);
    try {
      const inHand = post(server.url, [event('e-slow')]);
      await new Promise((r) => setTimeout(r, 100));
      let drained = false;
      const draining = ingestor.drain().then(() => (drained = true));
      expect((await post(server.url, [event('e-late')])).status).toBe(503);
      expect(drained).toBe(false);
      release();
      expect((await inHand).status).toBe(202);
      await draining;
      expect(writer.produced().map((e) => e.event_id)).toEqual(['e-slow']);
    } finally {
      await server.close();
    }
  });

  it('answers 503 with the error code when Redis fails, and the client may resend', async () => {
    const { ingestor, dedupe } = setup();
    ingestor.open();
    dedupe.failNext = new TierstreamError('TS_ERR_INGEST_DEDUPE', 'claiming event ids failed: ECONNREFUSED', { retriable: true });
    const server = await serve(ingestor);
    try {
      const res = await post(server.url, [event('e-1')]);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({
        error: { code: 'TS_ERR_INGEST_DEDUPE', message: 'claiming event ids failed: ECONNREFUSED; nothing of this request was produced, send it again' },
      });
      expect((await post(server.url, [event('e-1')])).status).toBe(202);
    } finally {
      await server.close();
    }
  });
});

describe('POST /v1/events with an event nested too deep (issue 9, defect 1)', () => {
  const deepOrder = (levels: number): string =>
    `{"event_id":"e-deep","customer_id":"c-deep","type":"order","occurred_at":${NOW - 1000},"order_id":"o","amount":"1.00","currency":"ZZZ","junk":${'['.repeat(levels)}${']'.repeat(levels)}}`;

  /** An open ingestor with the default depth limit (64, INGEST_MAX_EVENT_DEPTH's default) and its own metrics. */
  function counted() {
    const writer = new RecordingWriter();
    const deadLetters = new RecordingDeadLetters();
    const metrics = testMetrics();
    const ingestor = new HttpIngestor(
      { encoder: new JsonEncoder(), dedupe: new MapDedupe(), writer, deadLetters, metrics, logger: quietLogger() },
      { eventsTopic: EVENTS, maxBodyBytes: 1 << 20, maxEvents: 10, pendingTtlMs: PENDING, clock: () => NOW },
    );
    ingestor.open();
    const requests = async () => (await metrics.httpRequests.get()).values.map((v) => [v.labels.status, v.value]);
    return { ingestor, writer, deadLetters, requests };
  }
  const postText = (url: string, body: string) => fetch(`${url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('ingests the other events, rejects the deep one with TS_ERR_INGEST_TOO_DEEP and dead-letters its bytes as sent', async () => {
    const { ingestor, writer, deadLetters, requests } = counted();
    const server = await serve(ingestor);
    try {
      const deep = deepOrder(5000);
      const res = await postText(server.url, `[${JSON.stringify(event('e-1'))}, ${deep} ,${JSON.stringify(event('e-2'))}]`);
      expect(res.status).toBe(202);
      const answer = (await res.json()) as { accepted: number; rejected: { index: number; event_id?: string; code: string; message: string }[] };
      expect(answer.accepted).toBe(2);
      expect(answer.rejected).toEqual([
        {
          index: 1,
          event_id: 'e-deep',
          code: 'TS_ERR_INGEST_TOO_DEEP',
          message: expect.stringMatching(/^the event is nested 5001 levels deep; at most 64 are accepted \(INGEST_MAX_EVENT_DEPTH\); currency: 'ZZZ'/),
          retriable: false,
        },
      ]);
      expect(writer.produced().map((e) => e.event_id)).toEqual(['e-1', 'e-2']);
      expect(deadLetters.letters.map((l) => [l.error_code, l.event_id, l.customer_id, l.original_value?.toString()])).toEqual([['TS_ERR_INGEST_TOO_DEEP', 'e-deep', 'c-deep', deep]]);
      expect(await requests()).toEqual([['202', 1]]);
    } finally {
      await server.close();
    }
  });

  it('counts a request that fails unexpectedly as a 500 in tierstream_ingest_http_requests_total', async () => {
    const { ingestor, writer, requests } = counted();
    writer.failNext = new Error('a bug, not an outage');
    const server = await serve(ingestor);
    try {
      expect((await postText(server.url, JSON.stringify([event('e-1')]))).status).toBe(500);
      expect(await requests()).toEqual([['500', 1]]);
    } finally {
      await server.close();
    }
  });
});

describe('POST /v1/events with amounts written as JSON numbers (issue 9, defect 3)', () => {
  it('rejects the element whose amount has an exponent, reading each element on its own', async () => {
    const { ingestor, writer } = setup();
    ingestor.open();
    const server = await serve(ingestor);
    const order = (eventId: string, amount: string) =>
      `{"event_id":"${eventId}","customer_id":"c","type":"order","occurred_at":${NOW - 1000},"order_id":"o","amount":${amount},"currency":"EUR"}`;
    try {
      const body = `[${order('e-1', '1.50')}, ${order('e-exp', '1e2')}, [1e2], ${order('e-2', '100')}]`;
      const res = await fetch(`${server.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).toBe(202);
      const answer = (await res.json()) as { rejected: { index: number; code: string; message: string }[] };
      expect(answer.rejected.map((r) => [r.index, r.code, r.message])).toEqual([
        [1, 'TS_ERR_INGEST_INVALID_AMOUNT', 'amount: must be a decimal number without an exponent, such as 12.34, got 1e2'],
        [2, 'TS_ERR_INGEST_NOT_OBJECT', 'an event must be a JSON object, got array'],
      ]);
      expect(writer.produced().map((e) => [e.event_id, e.order?.amount_minor])).toEqual([
        ['e-1', 150],
        ['e-2', 10_000],
      ]);
    } finally {
      await server.close();
    }
  });
});

describe('HttpIngestor metrics of a failed request (issue 9, defect 6)', () => {
  it('counts duplicates only for a request that produced, so a resent request counts them once', async () => {
    const dedupe = new MapDedupe();
    const writer = new RecordingWriter();
    const metrics = testMetrics();
    const ingestor = new HttpIngestor(
      { encoder: new JsonEncoder(), dedupe, writer, deadLetters: new RecordingDeadLetters(), metrics, logger: quietLogger() },
      { eventsTopic: EVENTS, maxBodyBytes: 4096, maxEvents: 10, pendingTtlMs: PENDING, clock: () => NOW },
    );
    dedupe.markers.set('e-done', 'done:earlier');
    writer.failNext = new TierstreamError('TS_ERR_INGEST_PRODUCE', 'producing failed', { retriable: true });
    const body = [event('e-done'), event('e-new')];
    await expect(ingestor.ingest(body)).rejects.toMatchObject({ code: 'TS_ERR_INGEST_PRODUCE' });
    expect(await ingestor.ingest(body)).toEqual({ accepted: 1, duplicates: 1, rejected: [] });
    const duplicates = (await metrics.duplicates.get()).values.reduce((sum, v) => sum + v.value, 0);
    expect(duplicates).toBe(1);
  });
});
