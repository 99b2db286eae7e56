import path from 'node:path';
import type { SchemaRegistry } from '@tierstream/runtime';
import { registerSchemas } from './register-schemas';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const topic = { name: 'ns.customer.events.v1', partitions: 1, replicationFactor: 1, valueSchema: 'schemas/customer-event.avsc', config: {} };

/** What the registry client throws for a request the timeout middleware gave up on, or for a refusal. */
const responseError = (status: number, message: string): Error => Object.assign(new Error(message), { name: 'ResponseError', status });

function registryFailing(failures: readonly Error[]): { registry: SchemaRegistry; calls: () => number } {
  let calls = 0;
  const registry = {
    register: async () => {
      const failure = failures[calls++];
      if (failure) throw failure;
      return { id: 7 };
    },
  } as unknown as SchemaRegistry;
  return { registry, calls: () => calls };
}

describe('registerSchemas', () => {
  it('tries a registry that timed out or refused the connection again, and registers', async () => {
    const { registry, calls } = registryFailing([responseError(400, 'Timeout (10000ms)'), responseError(400, 'connect ECONNREFUSED 127.0.0.1:18081')]);
    await expect(registerSchemas(registry, [topic], ROOT, 1)).resolves.toEqual([{ subject: 'ns.customer.events.v1-value', id: 7 }]);
    expect(calls()).toBe(3);
  });

  it('gives up after four attempts with the retriable registry error', async () => {
    const { registry, calls } = registryFailing(Array.from({ length: 5 }, () => responseError(503, 'Service Unavailable')));
    await expect(registerSchemas(registry, [topic], ROOT, 1)).rejects.toMatchObject({ code: 'TS_ERR_SCHEMA_REGISTRY', retriable: true });
    expect(calls()).toBe(4);
  });

  it('does not try an incompatible schema or a plain 400 again', async () => {
    const refused = registryFailing([responseError(409, 'incompatible')]);
    await expect(registerSchemas(refused.registry, [topic], ROOT, 1)).rejects.toMatchObject({ code: 'TS_ERR_SCHEMA_INCOMPATIBLE' });
    expect(refused.calls()).toBe(1);
    const bad = registryFailing([responseError(400, 'Invalid schema')]);
    await expect(registerSchemas(bad.registry, [topic], ROOT, 1)).rejects.toMatchObject({ code: 'TS_ERR_SCHEMA_REGISTRY', retriable: false });
    expect(bad.calls()).toBe(1);
  });
});
