import os from 'node:os';
import { EnvReader, type Env } from '@tierstream/runtime';

/** Every environment variable ingest reads besides WORKER_ENV_VARIABLES (docs/ingest.md). */
export const INGEST_ENV_VARIABLES = [
  'INGEST_MAX_BODY_BYTES',
  'INGEST_MAX_EVENTS',
  'INGEST_MAX_EVENT_BYTES',
  'INGEST_MAX_EVENT_DEPTH',
  'INGEST_DEDUPE_HORIZON_HOURS',
  'INGEST_DEDUPE_READ_LEGACY',
  'INGEST_PENDING_TTL_SECONDS',
  'INGEST_TRANSACTIONAL_ID',
] as const;

export const INGEST_DEFAULTS = {
  maxBodyBytes: 1024 * 1024,
  maxEvents: 1000,
  maxEventBytes: 64 * 1024,
  maxEventDepth: 64,
  dedupeHorizonHours: 168,
  dedupeReadLegacy: true,
  pendingTtlSeconds: 120,
} as const;

export interface IngestConfig {
  /** Largest POST /v1/events body (413 above). */
  readonly maxBodyBytes: number;
  /** Most events in one POST /v1/events (413 above). */
  readonly maxEvents: number;
  /** Largest raw record on customer.events.raw (DLQ'd as TS_ERR_INGEST_TOO_LARGE above). */
  readonly maxEventBytes: number;
  /** Deepest nesting of one event (objects and arrays; the event itself is 1): TS_ERR_INGEST_TOO_DEEP above. */
  readonly maxEventDepth: number;
  /** How long an event id is remembered for deduplication. */
  readonly dedupeHorizonMs: number;
  /** Also read the one-key-per-id dedupe markers of releases before the per-customer layout, for a horizon after the upgrade. */
  readonly dedupeReadLegacy: boolean;
  /** How long an HTTP request's `pending` claim lives if the request dies mid-way. */
  readonly pendingTtlMs: number;
  /** The transactional producer's id: stable per replica, unique across replicas. */
  readonly transactionalId: string;
}

const HOUR_MS = 60 * 60 * 1000;

/**
 * Reads ingest's own variables (all optional). The default transactional id is the
 * namespace plus `tierstream-ingest-<hostname>`: stable across restarts of one pod of a
 * StatefulSet, so a restarted replica fences its own zombie, and distinct between replicas.
 * Throws one ConfigError naming every bad variable.
 */
export function ingestConfigFromEnv(env: Env, namespace: string, hostname: string = os.hostname()): IngestConfig {
  const reader = new EnvReader(env);
  const maxBodyBytes = reader.integer('INGEST_MAX_BODY_BYTES', INGEST_DEFAULTS.maxBodyBytes, { min: 1024, max: 64 * 1024 * 1024 });
  const maxEvents = reader.integer('INGEST_MAX_EVENTS', INGEST_DEFAULTS.maxEvents, { min: 1, max: 100_000 });
  const maxEventBytes = reader.integer('INGEST_MAX_EVENT_BYTES', INGEST_DEFAULTS.maxEventBytes, { min: 256, max: 1024 * 1024 });
  // 512 at most: far below the depth at which JSON.stringify and friends overflow the stack.
  const maxEventDepth = reader.integer('INGEST_MAX_EVENT_DEPTH', INGEST_DEFAULTS.maxEventDepth, { min: 2, max: 512 });
  const horizonHours = reader.integer('INGEST_DEDUPE_HORIZON_HOURS', INGEST_DEFAULTS.dedupeHorizonHours, { min: 1, max: 24 * 366 });
  const dedupeReadLegacy = reader.boolean('INGEST_DEDUPE_READ_LEGACY', INGEST_DEFAULTS.dedupeReadLegacy);
  const pendingTtlSeconds = reader.integer('INGEST_PENDING_TTL_SECONDS', INGEST_DEFAULTS.pendingTtlSeconds, { min: 5, max: 3600 });
  const host = hostname.replace(/[^A-Za-z0-9._-]/g, '-') || 'host';
  const transactionalId = reader.matching(
    'INGEST_TRANSACTIONAL_ID',
    /^[A-Za-z0-9._-]{1,200}$/,
    'letters, digits, dots, dashes or underscores (at most 200)',
    `${namespace}tierstream-ingest-${host}`,
  );
  reader.done();
  return { maxBodyBytes, maxEvents, maxEventBytes, maxEventDepth, dedupeHorizonMs: horizonHours * HOUR_MS, dedupeReadLegacy, pendingTtlMs: pendingTtlSeconds * 1000, transactionalId };
}
