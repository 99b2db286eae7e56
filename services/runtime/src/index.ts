export * from './errors';
export * from './config';
export { createLogger, REDACTED_PATHS, type Logger, type LoggerSettings } from './logger';
export { createKafka, type KafkaClientSettings } from './kafka/client';
export { createSchemaRegistry, readAvroSchema, registerAvroSchema, valueSubject, SchemaRegistry, SchemaType, type RegisteredSchema } from './registry/avro-registry';
