import { Readable } from 'node:stream';
import { checkContentHeaders, parseEventsBody, readBody } from './http-request';

describe('checkContentHeaders', () => {
  it.each(['application/json', 'Application/JSON', 'application/json; charset=utf-8', 'application/json;charset="UTF-8"', 'application/json; charset=utf8'])('accepts %j', (type) => {
    expect(checkContentHeaders(type, undefined)).toBeUndefined();
    expect(checkContentHeaders(type, 'identity')).toBeUndefined();
  });

  it.each([
    [undefined, undefined, 'Content-Type must be application/json, got none'],
    ['', undefined, 'Content-Type must be application/json, got none'],
    ['text/plain', undefined, "Content-Type must be application/json, got 'text/plain'"],
    ['application/x-ndjson', undefined, "Content-Type must be application/json, got 'application/x-ndjson'"],
    ['application/json; charset=latin1', undefined, "the charset must be utf-8, got 'latin1'"],
    ['application/json', 'gzip', "Content-Encoding 'gzip' is not supported; send the body uncompressed"],
  ])('refuses Content-Type %j with Content-Encoding %j as 415', (type, encoding, message) => {
    expect(checkContentHeaders(type, encoding)).toEqual({ status: 415, code: 'TS_ERR_INGEST_UNSUPPORTED_MEDIA_TYPE', message });
  });
});

describe('parseEventsBody', () => {
  const body = (text: string) => Buffer.from(text, 'utf8');

  it('returns the events of a JSON array, a BOM or not', () => {
    expect(parseEventsBody(body('[{"a":1}, 2]'), 10)).toEqual({ ok: true, events: [{ a: 1 }, 2] });
    expect(parseEventsBody(body('\uFEFF[]'), 10)).toEqual({ ok: true, events: [] });
  });

  it('accepts exactly the maximum number of events and refuses one more as 413', () => {
    expect(parseEventsBody(body('[1,2,3]'), 3)).toMatchObject({ ok: true });
    expect(parseEventsBody(body('[1,2,3,4]'), 3)).toEqual({
      ok: false,
      refusal: { status: 413, code: 'TS_ERR_INGEST_TOO_MANY_EVENTS', message: 'the body holds 4 events; at most 3 are accepted per request (INGEST_MAX_EVENTS)' },
    });
  });

  it.each([
    ['', 'the body is empty; send a JSON array of events'],
    ['  \n', 'the body is empty; send a JSON array of events'],
    ['{"event_id":"e"}', 'the body must be a JSON array of events, got object (wrap a single event in [ ])'],
    ['"events"', 'the body must be a JSON array of events, got string'],
    ['null', 'the body must be a JSON array of events, got null'],
  ])('refuses %j as 400', (text, message) => {
    expect(parseEventsBody(body(text), 10)).toEqual({ ok: false, refusal: { status: 400, code: 'TS_ERR_INGEST_MALFORMED_BODY', message } });
  });

  it('refuses malformed JSON as 400 without quoting the body', () => {
    const result = parseEventsBody(body('[{"email": "someone@example.com", oops}]'), 10);
    expect(result).toMatchObject({ ok: false, refusal: { status: 400, code: 'TS_ERR_INGEST_MALFORMED_BODY' } });
    const message = result.ok ? '' : result.refusal.message;
    expect(message).toMatch(/^the body is not valid JSON: \S/);
    expect(message).not.toContain('someone@example.com');
  });

  it('refuses bytes that are not UTF-8 as 400', () => {
    expect(parseEventsBody(Buffer.from([0x5b, 0xff, 0x5d]), 10)).toEqual({
      ok: false,
      refusal: { status: 400, code: 'TS_ERR_INGEST_MALFORMED_BODY', message: 'the body is not valid UTF-8' },
    });
  });
});

describe('readBody', () => {
  const stream = (...chunks: string[]) => Readable.from(chunks.map((c) => Buffer.from(c)));

  it('returns the whole body within the limit', async () => {
    await expect(readBody(stream('[1,', '2]'), undefined, 5)).resolves.toEqual({ ok: true, body: Buffer.from('[1,2]') });
  });

  it('refuses a declared Content-Length above the limit before reading', async () => {
    await expect(readBody(stream('x'), '2000', 1024)).resolves.toEqual({
      ok: false,
      refusal: { status: 413, code: 'TS_ERR_INGEST_BODY_TOO_LARGE', message: 'the body is 2000 bytes; the limit is 1024 (INGEST_MAX_BODY_BYTES)' },
    });
  });

  it('settles when the client goes away mid-body, so that draining never waits for it', async () => {
    const source = new Readable({ read() {} });
    source.push(Buffer.from('[{"a":'));
    const reading = readBody(source, undefined, 1024);
    source.destroy();
    await expect(reading).resolves.toEqual({
      ok: false,
      refusal: { status: 400, code: 'TS_ERR_INGEST_MALFORMED_BODY', message: 'the body did not arrive whole: the connection closed' },
    });
  });

  it('refuses a body that grows past the limit, and reads the rest away', async () => {
    const source = stream('12345', '67890', 'abc');
    await expect(readBody(source, undefined, 8)).resolves.toEqual({
      ok: false,
      refusal: { status: 413, code: 'TS_ERR_INGEST_BODY_TOO_LARGE', message: 'the body is more than 8 bytes; the limit is 8 (INGEST_MAX_BODY_BYTES)' },
    });
    if (!source.readableEnded) await new Promise((resolve) => source.once('end', resolve));
    expect(source.readableEnded).toBe(true);
  });
});
