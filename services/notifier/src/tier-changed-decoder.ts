import type { TierChanged } from '@tierstream/domain';
import { isRegistryUnavailable, type SchemaRegistry } from '@tierstream/runtime';

export type Decoded = { readonly ok: true; readonly change: TierChanged } | { readonly ok: false; readonly reason: string };

const statusOf = (err: unknown): number | undefined => {
  const status = (err as { status?: unknown }).status;
  return typeof status === 'number' ? status : undefined;
};

/**
 * Decodes tier-changed records (Confluent wire format, Avro). A registry that cannot answer
 * (down, restarting, overloaded: isRegistryUnavailable) throws, so the batch is fetched again
 * rather than records dead-lettered for a transient fault. Anything else is an answer about
 * the record itself, a poison record (`ok: false`, for the DLQ): not that format, a schema id
 * the registry does not know, a schema that is not usable Avro, bytes that do not decode.
 */
export class TierChangedDecoder {
  constructor(private readonly registry: SchemaRegistry) {}

  async decode(value: Buffer): Promise<Decoded> {
    if (value.length < 5 || value.readUInt8(0) !== 0) {
      return { ok: false, reason: `not in the Confluent wire format (magic byte 0 and a schema id), ${value.length} bytes starting 0x${value.subarray(0, 8).toString('hex')}` };
    }
    const schemaId = value.readUInt32BE(1);
    try {
      await this.registry.getSchema(schemaId);
    } catch (err) {
      if (isRegistryUnavailable(err)) throw err;
      if (statusOf(err) === 404) return { ok: false, reason: `schema id ${schemaId} is unknown to the registry` };
      return { ok: false, reason: `schema id ${schemaId} is not usable: ${(err as Error).message}` };
    }
    try {
      return { ok: true, change: (await this.registry.decode(value)) as TierChanged };
    } catch (err) {
      if (isRegistryUnavailable(err)) throw err;
      return { ok: false, reason: `does not decode with schema id ${schemaId}: ${(err as Error).message}` };
    }
  }
}
