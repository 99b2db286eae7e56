import { Kafka, logLevel } from 'kafkajs';
import Redis from 'ioredis';

/** One probe of a stack part: undefined when healthy, else what failed. */
export type Probe = () => Promise<string | undefined>;

export function kafkaProbe(brokers: readonly string[]): Probe {
  return async () => {
    const admin = new Kafka({ clientId: 'tierctl-health', brokers: [...brokers], logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 2000 }).admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return cluster.brokers.length > 0 ? undefined : 'metadata lists no broker';
    } catch (err) {
      return (err as Error).message;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  };
}

export function registryProbe(url: string): Probe {
  return async () => {
    try {
      const res = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(3000) });
      return res.ok ? undefined : `GET ${url}/subjects answered ${res.status}`;
    } catch (err) {
      return `GET ${url}/subjects failed: ${(err as Error).message}`;
    }
  };
}

export function redisProbe(url: string): Probe {
  return async () => {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null });
    redis.on('error', () => undefined); // the probe's result reports it
    try {
      await redis.connect();
      const pong = await redis.ping();
      return pong === 'PONG' ? undefined : `PING answered ${pong}`;
    } catch (err) {
      return `PING failed: ${(err as Error).message}`;
    } finally {
      redis.disconnect();
    }
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls until healthy or the deadline; resolves to the last failure message, or undefined.
 * `stillAlive` lets a crashed process end the wait at once instead of at the deadline.
 */
export async function waitHealthy(probe: Probe, timeoutMs: number, stillAlive: () => boolean = () => true): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined = 'not probed';
  while (Date.now() < deadline) {
    last = await probe();
    if (last === undefined) return undefined;
    if (!stillAlive()) return `process exited (${last})`;
    await sleep(500);
  }
  return `not healthy after ${Math.round(timeoutMs / 1000)} s (${last})`;
}
