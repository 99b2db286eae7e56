import { createLogger } from '@tierstream/runtime';
import { produceAndReadBack } from '../demo/run-demo';
import { resolveEndpoints } from '../endpoints';
import { provisionSchemas, provisionTopics } from '../provision';

export async function runDemoCommand(options: { events: number }): Promise<void> {
  const begun = Date.now();
  const logger = createLogger({ name: 'tierctl-demo', level: 'warn' });
  console.log('1/4 stack');
  const { endpoints, source } = await resolveEndpoints({ start: true, progress: (l) => console.log(`    ${l}`) });
  console.log(`    using ${source === 'env' ? 'the endpoints from the environment' : 'the local stack'}: ${endpoints.kafkaBrokers.join(',')}, ${endpoints.schemaRegistryUrl}, ${endpoints.redisUrl}`);
  console.log('2/4 topics (infra/topics.yaml)');
  const topics = await provisionTopics(endpoints, logger);
  console.log(`    created ${topics.created.length}, already there ${topics.unchanged.length}, drift ${topics.drift.length}`);
  console.log('3/4 schemas (schemas/*.avsc)');
  for (const s of await provisionSchemas(endpoints)) console.log(`    ${s.subject.padEnd(34)} id ${s.id}`);
  console.log(`4/4 ${options.events} sample events -> customer.events.v1 (Avro) -> read back decoded`);
  const result = await produceAndReadBack(endpoints, logger, options.events);
  for (const e of result.readBack) {
    const detail = e.order
      ? `order ${(e.order.amount_minor / 100).toFixed(2)} ${e.order.currency}`
      : e.refund
        ? `refund ${(e.refund.amount_minor / 100).toFixed(2)} ${e.refund.currency}`
        : e.interaction
          ? `interaction ${e.interaction.kind}`
          : e.feedback
            ? `feedback ${e.feedback.kind} ${e.feedback.score ?? ''}`
            : e.type;
    console.log(`    ${new Date(e.event_time).toISOString()}  ${e.customer_id}  ${e.type.padEnd(11)} ${detail.padEnd(24)} ${e.region ?? ''} ${e.customer_type ?? ''}`);
  }
  console.log(`done: ${result.produced} produced, ${result.readBack.length} read back with schema id ${result.schemaId}, in ${((Date.now() - begun) / 1000).toFixed(1)} s`);
}
