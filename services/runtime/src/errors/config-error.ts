import { TierstreamError } from './tierstream-error';

export interface ConfigProblem {
  /** The environment variable or option at fault, e.g. `REDIS_URL`. */
  readonly variable: string;
  readonly reason: string;
}

/** All configuration problems found at once, each naming its variable. */
export class ConfigError extends TierstreamError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super('TS_ERR_CONFIG', `invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.reason}`).join('\n')}`, {
      context: { variables: problems.map((p) => p.variable) },
    });
    this.problems = problems;
  }
}
