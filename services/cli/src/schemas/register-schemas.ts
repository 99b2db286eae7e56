import path from 'node:path';
import { isTierstreamError, readAvroSchema, registerAvroSchema, valueSubject, type RegisteredSchema, type SchemaRegistry } from '@tierstream/runtime';
import type { TopicDeclaration } from '../topics/topics-file';

/** Attempts per schema when the registry cannot answer (slow, restarting), with a doubling pause from `firstPauseMs`. */
const ATTEMPTS = 4;

/**
 * Registers every declared topic's value schema under `<topic>-value`, BACKWARD. A registry
 * that cannot answer (a timeout, a refused connection, a 5xx) is tried again, up to 4 times
 * per schema; a refusal (an incompatible schema) is not.
 */
export async function registerSchemas(registry: SchemaRegistry, topics: readonly TopicDeclaration[], root: string, firstPauseMs = 1000): Promise<RegisteredSchema[]> {
  const registered: RegisteredSchema[] = [];
  for (const t of topics) {
    if (t.valueSchema === undefined) continue;
    const schema = readAvroSchema(path.resolve(root, t.valueSchema));
    for (let attempt = 1; ; attempt++) {
      try {
        registered.push(await registerAvroSchema(registry, valueSubject(t.name), schema));
        break;
      } catch (err) {
        if (attempt >= ATTEMPTS || !isTierstreamError(err) || !err.retriable) throw err;
        await new Promise((resolve) => setTimeout(resolve, firstPauseMs * 2 ** (attempt - 1)));
      }
    }
  }
  return registered;
}
