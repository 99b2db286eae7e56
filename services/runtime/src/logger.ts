import pino, { type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Personal data never reaches a log line: email, phone and name fields up to two levels
 * down (a top-level `name` is pino's logger name, so names are redacted inside objects).
 */
export const REDACTED_PATHS = [
  'email', 'phone', 'full_name',
  '*.email', '*.phone', '*.name', '*.full_name',
  '*.*.email', '*.*.phone', '*.*.name', '*.*.full_name',
];

export interface LoggerSettings {
  readonly name: string;
  readonly level?: string;
  /** Where lines go; stdout when absent. Tests pass a stream to read them back. */
  readonly destination?: pino.DestinationStream;
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    name: settings.name,
    level: settings.level ?? process.env['LOG_LEVEL'] ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { err: pino.stdSerializers.err },
    base: { pid: process.pid },
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}
