import Redis from 'ioredis';
import type { Logger } from '../logger';

export type { Redis };

/** One ioredis client; connection errors are logged (ioredis reconnects by itself). */
export function createRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 3, enableAutoPipelining: false, lazyConnect: false });
  redis.on('error', (err: Error) => logger.warn({ err }, 'redis connection error'));
  return redis;
}
