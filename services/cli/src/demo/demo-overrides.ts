import { Partitioners, type Kafka } from 'kafkajs';
import type { CustomerEventRecord, Policy } from '@tierstream/domain';
import { AvroCodec, SchemaFiles, type CustomerStore, type SchemaRegistry } from '@tierstream/runtime';
import { overrideRecord } from '../override/override-record';

/**
 * What an account manager does with tierctl override, done by the demo: two customers
 * holding `high` are pinned to vip for 90 days as strategic accounts, and the second pin is
 * lifted again at once. Returns the commands written (in order), for the report.
 */
export async function pinStrategicAccounts(
  kafka: Kafka,
  registry: SchemaRegistry,
  store: CustomerStore,
  eventsTopic: string,
  customerIds: readonly string[],
  policy: Policy,
): Promise<CustomerEventRecord[]> {
  const chosen: string[] = [];
  for (let i = 0; i < customerIds.length && chosen.length < 2; i += 500) {
    for (const c of await store.load(customerIds.slice(i, i + 500))) {
      if (chosen.length < 2 && c.record?.state.tiers['value']?.tier === 'high') chosen.push(c.customerId);
    }
  }
  const now = Date.now();
  const commands = chosen.map((customerId) =>
    overrideRecord({ action: 'SET', customerId, dimension: 'value', tier: 'vip', until: '+90d', reason: 'strategic account, renewal under negotiation', actor: 'demo-account-manager' }, policy, now),
  );
  const second = chosen[1];
  if (second !== undefined) {
    commands.push(overrideRecord({ action: 'CLEAR', customerId: second, dimension: 'value', reason: 'renewal signed', actor: 'demo-account-manager' }, policy, now + 1));
  }
  if (commands.length === 0) return commands;
  const codec = new AvroCodec<CustomerEventRecord>(registry, eventsTopic, SchemaFiles.customerEvent);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true });
  await producer.connect();
  try {
    await producer.send({ topic: eventsTopic, acks: -1, messages: await Promise.all(commands.map(async (r) => ({ key: r.customer_id, value: await codec.encode(r) }))) });
  } finally {
    await producer.disconnect();
  }
  return commands;
}
