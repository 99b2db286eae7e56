import path from 'node:path';
import { ConfigError, EnvReader, type ConfigProblem, type Env } from '@tierstream/runtime';
import { readSubscribersFile, validateSubscribers, type Subscriber } from './subscribers';

/** The variables the notifier reads beyond WORKER_ENV_VARIABLES. */
export const NOTIFIER_ENV_VARIABLES = [
  'NOTIFIER_SUBSCRIBERS_FILE',
  'NOTIFIER_SUBSCRIBERS',
  'NOTIFIER_DELIVERY_MEMORY_HOURS',
  'NOTIFIER_PARTITION_CONCURRENCY',
  'NOTIFIER_START_FROM',
] as const;

export const DEFAULT_DELIVERY_MEMORY_HOURS = 168;
export const DEFAULT_PARTITION_CONCURRENCY = 4;

export interface NotifierSettings {
  readonly subscribers: readonly Subscriber[];
  /** Where they came from: the file's path, or `NOTIFIER_SUBSCRIBERS`. */
  readonly subscribersSource: string;
  /** How long a delivered transition is remembered (and so never sent twice). */
  readonly deliveryMemoryMs: number;
  /** Partitions whose batches are delivered at the same time. */
  readonly partitionConcurrency: number;
  /** Where a consumer group without committed offsets starts. */
  readonly startFrom: 'earliest' | 'latest';
}

/**
 * Reads the notifier's own configuration. Problems with variables, including subscribers
 * given inline as JSON in NOTIFIER_SUBSCRIBERS, raise one ConfigError naming each variable;
 * a bad NOTIFIER_SUBSCRIBERS_FILE raises TS_ERR_SUBSCRIBERS_FILE naming file, path and reason.
 * A relative file path is resolved against `cwd`.
 */
export function notifierSettingsFromEnv(env: Env, cwd = process.cwd()): NotifierSettings {
  const reader = new EnvReader(env);
  const file = reader.optionalString('NOTIFIER_SUBSCRIBERS_FILE');
  const inline = reader.optionalString('NOTIFIER_SUBSCRIBERS');
  const memoryHours = reader.integer('NOTIFIER_DELIVERY_MEMORY_HOURS', DEFAULT_DELIVERY_MEMORY_HOURS, { min: 1, max: 24 * 366 });
  const partitionConcurrency = reader.integer('NOTIFIER_PARTITION_CONCURRENCY', DEFAULT_PARTITION_CONCURRENCY, { min: 1, max: 64 });
  const startFrom = reader.oneOf('NOTIFIER_START_FROM', ['earliest', 'latest'] as const, 'earliest');
  const problems: ConfigProblem[] = [];
  try {
    reader.done();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }

  let subscribers: readonly Subscriber[] = [];
  if (file !== undefined && inline !== undefined) {
    problems.push({ variable: 'NOTIFIER_SUBSCRIBERS', reason: 'must not be set together with NOTIFIER_SUBSCRIBERS_FILE: set only one of them' });
  } else if (file === undefined && inline === undefined) {
    problems.push({ variable: 'NOTIFIER_SUBSCRIBERS_FILE', reason: 'is required but not set (or give the subscribers inline as JSON in NOTIFIER_SUBSCRIBERS)' });
  } else if (inline !== undefined) {
    subscribers = readInline(inline, problems);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  if (file !== undefined) subscribers = readSubscribersFile(path.resolve(cwd, file));
  return {
    subscribers,
    subscribersSource: file ?? 'NOTIFIER_SUBSCRIBERS',
    deliveryMemoryMs: memoryHours * 3_600_000,
    partitionConcurrency,
    startFrom,
  };
}

function readInline(text: string, problems: ConfigProblem[]): readonly Subscriber[] {
  const variable = 'NOTIFIER_SUBSCRIBERS';
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    problems.push({ variable, reason: `must be JSON like {"subscribers":[...]} or [...]: ${(err as Error).message}` });
    return [];
  }
  const result = validateSubscribers(doc);
  for (const p of result.problems) problems.push({ variable, reason: `${p.path}: ${p.reason}` });
  return result.subscribers;
}
