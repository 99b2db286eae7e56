import Redis from 'ioredis';
import { DEFAULT_REDIS_COMMAND_TIMEOUT_MS } from '../config';
import type { Logger } from '../logger';

export type { Redis };

export interface RedisSettings {
  /** A command unanswered this long fails (REDIS_COMMAND_TIMEOUT_MS). */
  readonly commandTimeoutMs?: number;
}

/** Delay before reconnect attempt `times` (1, 2, ...): exponential from 100 ms to 2 s, ±20 % so replicas spread. */
export function reconnectDelayMs(times: number, random: () => number = Math.random): number {
  return Math.round(Math.min(2000, 100 * 2 ** (times - 1)) * (0.8 + random() * 0.4));
}

/**
 * One ioredis client. While Redis is unreachable it reconnects forever (with backoff), and
 * each command fails after at most three reconnect attempts or the command timeout, so a
 * batch fails and is fetched again instead of hanging or ending the worker; once Redis is
 * back, the next attempt succeeds by itself. Connection errors are logged.
 */
export function createRedis(url: string, logger: Logger, settings: RedisSettings = {}): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 3,
    // A Redis that accepts but never answers (frozen, partitioned) would otherwise hold a command forever.
    commandTimeout: settings.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: 5000,
    retryStrategy: (times) => reconnectDelayMs(times),
    enableAutoPipelining: false,
    lazyConnect: false,
  });
  redis.on('error', (err: Error) => logger.warn({ err }, 'redis connection error'));
  return redis;
}
