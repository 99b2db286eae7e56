import type { Readable } from 'node:stream';
import type { ErrorCode } from '@tierstream/runtime';
import { tooDeepProblem, type EventReading } from './check-event';
import { scanJson } from './json-text';
import { AMOUNT_KEYS } from './money';
import { INGEST_DEFAULTS } from './config';
import { jsonErrorReason } from './raw-record';
import { typeName } from './problems';

/** A request-level refusal of POST /v1/events: nothing of the request was ingested. */
export interface HttpRefusal {
  readonly status: number;
  readonly code: ErrorCode;
  readonly message: string;
}

const refuse = (status: number, code: ErrorCode, message: string): HttpRefusal => ({ status, code, message });

/** Content-Type must be application/json (charset, if given, UTF-8); no Content-Encoding but identity. */
export function checkContentHeaders(contentType: string | undefined, contentEncoding: string | undefined): HttpRefusal | undefined {
  const unsupported = (message: string) => refuse(415, 'TS_ERR_INGEST_UNSUPPORTED_MEDIA_TYPE', message);
  if (contentType === undefined || contentType.trim() === '') return unsupported('Content-Type must be application/json, got none');
  const [mediaType = '', ...params] = contentType.split(';');
  const type = mediaType.trim().toLowerCase();
  if (type !== 'application/json') return unsupported(`Content-Type must be application/json, got '${type.slice(0, 80)}'`);
  for (const param of params) {
    const [name = '', value = ''] = param.split('=', 2).map((s) => s.trim());
    if (name.toLowerCase() !== 'charset') continue;
    const charset = value.replace(/^"(.*)"$/, '$1').toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') return unsupported(`the charset must be utf-8, got '${charset.slice(0, 40)}'`);
  }
  const encoding = contentEncoding?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') return unsupported(`Content-Encoding '${encoding.slice(0, 40)}' is not supported; send the body uncompressed`);
  return undefined;
}

export const bodyTooLarge = (limit: number, size?: number): HttpRefusal =>
  refuse(413, 'TS_ERR_INGEST_BODY_TOO_LARGE', `the body is ${size === undefined ? `more than ${limit}` : String(size)} bytes; the limit is ${limit} (INGEST_MAX_BODY_BYTES)`);

/**
 * Reads a request body up to `maxBytes`. Refuses at once when Content-Length announces
 * more, or as soon as more arrives; the rest of the body is then read and discarded, so
 * that the client gets the answer instead of a reset connection.
 */
export function readBody(req: Readable, contentLength: string | undefined, maxBytes: number): Promise<{ ok: true; body: Buffer } | { ok: false; refusal: HttpRefusal }> {
  const declared = contentLength === undefined ? undefined : Number(contentLength);
  if (declared !== undefined && Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    return Promise.resolve({ ok: false, refusal: bodyTooLarge(maxBytes, declared) });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      fn();
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      chunks.length = 0;
      req.off('data', onData);
      req.resume();
      settle(() => resolve({ ok: false, refusal: bodyTooLarge(maxBytes) }));
    };
    req.on('data', onData);
    req.once('end', () => settle(() => resolve({ ok: true, body: Buffer.concat(chunks, size) })));
    // A client that goes away mid-body: settle, so that drain() never waits for it.
    const cut = (why: string) => settle(() => resolve({ ok: false, refusal: refuse(400, 'TS_ERR_INGEST_MALFORMED_BODY', `the body did not arrive whole: ${why}`) }));
    req.once('error', (err) => cut(err.message));
    req.once('close', () => cut('the connection closed'));
  });
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** An element of the body that needs more than its value: nested too deep, with its text as sent. */
export interface ElementReading extends EventReading {
  /** The element's bytes as sent, for its dead letter, when its value was cut. */
  readonly original?: Buffer;
}

export type ParsedBody = { ok: true; events: unknown[]; readings?: ReadonlyMap<number, ElementReading> } | { ok: false; refusal: HttpRefusal };

/**
 * The body as the array of events it must be (400 otherwise, 413 when it holds more than
 * `maxEvents`). An event nested deeper than `maxEventDepth` is cut before JSON.parse sees it
 * and gets a reading that rejects it (TS_ERR_INGEST_TOO_DEEP); the other events are unharmed.
 */
export function parseEventsBody(body: Buffer, maxEvents: number, maxEventDepth: number = INGEST_DEFAULTS.maxEventDepth): ParsedBody {
  const malformed = (message: string) => ({ ok: false as const, refusal: refuse(400, 'TS_ERR_INGEST_MALFORMED_BODY', message) });
  let text: string;
  try {
    text = UTF8.decode(body);
  } catch {
    return malformed('the body is not valid UTF-8');
  }
  if (text.trim() === '') return malformed('the body is empty; send a JSON array of events');
  // The array is one level: its events may have maxEventDepth more.
  const scan = scanJson(text, maxEventDepth + 1, { members: true, numberKeys: AMOUNT_KEYS });
  let parsed: unknown;
  try {
    parsed = JSON.parse(scan.text);
  } catch (err) {
    if (scan.depth > maxEventDepth + 1) return malformed(`the body is not valid JSON (and is nested ${scan.depth} levels deep, more than an array of events of INGEST_MAX_EVENT_DEPTH ${maxEventDepth} allows)`);
    return malformed(`the body is not valid JSON: ${jsonErrorReason(err)}`);
  }
  if (!Array.isArray(parsed)) {
    const hint = typeName(parsed) === 'object' ? ' (wrap a single event in [ ])' : '';
    return malformed(`the body must be a JSON array of events, got ${typeName(parsed)}${hint}`);
  }
  if (parsed.length > maxEvents) {
    return { ok: false, refusal: refuse(413, 'TS_ERR_INGEST_TOO_MANY_EVENTS', `the body holds ${parsed.length} events; at most ${maxEvents} are accepted per request (INGEST_MAX_EVENTS)`) };
  }
  if (scan.deepMembers.size === 0 && scan.numbers.size === 0) return { ok: true, events: parsed };
  const readings = new Map<number, ElementReading>();
  for (const [index, numbers] of scan.numbers) readings.set(index, { numbers });
  for (const [index, member] of scan.deepMembers) {
    const original = Buffer.from(text.slice(member.start, member.end), 'utf8');
    readings.set(index, { ...readings.get(index), tooDeep: tooDeepProblem(member.depth, maxEventDepth), original });
  }
  return { ok: true, events: parsed, readings };
}
