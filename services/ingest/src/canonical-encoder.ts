import type { CustomerEvent } from '@tierstream/domain';
import { AvroCodec, isRegistryUnavailable, isTierstreamError, SchemaFiles, TierstreamError, type SchemaRegistry } from '@tierstream/runtime';
import type { Problem } from './problems';

export type Encoded = { readonly ok: true; readonly value: Buffer } | { readonly ok: false; readonly problem: Problem };

/**
 * Encodes canonical events with the schema registered for the events topic. The writer
 * schema is fetched at start, so an encode failure afterwards is the event not fitting the
 * schema (a DLQ case the normaliser is built to prevent), never the registry.
 */
export class CanonicalEncoder {
  private readonly codec: AvroCodec<CustomerEvent>;

  constructor(
    private readonly registry: SchemaRegistry,
    readonly topic: string,
  ) {
    this.codec = new AvroCodec<CustomerEvent>(registry, topic, SchemaFiles.customerEvent);
  }

  async init(): Promise<void> {
    const id = await this.codec.init();
    try {
      await this.registry.getSchema(id);
    } catch (err) {
      throw new TierstreamError('TS_ERR_SCHEMA_REGISTRY', `fetching schema id ${id} of ${this.topic} failed: ${(err as Error).message}`, { cause: err, retriable: true });
    }
  }

  async encode(event: CustomerEvent): Promise<Encoded> {
    try {
      return { ok: true, value: await this.codec.encode(event) };
    } catch (err) {
      if ((err as Error).name === 'ConfluentSchemaRegistryValidationError') {
        const paths = (err as { paths?: unknown }).paths;
        const where = Array.isArray(paths) ? ` at ${paths.map((p) => (Array.isArray(p) ? p.join('.') : String(p))).join(', ')}` : '';
        return { ok: false, problem: { code: 'TS_ERR_INGEST_INVALID_FIELD', field: '', reason: `the normalised event does not fit schemas/customer-event.avsc${where}` } };
      }
      // Never a rejection of the event: the batch or the request is tried again (503 over HTTP).
      const cause: unknown = isTierstreamError(err) && err.cause !== undefined ? err.cause : err;
      const message = isRegistryUnavailable(cause)
        ? `the schema registry cannot be reached to encode for ${this.topic}: ${(cause as Error).message}`
        : `encoding for ${this.topic} failed: ${(err as Error).message}`;
      throw new TierstreamError('TS_ERR_SCHEMA_REGISTRY', message, { cause: err, retriable: true });
    }
  }
}
