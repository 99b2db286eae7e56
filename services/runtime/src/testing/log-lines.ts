import type { DestinationStream } from 'pino';
import { createLogger, type Logger } from '../logger';

/** One parsed pino line. */
export type LogLine = Record<string, unknown> & { readonly level: number; readonly msg?: string };

/** pino's numeric levels by name. */
export const LEVEL = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

/** A logger at `level` whose lines are kept, parsed, in `lines`. */
export function recordingLogger(level = 'trace'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const destination: DestinationStream = {
    write(chunk: string): void {
      for (const text of chunk.split('\n')) if (text.trim() !== '') lines.push(JSON.parse(text) as LogLine);
    },
  };
  return { logger: createLogger({ name: 'test', level, destination }), lines };
}
