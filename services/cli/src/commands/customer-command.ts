import Redis from 'ioredis';
import type { CustomerState } from '@tierstream/domain';
import { CustomerStore, PartitionClock, RedisKeys, TierstreamError, topicNames } from '@tierstream/runtime';
import { resolveEndpoints } from '../endpoints';
import { asOf, asOfLines, fencePartition, type AsOf } from './customer-as-of';

const money = (minor: number): string => (minor / 100).toFixed(2);

/** `tierctl customer <id>`: tiers, score, metrics, attributes and last transitions in one call. */
export async function customerCommand(customerId: string, options: { json?: boolean; namespace?: string }): Promise<void> {
  const { endpoints } = await resolveEndpoints({ start: false });
  const redis = new Redis(endpoints.redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const namespace = options.namespace ?? process.env['TIERSTREAM_NAMESPACE'] ?? '';
    const loaded = await new CustomerStore(redis, namespace).get(customerId);
    if (!loaded.record) throw new TierstreamError('TS_ERR_CUSTOMER_NOT_FOUND', `no customer '${customerId}' in ${endpoints.redisUrl}`, { context: { customerId } });
    const { state, pending } = loaded.record;
    const time = await readAsOf(redis, namespace, customerId, loaded.fence, state);
    if (options.json) {
      const view = { customer_id: customerId, as_of: time, tiers: state.tiers, overrides: state.overrides ?? {}, score: state.score, metrics: state.metrics, profile: state.profile, history: state.history, fence: loaded.fence, pending: pending.length };
      console.log(JSON.stringify(view, null, 2));
      return;
    }
    console.log(`customer ${customerId}   score ${state.score}`);
    for (const line of asOfLines(time)) console.log(line);
    console.log(`profile  region ${state.profile.region ?? '-'}  type ${state.profile.customer_type ?? '-'}  industry ${state.profile.industry ?? '-'}  ${Object.entries(state.profile.attributes).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    console.log('tiers');
    for (const [dimension, t] of Object.entries(state.tiers)) console.log(`  ${dimension.padEnd(14)} ${t.tier.padEnd(14)} since ${new Date(t.since).toISOString().slice(0, 10)}  (version ${t.version})`);
    for (const [dimension, o] of Object.entries(state.overrides ?? {})) {
      console.log(`  ${dimension.padEnd(14)} PINNED to ${o.tier} by ${o.actor} until ${new Date(o.until).toISOString()}: ${o.reason}`);
    }
    console.log(`metrics  as of ${new Date(time.evaluated_at).toISOString()}`);
    for (const [name, v] of Object.entries(state.metrics)) console.log(`  ${name.padEnd(18)} ${name.startsWith('spend') || name.startsWith('refunds') || name.startsWith('max_order') ? `${money(v)}` : Number.isInteger(v) ? v : v.toFixed(3)}`);
    console.log('last transitions');
    for (const h of state.history) {
      const read = Object.entries(h.inputs).map(([k, v]) => `${k}=${v}`).join(', ');
      console.log(`  ${new Date(h.at).toISOString().slice(0, 10)}  ${h.dimension}: ${h.from_tier ?? '(none)'} -> ${h.to_tier}   ${h.rule}${read ? ` (${read})` : ''}`);
    }
  } finally {
    redis.disconnect();
  }
}

/** The customer's own event time beside its partition's watermark and its next due time. */
async function readAsOf(redis: Redis, namespace: string, customerId: string, fence: string, state: CustomerState): Promise<AsOf> {
  const partition = fencePartition(fence);
  if (partition === undefined) return asOf(state, undefined, undefined, undefined);
  const topic = topicNames(namespace).events;
  // The watermark before a batch that would start past every offset: the latest batch's.
  const { watermarkBefore } = await new PartitionClock(redis, topic, namespace).read(partition, Number.MAX_SAFE_INTEGER);
  const due = await redis.zscore(new RedisKeys(namespace).dueIndex(topic, partition), customerId);
  // A partition without a recorded batch reads as 0.
  return asOf(state, partition, watermarkBefore > 0 ? watermarkBefore : undefined, due === null ? undefined : Number(due));
}
