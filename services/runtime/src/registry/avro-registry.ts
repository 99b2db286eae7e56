import fs from 'node:fs';
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import TimeoutMiddleware from 'mappersmith/middleware/timeout';
import { TierstreamError } from '../errors';
import { isRegistryUnavailable } from './registry-errors';

export { SchemaRegistry, SchemaType };

/** The subject of a topic's values under TopicNameStrategy. */
export const valueSubject = (topic: string): string => `${topic}-value`;

/**
 * A registry request that gets no answer fails after this long (a timeout counts as the
 * registry being unavailable, so the caller retries): without it a stalled registry or a
 * half-open connection would hang a worker's start or batch forever.
 */
export const REGISTRY_REQUEST_TIMEOUT_MS = 10_000;

export function createSchemaRegistry(url: string, timeoutMs = REGISTRY_REQUEST_TIMEOUT_MS): SchemaRegistry {
  return new SchemaRegistry({ host: url, clientId: 'tierstream', middlewares: [TimeoutMiddleware(timeoutMs)] });
}

/** An Avro schema file as its JSON text, checked to be JSON with a name. */
export function readAvroSchema(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new TierstreamError('TS_ERR_SCHEMA_FILE', `cannot read schema ${file}: ${(err as Error).message}`, { cause: err, context: { file } });
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || !('name' in parsed)) throw new Error('an Avro record schema needs a name');
  } catch (err) {
    throw new TierstreamError('TS_ERR_SCHEMA_FILE', `schema ${file} is not a named Avro schema: ${(err as Error).message}`, { cause: err, context: { file } });
  }
  return text;
}

export interface RegisteredSchema {
  readonly subject: string;
  readonly id: number;
}

/**
 * Registers an Avro schema under a subject with BACKWARD compatibility. A schema the
 * registry refuses as incompatible raises TS_ERR_SCHEMA_INCOMPATIBLE carrying the
 * registry's own reason.
 */
export async function registerAvroSchema(registry: SchemaRegistry, subject: string, schemaText: string): Promise<RegisteredSchema> {
  try {
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: schemaText }, { subject, compatibility: COMPATIBILITY.BACKWARD });
    return { subject, id };
  } catch (err) {
    const status = (err as { status?: number }).status;
    const message = (err as Error).message;
    if (status === 409) {
      throw new TierstreamError('TS_ERR_SCHEMA_INCOMPATIBLE', `${subject}: the registry refused the schema as incompatible: ${message}`, {
        cause: err,
        context: { subject },
      });
    }
    throw new TierstreamError('TS_ERR_SCHEMA_REGISTRY', `${subject}: registering failed: ${message}`, {
      cause: err,
      // The client reports a timeout or a refused connection as status 400 with the socket's words.
      retriable: status === undefined || status >= 500 || isRegistryUnavailable(err),
      context: { subject, status },
    });
  }
}
