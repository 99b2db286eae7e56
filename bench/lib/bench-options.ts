import path from 'node:path';
import { parseArgs } from 'node:util';
import { integer, workerEnvOf } from './cli';

export const PHASES = ['baseline', 'ingest', 'scoring', 'latency', 'pipeline', 'sweep'] as const;
export type Phase = (typeof PHASES)[number];

export interface BenchOptions {
  readonly events: number;
  readonly customers: number;
  readonly seed: number;
  readonly quick: boolean;
  /** Phases asked for; what they need runs too (scoring needs ingest's output, …). */
  readonly only: ReadonlySet<Phase>;
  /** Offered rates of the latency phases, events/s. */
  readonly rates: readonly number[];
  /** How long each rate is offered. */
  readonly latencySeconds: number;
  /** How long after the last offered event to wait for the stragglers' transitions. */
  readonly latencyDrainSeconds: number;
  /** Customers due at once in the sweep phase. */
  readonly sweepCustomers: number;
  /** Bound of every drain: a worker that has not drained by then is reported as not completed. */
  readonly phaseTimeoutSeconds: number;
  /** Give a drain up when its group committed nothing for this long (a worker failing every batch). */
  readonly stallSeconds: number;
  /** The checkout whose built services/<worker>/dist/main.js are run. */
  readonly workerRoot: string;
  readonly workerEnv: Readonly<Record<string, string>>;
  readonly policyFile: string;
  readonly name: string;
  readonly resultsDir: string;
  readonly keepLogs: boolean;
  /** Profile every worker (node --cpu-prof) and print where each one's CPU went. */
  readonly cpuProfile: boolean;
}

export const BENCH_USAGE = `npm run bench -- [options]

Generates a dataset, then measures against the real stack, each worker as a process of its
own build (docs/benchmarks.md#npm-run-bench): raw kafkajs produce and consume, ingest alone,
scoring alone, latency at fixed offered loads, the whole pipeline, and the sweep.

  --events <n>               upstream events (default 1000000; --quick 10000)
  --customers <n>            customers the events belong to (default 100000; --quick 1000)
  --seed <n>                 seed of the dataset (default 1)
  --quick                    a small run (about 1-2 minutes); writes quick-latest.json, never latest.json
  --only <phase,...>         ${PHASES.join(', ')} (default all; what a phase needs runs too)
  --rates <n,...>            offered loads of the latency phase, events/s (default 2000,5000)
  --latency-seconds <n>      how long each load is offered (default 20; --quick 3)
  --latency-drain-seconds <n> wait for the last transitions this long (default 30; --quick 5)
  --sweep-customers <n>      customers due at once in the sweep (default 1000000; --quick 1000)
  --phase-timeout-seconds <n> bound of each drain (default 1800; --quick 120)
  --stall-seconds <n>        give a drain up after this long without progress (default 120; --quick 30)
  --worker-root <dir>        run the workers of another checkout's build (default: this one)
  --worker-env <k=v>         extra worker variable, repeatable
  --policy <file>            policy (default policies/default.yaml; its wall-clock tick is turned off)
  --name <name>              result file name prefix (default bench)
  --results-dir <dir>        where the JSON goes (default bench/results)
  --keep-logs                keep the workers' logs
  --cpu-profile              profile each worker (node --cpu-prof): print where its CPU went, keep the .cpuprofile files
  --help`;

/** Parses the command line (paths resolved against `repoRoot`); undefined when --help was asked for. */
export function parseBenchOptions(argv: readonly string[], repoRoot: string): BenchOptions | undefined {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      events: { type: 'string' },
      customers: { type: 'string' },
      seed: { type: 'string' },
      quick: { type: 'boolean' },
      only: { type: 'string' },
      rates: { type: 'string' },
      'latency-seconds': { type: 'string' },
      'latency-drain-seconds': { type: 'string' },
      'sweep-customers': { type: 'string' },
      'phase-timeout-seconds': { type: 'string' },
      'stall-seconds': { type: 'string' },
      'worker-root': { type: 'string' },
      'worker-env': { type: 'string', multiple: true },
      policy: { type: 'string' },
      name: { type: 'string' },
      'results-dir': { type: 'string' },
      'keep-logs': { type: 'boolean' },
      'cpu-profile': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return undefined;
  const quick = values.quick ?? false;
  const only = new Set<Phase>();
  for (const word of (values.only ?? PHASES.join(',')).split(',').map((w) => w.trim()).filter((w) => w !== '')) {
    if (!(PHASES as readonly string[]).includes(word)) throw new Error(`--only: unknown phase ${word} (phases: ${PHASES.join(', ')})`);
    only.add(word as Phase);
  }
  if (only.size === 0) throw new Error('--only: no phase given');
  const rates = (values.rates ?? '2000,5000').split(',').map((r) => integer('rates', r.trim(), 0, 1, 1_000_000));
  const events = integer('events', values.events, quick ? 10_000 : 1_000_000, 100, 100_000_000);
  const customers = integer('customers', values.customers, quick ? 1_000 : 100_000, 10, 50_000_000);
  if (customers > events) throw new Error(`--customers (${customers}) must not exceed --events (${events})`);
  const name = values.name ?? 'bench';
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`--name: lower-case letters, digits and dashes, got ${name}`);
  return {
    events,
    customers,
    seed: integer('seed', values.seed, 1, 0, 2 ** 31 - 1),
    quick,
    only,
    rates,
    latencySeconds: integer('latency-seconds', values['latency-seconds'], quick ? 3 : 20, 1, 3600),
    latencyDrainSeconds: integer('latency-drain-seconds', values['latency-drain-seconds'], quick ? 5 : 30, 1, 3600),
    sweepCustomers: integer('sweep-customers', values['sweep-customers'], quick ? 1_000 : 1_000_000, 1, 50_000_000),
    phaseTimeoutSeconds: integer('phase-timeout-seconds', values['phase-timeout-seconds'], quick ? 120 : 1800, 5, 86_400),
    stallSeconds: integer('stall-seconds', values['stall-seconds'], quick ? 30 : 120, 5, 86_400),
    workerRoot: path.resolve(repoRoot, values['worker-root'] ?? '.'),
    workerEnv: workerEnvOf(values['worker-env']),
    policyFile: path.resolve(repoRoot, values.policy ?? path.join('policies', 'default.yaml')),
    name,
    resultsDir: path.resolve(repoRoot, values['results-dir'] ?? path.join('bench', 'results')),
    keepLogs: (values['keep-logs'] ?? false) || (values['cpu-profile'] ?? false),
    cpuProfile: values['cpu-profile'] ?? false,
  };
}

/** The phases that run: those asked for and those whose output they need. */
export function phasesToRun(only: ReadonlySet<Phase>): Set<Phase> {
  const run = new Set(only);
  // Latency offers load to a caught-up scoring worker, which drains ingest's output first.
  if (run.has('latency')) run.add('scoring');
  if (run.has('scoring')) run.add('ingest');
  // The raw producer fills the topic ingest drains; the raw consumer reads what ingest wrote.
  if (run.has('ingest') || run.has('baseline')) {
    run.add('ingest');
    run.add('baseline');
  }
  return run;
}

/**
 * The result files a run writes: `<name>-<time>.json` and the latest of its name. A quick
 * run writes quick-latest.json only: it never replaces latest.json, nor piles up files.
 */
export function resultFileNames(name: string, startedAt: Date, quick: boolean): string[] {
  if (quick) return ['quick-latest.json'];
  const stamp = startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  return [`${name}-${stamp}.json`, name === 'bench' ? 'latest.json' : `${name}-latest.json`];
}
