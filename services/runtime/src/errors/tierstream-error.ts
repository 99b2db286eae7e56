import type { ErrorCode } from './codes';

export interface TierstreamErrorOptions {
  /** Whether trying the same thing again may succeed (KafkaJS's convention). */
  readonly retriable?: boolean;
  readonly cause?: unknown;
  /** Structured facts for logs and DLQ records: topic, variable, path, … */
  readonly context?: Readonly<Record<string, unknown>>;
}

/** Base of every error tierstream raises on purpose: a stable code, retriable flag and cause. */
export class TierstreamError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: TierstreamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.context = options.context ?? {};
  }
}

export const isTierstreamError = (err: unknown): err is TierstreamError => err instanceof TierstreamError;
