import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchemaRegistry } from '@tierstream/runtime';
import type { CustomerEvent } from '@tierstream/domain';
import { CanonicalEncoder } from './canonical-encoder';
import { HttpIngestor } from './http-ingest';
import { MapDedupe, quietLogger, RecordingDeadLetters, RecordingWriter, testMetrics } from './testing/doubles';

/** A registry URL where nothing listens: every call is a refused connection. */
const DEAD_REGISTRY = 'http://127.0.0.1:1/apis/ccompat/v7';
const NOW = Date.UTC(2026, 2, 1, 12);

const event: CustomerEvent = {
  event_id: 'e-1',
  customer_id: 'c-1',
  type: 'INTERACTION',
  event_time: NOW - 1000,
  channel: null,
  region: null,
  customer_type: null,
  industry: null,
  order: null,
  refund: null,
  interaction: { kind: 'VISIT', campaign_id: null },
  feedback: null,
  attributes: {},
};

describe('CanonicalEncoder with the registry unreachable (issue 9, outages)', () => {
  it('throws a retriable TS_ERR_SCHEMA_REGISTRY that says the registry cannot be reached, never a rejection of the event', async () => {
    const encoder = new CanonicalEncoder(createSchemaRegistry(DEAD_REGISTRY), 'ns.customer.events.v1');
    const attempt = encoder.encode(event);
    await expect(attempt).rejects.toMatchObject({ code: 'TS_ERR_SCHEMA_REGISTRY', retriable: true });
    await expect(attempt).rejects.toThrow(/^the schema registry cannot be reached to encode for ns\.customer\.events\.v1: .*ECONNREFUSED/);
  });

  it('makes POST /v1/events answer 503 with that message, producing and dead-lettering nothing', async () => {
    const writer = new RecordingWriter();
    const deadLetters = new RecordingDeadLetters();
    const ingestor = new HttpIngestor(
      { encoder: new CanonicalEncoder(createSchemaRegistry(DEAD_REGISTRY), 'ns.customer.events.v1'), dedupe: new MapDedupe(), writer, deadLetters, metrics: testMetrics(), logger: quietLogger() },
      { eventsTopic: 'ns.customer.events.v1', maxBodyBytes: 4096, maxEvents: 10, pendingTtlMs: 60_000, clock: () => NOW },
    );
    ingestor.open();
    const server = http.createServer((req, res) => void ingestor.route(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const body = JSON.stringify([{ event_id: 'e-1', customer_id: 'c-1', type: 'interaction', occurred_at: NOW - 1000 }]);
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      const answer = (await res.json()) as { error: { code: string; message: string } };
      expect(answer.error.code).toBe('TS_ERR_SCHEMA_REGISTRY');
      expect(answer.error.message).toMatch(/^the schema registry cannot be reached to encode for ns\.customer\.events\.v1: .*; nothing of this request was produced, send it again$/);
      expect(writer.writes).toEqual([]);
      expect(deadLetters.letters).toEqual([]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
