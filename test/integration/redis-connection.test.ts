// The shared Redis client (services/runtime/src/redis/connection.ts) against a Redis of the
// test's own that stops answering or goes away.
import { createRedis } from '@tierstream/runtime';
import { PrivateRedis } from '../support/outage-parts';
import { quietLogger } from '../support/test-stack';

/** How a command ended: its value or its error, and after how long. */
async function settle<T>(command: Promise<T>): Promise<{ value?: T; error?: Error; ms: number }> {
  const started = Date.now();
  try {
    return { value: await command, ms: Date.now() - started };
  } catch (err) {
    return { error: err as Error, ms: Date.now() - started };
  }
}

describe('createRedis', () => {
  let redis: PrivateRedis;
  beforeEach(async () => {
    redis = await PrivateRedis.start();
  });
  afterEach(async () => {
    redis.thaw();
    await redis.kill();
  });

  it('fails a command a frozen Redis never answers after the command timeout, and works again once it answers', async () => {
    const client = createRedis(redis.url, quietLogger(), { commandTimeoutMs: 500 });
    try {
      await client.set('k', 'v');
      redis.freeze();
      const frozen = await settle(client.get('k'));
      expect(frozen.error?.message).toMatch(/timed out/i);
      redis.thaw();
      expect(await client.get('k')).toBe('v');
    } finally {
      client.disconnect();
    }
  });

  it('fails a command while Redis is gone instead of holding it, and reconnects by itself when it is back', async () => {
    const client = createRedis(redis.url, quietLogger(), { commandTimeoutMs: 10_000 });
    try {
      await client.set('k', 'v');
      await redis.kill();
      const gone = await settle(client.get('k'));
      expect(gone.error).toBeInstanceOf(Error);
      await redis.up();
      // AOF on: the value written before the kill is there again.
      const deadline = Date.now() + 10_000;
      let back = await settle(client.get('k'));
      while (back.value !== 'v' && Date.now() < deadline) back = await settle(client.get('k'));
      expect(back.value).toBe('v');
    } finally {
      client.disconnect();
    }
  });
});
