import { createKafka, createSchemaRegistry, topicNames, type Endpoints, type Logger, type Redis } from '@tierstream/runtime';
import { declaredTopics } from '@tierstream/cli/dist/provision';
import { registerSchemas } from '@tierstream/cli/dist/schemas/register-schemas';
import { REPO_ROOT } from '@tierstream/cli/dist/stack/settings';
import { applyTopics } from '@tierstream/cli/dist/topics/apply-topics';

/** A namespace no other run, suite or demo uses (demo runs remove `demo-*`, so not that). */
export const benchNamespace = (): string => `bench-sweep-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}.`;

/**
 * Creates the pipeline's topics (infra/topics.yaml) under the namespace and registers their
 * schemas, as `tierctl topics apply` and `schemas register` do; the events topic gets
 * `partitions` partitions when given. Returns the events topic's partition count.
 */
export async function provisionNamespace(endpoints: Endpoints, logger: Logger, namespace: string, partitions: number | undefined): Promise<number> {
  const events = topicNames(namespace).events;
  const topics = declaredTopics({ namespace }).map((t) => (t.name === events && partitions !== undefined ? { ...t, partitions } : t));
  const admin = createKafka({ clientId: 'bench-sweep', brokers: endpoints.kafkaBrokers, logger }).admin();
  await admin.connect();
  try {
    await applyTopics(admin, topics);
  } finally {
    await admin.disconnect();
  }
  await registerSchemas(createSchemaRegistry(endpoints.schemaRegistryUrl), topics, REPO_ROOT);
  const declared = topics.find((t) => t.name === events);
  if (!declared) throw new Error(`${events} is not declared in infra/topics.yaml`);
  return declared.partitions;
}

export interface Removal {
  readonly keys: number;
  readonly topics: number;
  readonly subjects: number;
  readonly problems: string[];
}

/** UNLINKs every key under the namespace (SCAN MATCH `<ns>*`); returns how many. */
export async function deleteNamespaceKeys(redis: Redis, namespace: string): Promise<number> {
  if (!/^[a-z0-9.-]+\.$/.test(namespace)) throw new Error(`refusing to delete keys of the namespace '${namespace}'`);
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}*`, 'COUNT', 10_000);
    cursor = next;
    for (let i = 0; i < keys.length; i += 1000) deleted += await redis.unlink(...keys.slice(i, i + 1000));
  } while (cursor !== '0');
  return deleted;
}

/**
 * Removes everything the run created: Redis keys, the consumer group, the topics and the
 * schema subjects, each under the namespace only. Best effort: a step that fails is
 * reported and the others still run.
 */
export async function removeNamespace(endpoints: Endpoints, redis: Redis, logger: Logger, namespace: string): Promise<Removal> {
  const problems: string[] = [];
  let keys = 0;
  let topics = 0;
  let subjects = 0;
  try {
    keys = await deleteNamespaceKeys(redis, namespace);
  } catch (err) {
    problems.push(`redis keys: ${(err as Error).message}`);
  }
  const admin = createKafka({ clientId: 'bench-sweep-cleanup', brokers: endpoints.kafkaBrokers, logger }).admin();
  try {
    await admin.connect();
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(namespace));
    if (groups.length > 0) await admin.deleteGroups(groups).catch((err: Error) => problems.push(`consumer groups: ${err.message}`));
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(namespace));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
    topics = mine.length;
  } catch (err) {
    problems.push(`kafka: ${(err as Error).message}`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  try {
    const base = endpoints.schemaRegistryUrl.replace(/\/$/, '');
    const all = (await (await fetch(`${base}/subjects`, { signal: AbortSignal.timeout(10_000) })).json()) as unknown;
    const mine = Array.isArray(all) ? all.filter((s): s is string => typeof s === 'string' && s.startsWith(namespace)) : [];
    for (const subject of mine) {
      const url = `${base}/subjects/${encodeURIComponent(subject)}`;
      // Soft delete first, then permanent (the Confluent API refuses a permanent delete of a live subject).
      await fetch(url, { method: 'DELETE', signal: AbortSignal.timeout(10_000) });
      const res = await fetch(`${url}?permanent=true`, { method: 'DELETE', signal: AbortSignal.timeout(10_000) });
      if (res.ok) subjects++;
      else problems.push(`subject ${subject}: DELETE answered ${res.status}`);
    }
  } catch (err) {
    problems.push(`schema subjects: ${(err as Error).message}`);
  }
  return { keys, topics, subjects, problems };
}
