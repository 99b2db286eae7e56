import { TierstreamError } from '../errors';
import { readAvroSchema, SchemaType, valueSubject, type SchemaRegistry } from './avro-registry';

/**
 * Encodes values of one topic with the schema registered for it (looked up once, never
 * registered here: that is `tierctl schemas register`'s job) and decodes any record whose
 * writer schema the registry knows.
 */
export class AvroCodec<T> {
  private schemaId: number | undefined;

  constructor(
    private readonly registry: SchemaRegistry,
    readonly topic: string,
    private readonly schemaFile: string,
  ) {}

  async init(): Promise<number> {
    if (this.schemaId !== undefined) return this.schemaId;
    const subject = valueSubject(this.topic);
    try {
      this.schemaId = await this.registry.getRegistryIdBySchema(subject, { type: SchemaType.AVRO, schema: readAvroSchema(this.schemaFile) });
    } catch (err) {
      throw new TierstreamError('TS_ERR_SCHEMA_REGISTRY', `${subject}: schema ${this.schemaFile} is not registered (run tierctl schemas register): ${(err as Error).message}`, {
        cause: err,
        retriable: true,
        context: { subject },
      });
    }
    return this.schemaId;
  }

  async encode(value: T): Promise<Buffer> {
    return this.registry.encode(this.schemaId ?? (await this.init()), value);
  }

  async decode(buffer: Buffer): Promise<T> {
    return (await this.registry.decode(buffer)) as T;
  }
}
