import { createLogger, TierstreamError } from '@tierstream/runtime';
import { resolveEndpoints } from '../endpoints';
import { provisionSchemas, provisionTopics } from '../provision';

export async function topicsApply(options: { file?: string; replicationFactor?: number; fix?: boolean }): Promise<void> {
  const { endpoints } = await resolveEndpoints({ start: false });
  const result = await provisionTopics(endpoints, createLogger({ name: 'tierctl', level: 'warn' }), {
    ...(options.file === undefined ? {} : { topicsFile: options.file }),
    ...(options.replicationFactor === undefined ? {} : { replicationFactor: options.replicationFactor }),
    ...(options.fix === undefined ? {} : { fix: options.fix }),
  });
  for (const t of result.created) console.log(`created    ${t}`);
  for (const t of result.unchanged) console.log(`unchanged  ${t}`);
  for (const d of result.fixed) console.log(`fixed      ${d.topic} ${d.field}: ${d.actual} -> ${d.declared}`);
  for (const d of result.drift) console.log(`DRIFT      ${d.topic} ${d.field}: declared ${d.declared}, cluster has ${d.actual}${d.fixable ? ' (--fix sets it)' : ''}`);
  if (result.drift.length > 0) {
    throw new TierstreamError('TS_ERR_TOPIC_DRIFT', `${result.drift.length} topic setting(s) differ from ${options.file ?? 'infra/topics.yaml'} (listed above)`, {
      context: { drift: result.drift },
    });
  }
}

export async function schemasRegister(options: { file?: string }): Promise<void> {
  const { endpoints } = await resolveEndpoints({ start: false });
  for (const s of await provisionSchemas(endpoints, options.file === undefined ? {} : { topicsFile: options.file })) console.log(`${s.subject.padEnd(34)} id ${s.id}`);
}
