import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { createKafka, createSchemaRegistry, registerAvroSchema, TierstreamError, valueSubject } from '@tierstream/runtime';
import { LocalStack } from '../../services/cli/src/stack/local-stack';
import { stackSettingsFromEnv, type StackSettings } from '../../services/cli/src/stack/settings';
import { quietLogger, testBackend, uniqueName } from '../support/test-stack';

// A second, private stack on its own ports (not the chaos suite's 29092…) and run directory, so stopping it cannot
// disturb the stack the other suites use. Only meaningful where the local stack runs.
const describeLocal = testBackend() === 'local' ? describe : describe.skip;

const alive = (pid: number | undefined): boolean => {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describeLocal('the local stack (tierctl stack up/status/down)', () => {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierstream-stack-'));
  const settings: StackSettings = stackSettingsFromEnv({
    ...process.env,
    TIERSTREAM_RUN_DIR: runDir,
    TIERSTREAM_KAFKA_PORT: '39092',
    TIERSTREAM_KAFKA_CONTROLLER_PORT: '39093',
    TIERSTREAM_REGISTRY_PORT: '38081',
    TIERSTREAM_REGISTRY_MANAGEMENT_PORT: '38082',
    TIERSTREAM_REDIS_PORT: '36379',
  });
  const stack = new LocalStack(settings);

  afterAll(async () => {
    await stack.down();
    fs.rmSync(runDir, { recursive: true, force: true });
  });

  it('starts, is idempotent, keeps topics, schema ids and Redis data across down and up, and stops only its own processes', async () => {
    const first = await stack.up();
    expect(first.alreadyUp).toBe(false);
    expect(first.components.map((c) => c.state)).toEqual(['started', 'started', 'started']);

    const again = await stack.up();
    expect(again.alreadyUp).toBe(true);
    expect(again.components.map((c) => c.pid)).toEqual(first.components.map((c) => c.pid));

    const status = await stack.status();
    expect(status.map((s) => [s.name, s.state])).toEqual([
      ['redis', 'healthy'],
      ['kafka', 'healthy'],
      ['schema-registry', 'healthy'],
    ]);

    // Data written before the restart.
    const { kafkaBrokers, schemaRegistryUrl, redisUrl } = first.endpoints;
    const topic = uniqueName('persist');
    const admin = createKafka({ clientId: 'stack-test', brokers: kafkaBrokers, logger: quietLogger() }).admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3 }] });
    await admin.disconnect();
    const schema = JSON.stringify({ type: 'record', name: 'Persist', fields: [{ name: 'id', type: 'string' }] });
    const registered = await registerAvroSchema(createSchemaRegistry(schemaRegistryUrl), valueSubject(topic), schema);
    const redis = new Redis(redisUrl);
    await redis.set('ts:persist', 'kept');
    expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    redis.disconnect();

    const stopped = await stack.down();
    expect(stopped).toEqual(['schema-registry', 'kafka', 'redis']);
    for (const c of first.components) expect(alive(c.pid)).toBe(false);
    expect((await stack.status()).map((s) => s.state)).toEqual(['stopped', 'stopped', 'stopped']);
    // The suites' own stack (other ports) is untouched.
    expect(process.env['KAFKA_BROKERS']).not.toContain('39092');

    await stack.up();
    const admin2 = createKafka({ clientId: 'stack-test', brokers: kafkaBrokers, logger: quietLogger() }).admin();
    await admin2.connect();
    const meta = await admin2.fetchTopicMetadata({ topics: [topic] });
    await admin2.disconnect();
    expect(meta.topics[0]?.partitions).toHaveLength(3);
    const registry = createSchemaRegistry(schemaRegistryUrl);
    expect(await registry.getLatestSchemaId(valueSubject(topic))).toBe(registered.id);
    expect(await registerAvroSchema(registry, valueSubject(topic), schema)).toEqual(registered);
    const redis2 = new Redis(redisUrl);
    expect(await redis2.get('ts:persist')).toBe('kept');
    redis2.disconnect();
  }, 600_000);

  it('refuses to start a part whose port another process holds, naming the part and port', async () => {
    await stack.down();
    const squatter = net.createServer().listen(36379, '127.0.0.1');
    await new Promise((r) => squatter.once('listening', r));
    try {
      const attempt = stack.up();
      await expect(attempt).rejects.toBeInstanceOf(TierstreamError);
      await expect(attempt).rejects.toMatchObject({ code: 'TS_ERR_STACK_PORT_IN_USE', context: { component: 'redis', port: 36379 } });
    } finally {
      squatter.close();
    }
  }, 300_000);
});
