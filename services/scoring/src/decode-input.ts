import type { CustomerEventRecord } from '@tierstream/domain';
import { isRegistryUnavailable, TierstreamError, type AvroCodec } from '@tierstream/runtime';
import { scoringInputOf, type ScoringInput } from './scoring-batch';

/**
 * Decodes one record of the events topic into what scoring does with it, or says why it
 * cannot be used (a string: the record is dead-lettered as TS_ERR_SCORING_DECODE). A registry
 * that cannot answer says nothing about the record: that throws a retriable
 * TS_ERR_SCHEMA_REGISTRY, so the batch fails before anything is written and is fetched again,
 * and a registry outage never dead-letters good events.
 */
export async function decodeInput(codec: Pick<AvroCodec<CustomerEventRecord>, 'decode'>, partition: number, offset: number, value: Buffer | null): Promise<ScoringInput | string> {
  if (!value) return 'empty value';
  let record: CustomerEventRecord;
  try {
    record = await codec.decode(value);
  } catch (err) {
    if (isRegistryUnavailable(err)) {
      throw new TierstreamError('TS_ERR_SCHEMA_REGISTRY', `decoding offset ${offset} of partition ${partition}: the schema registry cannot be reached: ${(err as Error).message}`, {
        cause: err,
        retriable: true,
        context: { partition, offset },
      });
    }
    return (err as Error).message;
  }
  return scoringInputOf(offset, record);
}
