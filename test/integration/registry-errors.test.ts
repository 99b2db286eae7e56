import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AvroCodec, createSchemaRegistry, isRegistryUnavailable, SchemaFiles } from '@tierstream/runtime';
import { provisionNamespace } from '../support/pipeline';

/** What a decode throws, or 'decoded'. */
async function decodeFailure(url: string, buffer: Buffer): Promise<unknown> {
  try {
    await createSchemaRegistry(url).decode(buffer);
    return 'decoded';
  } catch (err) {
    return err;
  }
}

// A wire-format record (magic byte 0, then a schema id) whose id no registry holds.
const unknownId = Buffer.from([0, 0x7f, 0xff, 0xff, 0x00, 2, 0x61]);

describe('isRegistryUnavailable tells a registry that cannot answer from a record it cannot use', () => {
  it('is true when nothing listens at the registry URL', async () => {
    const err = await decodeFailure('http://127.0.0.1:1/apis/ccompat/v7', unknownId);
    expect(err).toBeInstanceOf(Error);
    expect(isRegistryUnavailable(err)).toBe(true);
  });

  it('is true when the registry answers 503', async () => {
    const server = http.createServer((_req, res) => res.writeHead(503, { 'content-type': 'application/json' }).end('{"message":"starting"}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const { port } = server.address() as AddressInfo;
      const err = await decodeFailure(`http://127.0.0.1:${port}`, unknownId);
      expect(isRegistryUnavailable(err)).toBe(true);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('is true, after the request timeout, when the registry accepts the connection and never answers', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const server = http.createServer(() => undefined);
    server.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const { port } = server.address() as AddressInfo;
      // Without a request timeout this call never settles (the test times out).
      const err = await createSchemaRegistry(`http://127.0.0.1:${port}`, 300)
        .decode(unknownId)
        .then(() => 'decoded', (e: unknown) => e);
      expect(isRegistryUnavailable(err)).toBe(true);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('is false for an id the real registry does not know, and for a bad magic byte', async () => {
    const { endpoints } = await provisionNamespace('regerr', 1);
    const unknown = await decodeFailure(endpoints.schemaRegistryUrl, unknownId);
    expect(unknown).toBeInstanceOf(Error);
    expect(isRegistryUnavailable(unknown)).toBe(false);
    const badMagic = await decodeFailure(endpoints.schemaRegistryUrl, Buffer.from('{"json":true}'));
    expect(isRegistryUnavailable(badMagic)).toBe(false);
  });

  it('is false for a payload that does not match its registered schema', async () => {
    const { namespace, endpoints } = await provisionNamespace('regerr', 1);
    const codec = new AvroCodec(createSchemaRegistry(endpoints.schemaRegistryUrl), `${namespace}customer.events.v1`, SchemaFiles.customerEvent);
    const id = await codec.init();
    const header = Buffer.alloc(5);
    header.writeUInt32BE(id, 1);
    const truncated = Buffer.concat([header, Buffer.from([0x80])]);
    const err = await decodeFailure(endpoints.schemaRegistryUrl, truncated);
    expect(err).toBeInstanceOf(Error);
    expect(isRegistryUnavailable(err)).toBe(false);
  });
});
