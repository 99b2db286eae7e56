import { jsonErrorReason, parseJsonBytes, RawRecordDecoder, type SchemaLookup } from './raw-record';
import { TierstreamError } from '@tierstream/runtime';

/** A registry double: knows schema id 7, whose records decode to `{ decoded: true }`. */
class FakeRegistry implements SchemaLookup {
  lookups = 0;
  constructor(private readonly failure?: Error & { status?: number }) {}
  async getSchema(id: number): Promise<unknown> {
    this.lookups++;
    if (this.failure) throw this.failure;
    if (id !== 7) throw Object.assign(new Error('Schema not found'), { status: 404 });
    return {};
  }
  async decode(buffer: Buffer): Promise<unknown> {
    if (buffer.length !== 6) throw new Error('truncated buffer');
    return { decoded: true };
  }
}

const avro = (id: number, payload: number[]) => {
  const header = Buffer.alloc(5);
  header.writeInt32BE(id, 1);
  return Buffer.concat([header, Buffer.from(payload)]);
};

describe('RawRecordDecoder', () => {
  const decoder = new RawRecordDecoder(new FakeRegistry(), 64);

  it('decodes UTF-8 JSON, with or without a BOM', async () => {
    await expect(decoder.decode(Buffer.from('{"event_id":"e"}'))).resolves.toEqual({ ok: true, payload: { event_id: 'e' }, format: 'json' });
    await expect(decoder.decode(Buffer.from('\uFEFF{"a":1}'))).resolves.toEqual({ ok: true, payload: { a: 1 }, format: 'json' });
  });

  it('decodes Avro in the Confluent wire format with the registry', async () => {
    await expect(decoder.decode(avro(7, [1]))).resolves.toEqual({ ok: true, payload: { decoded: true }, format: 'avro' });
  });

  it.each([
    ['a null value', null, 'TS_ERR_INGEST_EMPTY_RECORD', 'the record has no value (null)'],
    ['zero bytes', Buffer.alloc(0), 'TS_ERR_INGEST_EMPTY_RECORD', 'the record has no value (zero bytes)'],
    ['65 bytes', Buffer.alloc(65, 0x20), 'TS_ERR_INGEST_TOO_LARGE', 'the record is 65 bytes; the limit is 64 (INGEST_MAX_EVENT_BYTES)'],
    ['malformed JSON', Buffer.from('{"event_id": oops}'), 'TS_ERR_INGEST_NOT_JSON', 'the record is not valid JSON: '],
    ['bytes that are not UTF-8', Buffer.from([0x7b, 0xfe, 0x7d]), 'TS_ERR_INGEST_NOT_JSON', 'the record is not valid UTF-8 (and does not start with the Avro magic byte 0)'],
    ['a short Avro header', Buffer.from([0, 0, 7]), 'TS_ERR_INGEST_AVRO_DECODE', 'the record starts with the Avro magic byte 0 but has 3 bytes, fewer than the 5-byte header'],
    ['an unknown schema id', avro(99, [1]), 'TS_ERR_INGEST_AVRO_DECODE', 'schema id 99 is not known to the registry'],
    ['bytes that do not decode', avro(7, [1, 2]), 'TS_ERR_INGEST_AVRO_DECODE', 'the record does not decode with schema id 7: truncated buffer'],
  ])('rejects %s', async (_what, value, code, reason) => {
    const result = await decoder.decode(value);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problem.code).toBe(code);
      expect(result.problem.reason.startsWith(reason)).toBe(true);
    }
  });

  it('throws a retriable registry error when the registry cannot be reached, so the batch is retried', async () => {
    const down = new RawRecordDecoder(new FakeRegistry(new Error('ECONNREFUSED')), 64);
    const attempt = down.decode(avro(7, [1]));
    await expect(attempt).rejects.toBeInstanceOf(TierstreamError);
    await expect(attempt).rejects.toMatchObject({ code: 'TS_ERR_SCHEMA_REGISTRY', retriable: true });
    const unavailable = new RawRecordDecoder(new FakeRegistry(Object.assign(new Error('Service Unavailable'), { status: 503 })), 64);
    await expect(unavailable.decode(avro(7, [1]))).rejects.toMatchObject({ code: 'TS_ERR_SCHEMA_REGISTRY', retriable: true });
  });
});

describe('parseJsonBytes and jsonErrorReason', () => {
  it('keeps the parser reason but never the quoted input', () => {
    let thrown: unknown;
    try {
      JSON.parse('not json with someone@example.com');
    } catch (err) {
      thrown = err;
    }
    const reason = jsonErrorReason(thrown);
    expect(reason.length).toBeGreaterThan(0);
    expect(reason).not.toContain('example.com');
    const parsed = parseJsonBytes(Buffer.from('not json with someone@example.com'));
    expect(parsed.ok ? '' : parsed.problem.reason).not.toContain('example.com');
  });

  it('parses any JSON text, not only objects (the normaliser judges the shape)', () => {
    expect(parseJsonBytes(Buffer.from('[1]'))).toEqual({ ok: true, payload: [1], format: 'json' });
  });
});

describe('a raw JSON record nested too deep (issue 9, defect 1)', () => {
  it('is rejected as TS_ERR_INGEST_TOO_DEEP with its ids, the deep part never parsed', async () => {
    const deep = `{"event_id":"e-deep","customer_id":"c-deep","junk":{"a":${'['.repeat(5000)}${']'.repeat(5000)}}}`;
    const decoded = await new RawRecordDecoder(new FakeRegistry(), 65536).decode(Buffer.from(deep));
    expect(decoded).toMatchObject({
      ok: true,
      payload: { event_id: 'e-deep', customer_id: 'c-deep' },
      reading: { tooDeep: { code: 'TS_ERR_INGEST_TOO_DEEP', field: '', reason: 'the event is nested 5002 levels deep; at most 64 are accepted (INGEST_MAX_EVENT_DEPTH)' } },
    });
  });
});

describe('RawRecordDecoder when the registry is unavailable (issue 9, outages)', () => {
  /** The client's report of a refused connection: a ResponseError with status 400 and the socket error. */
  const refused = () => Object.assign(new Error('Confluent_Schema_Registry - Error, status 400: connect ECONNREFUSED 127.0.0.1:1'), { name: 'ResponseError', status: 400 });
  const unavailable = () => Object.assign(new Error('Confluent_Schema_Registry - Error, status 503: Service Unavailable'), { name: 'ResponseError', status: 503 });

  /** Knows schema id 7, then fails to decode with `failure` (a registry call the cache did not spare). */
  const decodingFails = (failure: Error): SchemaLookup => ({
    getSchema: async () => ({}),
    decode: async () => Promise.reject(failure),
  });

  it.each([
    ['a refused connection', refused],
    ['a 503', unavailable],
  ])('throws a retriable TS_ERR_SCHEMA_REGISTRY, never a dead letter, when decoding meets %s', async (_what, failure) => {
    const attempt = new RawRecordDecoder(decodingFails(failure()), 64).decode(avro(7, [1]));
    await expect(attempt).rejects.toMatchObject({ code: 'TS_ERR_SCHEMA_REGISTRY', retriable: true });
  });

  it('throws a retriable error when the schema lookup meets a refused connection (the client reports it as a 400)', async () => {
    await expect(new RawRecordDecoder(new FakeRegistry(refused()), 64).decode(avro(7, [1]))).rejects.toMatchObject({ code: 'TS_ERR_SCHEMA_REGISTRY', retriable: true });
  });

  it('still dead-letters bytes that do not decode with a schema the registry gave', async () => {
    await expect(new RawRecordDecoder(decodingFails(new Error('truncated buffer')), 64).decode(avro(7, [1]))).resolves.toMatchObject({
      ok: false,
      problem: { code: 'TS_ERR_INGEST_AVRO_DECODE' },
    });
  });
});
