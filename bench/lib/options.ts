import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '@tierstream/cli/dist/stack/settings';
import { integer, workerEnvOf } from './cli';

export interface SweepBenchOptions {
  /** Customers seeded in Redis, every one due at the sweep's watermark. */
  readonly customers: number;
  /** Partitions of the events topic (infra/topics.yaml declares 12). */
  readonly partitions: number | undefined;
  /** SCORING_SWEEP_LIMIT of the worker under test. */
  readonly sweepLimit: number;
  /** Scoring worker processes (replicas of one consumer group, splitting the partitions). */
  readonly replicas: number;
  /** 0: the watermark is the customers' due time (one evaluation each, the daily sweep); n: n days later (catch-up). */
  readonly catchUpDays: number;
  /** Distinct customer histories the population is built from. */
  readonly templates: number;
  /** Seed of the synthetic histories. */
  readonly seed: number;
  /** Customers per seeding pipeline. */
  readonly chunk: number;
  /** Stop measuring after this long (the result records completed: false). */
  readonly maxSweepSeconds: number;
  /** Give up when nobody was re-evaluated for this long (a crashed consumer, a stuck transaction). */
  readonly stallSeconds: number;
  /** LOG_LEVEL of the worker; `debug` also analyses its 'batch scored' lines. */
  readonly workerLogLevel: string;
  /** Run the worker with --cpu-prof and summarise where its CPU time went. */
  readonly cpuProfile: boolean;
  /** Keep the workers' logs (and policy copy) in the temporary directory. */
  readonly keepLogs: boolean;
  /** Extra environment of the workers (`--worker-env SCORING_CONCURRENCY=1`). */
  readonly workerEnv: Readonly<Record<string, string>>;
  /** The worker's entry point: another build of it can be compared with this one. */
  readonly scoringMain: string;
  readonly policyFile: string;
  readonly resultsDir: string;
}

export const USAGE = `npm run bench:sweep -- [options]

Seeds N customers in Redis under a fresh namespace, all due at one watermark, starts the
real scoring worker as a process, moves every partition's watermark with a clock tick and
measures how fast the worker re-evaluates them (customers per second).

  --customers <n>          customers in Redis (default 1000000)
  --partitions <n>         partitions of the events topic (default: infra/topics.yaml, 12)
  --sweep-limit <n>        SCORING_SWEEP_LIMIT of the worker (default 1000, the worker's default)
  --replicas <n>           scoring worker processes sharing the partitions (default 1)
  --catch-up-days <n>      watermark n days after the customers' due day (default 0: one
                           evaluation per customer, as in the daily sweep)
  --templates <n>          distinct synthetic histories (default 1000)
  --seed <n>               seed of the histories (default 1)
  --chunk <n>              customers per seeding pipeline (default 5000)
  --max-sweep-seconds <n>  stop measuring after this long (default 1200)
  --stall-seconds <n>      give up when nobody was re-evaluated for this long (default 120)
  --worker-log-level <l>   LOG_LEVEL of the worker (default warn; debug: per-batch timings)
  --cpu-profile            run the worker with --cpu-prof and print its hottest functions
  --keep-logs              keep the workers' logs (a temporary directory; kept anyway on failure)
  --worker-env <k=v>       extra worker variable, repeatable (e.g. SCORING_CONCURRENCY=1)
  --scoring-main <file>    the worker to run (default services/scoring/dist/main.js), to compare builds
  --policy <file>          policy (default policies/default.yaml; its wall-clock tick is turned off)
  --results-dir <dir>      where the JSON goes (default bench/results)
  --help`;

/** Parses the command line; undefined when --help was asked for. */
export function parseOptions(argv: readonly string[]): SweepBenchOptions | undefined {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      customers: { type: 'string' },
      partitions: { type: 'string' },
      'sweep-limit': { type: 'string' },
      replicas: { type: 'string' },
      'catch-up-days': { type: 'string' },
      templates: { type: 'string' },
      seed: { type: 'string' },
      chunk: { type: 'string' },
      'max-sweep-seconds': { type: 'string' },
      'stall-seconds': { type: 'string' },
      'worker-log-level': { type: 'string' },
      'cpu-profile': { type: 'boolean' },
      'keep-logs': { type: 'boolean' },
      'worker-env': { type: 'string', multiple: true },
      'scoring-main': { type: 'string' },
      policy: { type: 'string' },
      'results-dir': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return undefined;
  const level = values['worker-log-level'] ?? 'warn';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace'].includes(level)) throw new Error(`--worker-log-level: unknown level ${level}`);
  return {
    customers: integer('customers', values.customers, 1_000_000, 1, 50_000_000),
    partitions: values.partitions === undefined ? undefined : integer('partitions', values.partitions, 12, 1, 1000),
    sweepLimit: integer('sweep-limit', values['sweep-limit'], 1000, 1, 100_000),
    replicas: integer('replicas', values.replicas, 1, 1, 64),
    catchUpDays: integer('catch-up-days', values['catch-up-days'], 0, 0, 3660),
    templates: integer('templates', values.templates, 1000, 1, 100_000),
    seed: integer('seed', values.seed, 1, 0, 2 ** 31 - 1),
    chunk: integer('chunk', values.chunk, 5000, 1, 100_000),
    maxSweepSeconds: integer('max-sweep-seconds', values['max-sweep-seconds'], 1200, 1, 86_400),
    stallSeconds: integer('stall-seconds', values['stall-seconds'], 120, 5, 86_400),
    workerLogLevel: level,
    cpuProfile: values['cpu-profile'] ?? false,
    keepLogs: values['keep-logs'] ?? false,
    workerEnv: workerEnvOf(values['worker-env']),
    scoringMain: path.resolve(values['scoring-main'] ?? path.join(REPO_ROOT, 'services', 'scoring', 'dist', 'main.js')),
    policyFile: path.resolve(values.policy ?? path.join(REPO_ROOT, 'policies', 'default.yaml')),
    resultsDir: path.resolve(values['results-dir'] ?? path.join(REPO_ROOT, 'bench', 'results')),
  };
}
