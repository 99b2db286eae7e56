export { IngestWorker, ingestGroupId } from './ingest-worker';
export { ingestConfigFromEnv, INGEST_ENV_VARIABLES, INGEST_DEFAULTS, type IngestConfig } from './config';
export { normaliseEvent, type NormaliseResult } from './normalise';
export { EVENTS_PATH, type IngestAnswer, type RejectedEvent } from './http-ingest';
export {
  recordMarker,
  pendingMarker,
  doneMarker,
  EventDedupe,
  SETTLED_MARKER,
  ENTRY_BYTES,
  eventDigest,
  decodeSeen,
  encodeSeen,
  bucketOf,
  type Claim,
  type EventRef,
  type EventDedupeOptions,
  type SeenEntry,
  type SeenSet,
  type OpenClaim,
} from './dedupe';
export type { Rejection, RejectCode } from './problems';
