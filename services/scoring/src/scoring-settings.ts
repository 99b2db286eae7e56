import { DEFAULT_POLICY_FILE, EnvReader, loadPolicyFile, type Env } from '@tierstream/runtime';
import type { ScoringSettings } from './scoring-worker';

/** Scoring's own variables, beside the shared WORKER_ENV_VARIABLES. */
export const SCORING_ENV_VARIABLES = ['SCORING_POLICY_FILE', 'SCORING_CONCURRENCY', 'SCORING_FETCH_MAX_BYTES', 'SCORING_ALLOWED_LATENESS_HOURS', 'SCORING_SWEEP', 'SCORING_SWEEP_LIMIT', 'SCORING_BATCH_TIME_MS'] as const;

/** Reads scoring's variables and loads the policy; throws a ConfigError or TS_ERR_POLICY. */
export function scoringSettingsFromEnv(env: Env): ScoringSettings {
  const reader = new EnvReader(env);
  const policyFile = reader.string('SCORING_POLICY_FILE', DEFAULT_POLICY_FILE);
  const concurrency = reader.integer('SCORING_CONCURRENCY', 4, { min: 1, max: 64 });
  const fetchMaxBytes = reader.integer('SCORING_FETCH_MAX_BYTES', 262_144, { min: 1024, max: 67_108_864 });
  const allowedLatenessHours = reader.integer('SCORING_ALLOWED_LATENESS_HOURS', 168, { min: 0, max: 24 * 3660 });
  const sweep = reader.boolean('SCORING_SWEEP', true);
  const sweepLimit = reader.integer('SCORING_SWEEP_LIMIT', 1000, { min: 1, max: 100_000 });
  const batchTimeMs = reader.integer('SCORING_BATCH_TIME_MS', 2000, { min: 100, max: 60_000 });
  reader.done();
  const policy = loadPolicyFile(policyFile);
  return { policy, concurrency, fetchMaxBytes, allowedLatenessMs: allowedLatenessHours * 3_600_000, sweep, sweepLimit, batchTimeMs, tick: policy.clock.wallClockTick };
}
