import path from 'node:path';
import { readAvroSchema, registerAvroSchema, valueSubject, type RegisteredSchema, type SchemaRegistry } from '@tierstream/runtime';
import type { TopicDeclaration } from '../topics/topics-file';

/** Registers every declared topic's value schema under `<topic>-value`, BACKWARD. */
export async function registerSchemas(registry: SchemaRegistry, topics: readonly TopicDeclaration[], root: string): Promise<RegisteredSchema[]> {
  const registered: RegisteredSchema[] = [];
  for (const t of topics) {
    if (t.valueSchema === undefined) continue;
    registered.push(await registerAvroSchema(registry, valueSubject(t.name), readAvroSchema(path.resolve(root, t.valueSchema))));
  }
  return registered;
}
