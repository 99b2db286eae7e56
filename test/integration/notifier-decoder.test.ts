// The notifier's decoder (services/notifier/src/tier-changed-decoder.ts) against registries
// that cannot answer and registries that answer about a record it cannot use.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchemaRegistry } from '@tierstream/runtime';
import { TierChangedDecoder } from '../../services/notifier/src/tier-changed-decoder';

// A wire-format record: magic byte 0, schema id 4242, one byte of payload.
const record = Buffer.from([0, 0, 0, 0x10, 0x92, 2]);

/** A registry at 127.0.0.1 that answers every request with `status` and `body`. */
async function fakeRegistry(status: number, body: unknown): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' }).end(JSON.stringify(body)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

const outcome = async (url: string): Promise<unknown> => new TierChangedDecoder(createSchemaRegistry(url)).decode(record).catch((err: unknown) => ({ thrown: err }));

describe('TierChangedDecoder', () => {
  it('throws (the batch is retried) when nothing listens at the registry URL', async () => {
    expect(await outcome('http://127.0.0.1:1')).toEqual({ thrown: expect.any(Error) });
  });

  it('throws when the registry answers 503', async () => {
    const registry = await fakeRegistry(503, { error_code: 50302, message: 'starting' });
    try {
      expect(await outcome(registry.url)).toEqual({ thrown: expect.any(Error) });
    } finally {
      await registry.close();
    }
  });

  it('dead-letters a record whose registered schema is not a usable Avro schema, rather than retrying it forever', async () => {
    const registry = await fakeRegistry(200, { schema: JSON.stringify({ type: 'no-such-avro-type' }) });
    try {
      expect(await outcome(registry.url)).toEqual({ ok: false, reason: expect.stringContaining('schema id 4242') });
    } finally {
      await registry.close();
    }
  });

  it('dead-letters a record whose schema id the registry does not know', async () => {
    const registry = await fakeRegistry(404, { error_code: 40403, message: 'Schema not found' });
    try {
      expect(await outcome(registry.url)).toEqual({ ok: false, reason: 'schema id 4242 is unknown to the registry' });
    } finally {
      await registry.close();
    }
  });
});
