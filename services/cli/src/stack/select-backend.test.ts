import { chooseBackend } from './select-backend';

const endpoints = { KAFKA_BROKERS: 'k:9092', SCHEMA_REGISTRY_URL: 'http://r:8081', REDIS_URL: 'redis://r:6379' };

describe('chooseBackend', () => {
  it('uses the endpoints from the environment first and never asks Docker', async () => {
    const dockerAvailable = jest.fn(async () => true);
    const choice = await chooseBackend(endpoints, { dockerAvailable });
    expect(choice.kind).toBe('env');
    expect(choice.endpoints).toEqual({ kafkaBrokers: ['k:9092'], schemaRegistryUrl: 'http://r:8081', redisUrl: 'redis://r:6379' });
    expect(dockerAvailable).not.toHaveBeenCalled();
  });

  it('chooses testcontainers when no endpoints are set and a Docker engine answers', async () => {
    expect((await chooseBackend({}, { dockerAvailable: async () => true })).kind).toBe('testcontainers');
  });

  it('falls back to the local stack when there is no Docker engine', async () => {
    const choice = await chooseBackend({}, { dockerAvailable: async () => false });
    expect(choice.kind).toBe('local');
    expect(choice.endpoints).toBeUndefined();
  });

  it('honours TIERSTREAM_BACKEND=local even where Docker answers', async () => {
    const dockerAvailable = jest.fn(async () => true);
    expect((await chooseBackend({ TIERSTREAM_BACKEND: 'local' }, { dockerAvailable })).kind).toBe('local');
    expect(dockerAvailable).not.toHaveBeenCalled();
  });

  it('refuses half a set of endpoints, naming the bad variable', async () => {
    await expect(chooseBackend({ KAFKA_BROKERS: 'k:9092' }, { dockerAvailable: async () => false })).rejects.toThrow(/SCHEMA_REGISTRY_URL/);
  });
});
