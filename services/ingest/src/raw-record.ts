import { isRegistryUnavailable, TierstreamError } from '@tierstream/runtime';
import { tooDeepProblem, type EventReading } from './check-event';
import { INGEST_DEFAULTS } from './config';
import { scanJson, valueDepth } from './json-text';
import { AMOUNT_KEYS } from './money';
import type { Problem } from './problems';

/** What RawRecordDecoder needs of the registry client (SchemaRegistry fits). */
export interface SchemaLookup {
  getSchema(registryId: number): Promise<unknown>;
  decode(buffer: Buffer): Promise<unknown>;
}

/** A decoded record; `reading` (when there is something to say) goes with the payload to checkEvent. */
export type Decoded =
  | { readonly ok: true; readonly payload: unknown; readonly format: 'json' | 'avro'; readonly reading?: EventReading }
  | { readonly ok: false; readonly problem: Problem };


const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The parser's reason without the snippet of input V8 quotes (the DLQ keeps the bytes; logs must not). */
export function jsonErrorReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/,? *".*" is not valid JSON\s*$/s, '').trim();
}

/**
 * A JSON text (UTF-8, an optional BOM) as a value, or why it is not one. Containers nested
 * deeper than `maxDepth` are cut before JSON.parse sees the text: the value then comes with
 * a TS_ERR_INGEST_TOO_DEEP problem.
 */
export function parseJsonBytes(bytes: Buffer, maxDepth: number = INGEST_DEFAULTS.maxEventDepth): Decoded {
  let text: string;
  try {
    text = UTF8.decode(bytes); // strips a leading BOM
  } catch {
    return { ok: false, problem: { code: 'TS_ERR_INGEST_NOT_JSON', field: '', reason: 'the record is not valid UTF-8 (and does not start with the Avro magic byte 0)' } };
  }
  const scan = scanJson(text, maxDepth, { numberKeys: AMOUNT_KEYS });
  const tooDeep = scan.depth > maxDepth;
  let payload: unknown;
  try {
    payload = JSON.parse(scan.text);
  } catch (err) {
    // Positions in the parser's reason count in the cut text: say so rather than mislead.
    const reason = tooDeep ? `it is nested ${scan.depth} levels deep (more than ${maxDepth}) and not valid JSON either` : `the record is not valid JSON: ${jsonErrorReason(err)}`;
    return { ok: false, problem: { code: 'TS_ERR_INGEST_NOT_JSON', field: '', reason } };
  }
  const numbers = scan.numbers.get(-1);
  if (!tooDeep && !numbers) return { ok: true, payload, format: 'json' };
  return { ok: true, payload, format: 'json', reading: { ...(numbers ? { numbers } : {}), ...(tooDeep ? { tooDeep: tooDeepProblem(scan.depth, maxDepth) } : {}) } };
}

const statusOf = (err: unknown): number | undefined => {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
};

/**
 * Turns the bytes of a raw record into the value the normaliser reads: Avro in the
 * Confluent wire format (magic byte 0, 4-byte schema id) decoded with the registry, else
 * UTF-8 JSON. A bad record is a problem (DLQ); a registry that cannot be reached throws a
 * retriable TS_ERR_SCHEMA_REGISTRY so that the batch is fetched again.
 */
export class RawRecordDecoder {
  constructor(
    private readonly registry: SchemaLookup,
    private readonly maxBytes: number,
    private readonly maxDepth: number = INGEST_DEFAULTS.maxEventDepth,
  ) {}

  async decode(value: Buffer | null): Promise<Decoded> {
    if (value === null || value.length === 0) {
      return { ok: false, problem: { code: 'TS_ERR_INGEST_EMPTY_RECORD', field: '', reason: `the record has no value (${value === null ? 'null' : 'zero bytes'})` } };
    }
    if (value.length > this.maxBytes) {
      return {
        ok: false,
        problem: { code: 'TS_ERR_INGEST_TOO_LARGE', field: '', reason: `the record is ${value.length} bytes; the limit is ${this.maxBytes} (INGEST_MAX_EVENT_BYTES)` },
      };
    }
    return value[0] === 0 ? this.decodeAvro(value) : parseJsonBytes(value, this.maxDepth);
  }

  private async decodeAvro(value: Buffer): Promise<Decoded> {
    const avroProblem = (reason: string): Decoded => ({ ok: false, problem: { code: 'TS_ERR_INGEST_AVRO_DECODE', field: '', reason } });
    if (value.length < 5) return avroProblem(`the record starts with the Avro magic byte 0 but has ${value.length} bytes, fewer than the 5-byte header`);
    const schemaId = value.readInt32BE(1);
    const retried = (err: unknown, what: string): TierstreamError =>
      new TierstreamError('TS_ERR_SCHEMA_REGISTRY', `${what} schema id ${schemaId} failed: ${(err as Error).message}`, {
        cause: err,
        retriable: true,
        context: { schemaId, status: statusOf(err) },
      });
    try {
      await this.registry.getSchema(schemaId);
    } catch (err) {
      // Only the registry's own "not found" condemns the record: anything else (unreachable,
      // 5xx, refused credentials) is retried, never dead-lettered.
      if (statusOf(err) === 404) return avroProblem(`schema id ${schemaId} is not known to the registry`);
      throw retried(err, 'looking up');
    }
    let payload: unknown;
    try {
      // The schema is cached now, so this fails on the record's bytes (a recursive schema
      // nested beyond the stack included), unless the client still needed the registry
      // (a referenced schema): that is retried.
      payload = await this.registry.decode(value);
    } catch (err) {
      if (isRegistryUnavailable(err)) throw retried(err, 'decoding with');
      return avroProblem(`the record does not decode with schema id ${schemaId}: ${(err as Error).message}`);
    }
    const depth = valueDepth(payload, this.maxDepth);
    // A recursive Avro schema can nest as deep as JSON: such a value is not handed on.
    if (depth > this.maxDepth) return { ok: false, problem: { ...tooDeepProblem(depth, this.maxDepth), reason: `the record is nested more than ${this.maxDepth} levels deep (INGEST_MAX_EVENT_DEPTH)` } };
    return { ok: true, payload, format: 'avro' };
  }
}
