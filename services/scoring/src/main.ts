import { DEFAULT_POLICY_FILE, EnvReader, loadPolicyFile, runWorkerMain } from '@tierstream/runtime';
import { ScoringWorker } from './scoring-worker';

/** Scoring's own variables, beside the shared WORKER_ENV_VARIABLES. */
export const SCORING_ENV_VARIABLES = ['SCORING_POLICY_FILE', 'SCORING_INSTANCE'] as const;

runWorkerMain('scoring', (ctx) => {
  const env = new EnvReader(process.env);
  const policyFile = env.string('SCORING_POLICY_FILE', DEFAULT_POLICY_FILE);
  const instance = env.matching('SCORING_INSTANCE', /^[a-zA-Z0-9-]{1,40}$/, 'letters, digits or dashes', '0');
  env.done();
  return new ScoringWorker(ctx, { policy: loadPolicyFile(policyFile), instance });
});
