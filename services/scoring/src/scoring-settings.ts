import { DEFAULT_POLICY_FILE, EnvReader, loadPolicyFile, type Env } from '@tierstream/runtime';
import type { ScoringSettings } from './scoring-worker';

/** Scoring's own variables, beside the shared WORKER_ENV_VARIABLES. */
export const SCORING_ENV_VARIABLES = ['SCORING_POLICY_FILE', 'SCORING_INSTANCE'] as const;

/** Reads scoring's variables and loads the policy; throws a ConfigError or TS_ERR_POLICY. */
export function scoringSettingsFromEnv(env: Env): ScoringSettings {
  const reader = new EnvReader(env);
  const policyFile = reader.string('SCORING_POLICY_FILE', DEFAULT_POLICY_FILE);
  const instance = reader.matching('SCORING_INSTANCE', /^[a-zA-Z0-9-]{1,40}$/, 'letters, digits or dashes (at most 40)', '0');
  reader.done();
  return { policy: loadPolicyFile(policyFile), instance };
}
