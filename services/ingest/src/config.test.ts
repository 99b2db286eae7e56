import { ConfigError, type Env } from '@tierstream/runtime';
import { INGEST_DEFAULTS, INGEST_ENV_VARIABLES, ingestConfigFromEnv } from './config';

function configError(env: Env): ConfigError {
  try {
    ingestConfigFromEnv(env, 'ns.', 'host-1');
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('ingestConfigFromEnv', () => {
  it('applies the documented defaults', () => {
    expect(ingestConfigFromEnv({}, 'ns.', 'host-1')).toEqual({
      maxBodyBytes: 1_048_576,
      maxEvents: 1000,
      maxEventBytes: 65_536,
      maxEventDepth: 64,
      dedupeHorizonMs: 168 * 3_600_000,
      dedupeReadLegacy: true,
      pendingTtlMs: 120_000,
      transactionalId: 'ns.tierstream-ingest-host-1',
    });
    expect(INGEST_DEFAULTS).toEqual({ maxBodyBytes: 1_048_576, maxEvents: 1000, maxEventBytes: 65_536, maxEventDepth: 64, dedupeHorizonHours: 168, dedupeReadLegacy: true, pendingTtlSeconds: 120 });
  });

  it('reads every variable', () => {
    const env = {
      INGEST_MAX_BODY_BYTES: '2048',
      INGEST_MAX_EVENTS: '10',
      INGEST_MAX_EVENT_BYTES: '512',
      INGEST_MAX_EVENT_DEPTH: '8',
      INGEST_DEDUPE_HORIZON_HOURS: '24',
      INGEST_DEDUPE_READ_LEGACY: 'false',
      INGEST_PENDING_TTL_SECONDS: '5',
      INGEST_TRANSACTIONAL_ID: 'ingest-0',
    };
    expect(ingestConfigFromEnv(env, '', 'h')).toEqual({
      maxBodyBytes: 2048,
      maxEvents: 10,
      maxEventBytes: 512,
      maxEventDepth: 8,
      dedupeHorizonMs: 24 * 3_600_000,
      dedupeReadLegacy: false,
      pendingTtlMs: 5000,
      transactionalId: 'ingest-0',
    });
  });

  it('makes a hostname safe for a transactional id', () => {
    expect(ingestConfigFromEnv({}, '', 'pod 7/a').transactionalId).toBe('tierstream-ingest-pod-7-a');
  });

  it('names every bad variable at once', () => {
    const err = configError({
      INGEST_MAX_BODY_BYTES: '1MB',
      INGEST_MAX_EVENTS: '0',
      INGEST_MAX_EVENT_BYTES: '2000000',
      INGEST_MAX_EVENT_DEPTH: '1',
      INGEST_DEDUPE_HORIZON_HOURS: '-1',
      INGEST_PENDING_TTL_SECONDS: '1',
      INGEST_TRANSACTIONAL_ID: 'has space',
    });
    expect(err.problems).toEqual([
      { variable: 'INGEST_MAX_BODY_BYTES', reason: "must be a whole number, got '1MB'" },
      { variable: 'INGEST_MAX_EVENTS', reason: 'must be between 1 and 100000, got 0' },
      { variable: 'INGEST_MAX_EVENT_BYTES', reason: 'must be between 256 and 1048576, got 2000000' },
      { variable: 'INGEST_MAX_EVENT_DEPTH', reason: 'must be between 2 and 512, got 1' },
      { variable: 'INGEST_DEDUPE_HORIZON_HOURS', reason: 'must be between 1 and 8784, got -1' },
      { variable: 'INGEST_PENDING_TTL_SECONDS', reason: 'must be between 5 and 3600, got 1' },
      { variable: 'INGEST_TRANSACTIONAL_ID', reason: "must be letters, digits, dots, dashes or underscores (at most 200), got 'has space'" },
    ]);
    expect(err.code).toBe('TS_ERR_CONFIG');
  });

  it('reads no variable outside INGEST_ENV_VARIABLES, and all of them', () => {
    const read = new Set<string>();
    const env = new Proxy<Env>({}, { get: (_t, key) => (typeof key === 'string' ? (read.add(key), undefined) : undefined) });
    ingestConfigFromEnv(env, '', 'h');
    expect([...read].sort()).toEqual([...INGEST_ENV_VARIABLES].sort());
  });
});
