import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { DIRECTIONS, type Direction } from '@tierstream/domain';
import { TierstreamError } from '@tierstream/runtime';

/** Which tier changes a subscriber wants; an absent list matches everything. */
export interface SubscriberFilter {
  readonly dimensions?: readonly string[];
  /** Matches a change whose from_tier or to_tier is listed. */
  readonly tiers?: readonly string[];
  readonly directions?: readonly Direction[];
}

export interface Backoff {
  /** Upper bound of the first retry's delay; doubles per attempt (full jitter below it). */
  readonly initialMs: number;
  readonly maxMs: number;
}

interface SubscriberBase {
  readonly id: string;
  readonly filter: SubscriberFilter;
}

/** Writes one log line per change (pino, at info). */
export interface LogSubscriber extends SubscriberBase {
  readonly type: 'log';
}

/** POSTs each change, signed as Standard Webhooks specifies. */
export interface WebhookSubscriber extends SubscriberBase {
  readonly type: 'webhook';
  readonly url: string;
  /** `whsec_<base64>`; every one signs, so a receiver can rotate. */
  readonly secrets: readonly string[];
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  /** Deliveries to this subscriber in flight at once, across partitions. */
  readonly concurrency: number;
  readonly backoff: Backoff;
}

export type Subscriber = LogSubscriber | WebhookSubscriber;

export const WEBHOOK_DEFAULTS = {
  timeoutMs: 10_000,
  maxAttempts: 8,
  concurrency: 4,
  backoff: { initialMs: 500, maxMs: 60_000 },
} as const;

/** One thing wrong in a subscribers document: where (e.g. `subscribers[1].url`) and why. */
export interface SubscriberProblem {
  readonly path: string;
  readonly reason: string;
}

export interface ValidatedSubscribers {
  readonly subscribers: readonly Subscriber[];
  readonly problems: readonly SubscriberProblem[];
}

/** Goes into Redis keys (hash tag) and metric labels: no braces, colons or spaces. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SECRET_PREFIX = 'whsec_';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** The Standard Webhooks specification's recommended secret sizes. */
const SECRET_BYTES = { min: 24, max: 64 } as const;

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v));

const COMMON_FIELDS = ['id', 'type', 'filter'];
const FIELDS: Record<Subscriber['type'], readonly string[]> = {
  log: COMMON_FIELDS,
  webhook: [...COMMON_FIELDS, 'url', 'secrets', 'timeoutMs', 'maxAttempts', 'concurrency', 'backoff'],
};

/** Why a secret is unusable, or undefined when it is fine. Never quotes the secret. */
export function secretProblem(secret: unknown): string | undefined {
  const expected = `must be '${SECRET_PREFIX}' followed by base64 of ${SECRET_BYTES.min} to ${SECRET_BYTES.max} random bytes`;
  if (typeof secret !== 'string') return `${expected}, got ${typeof secret === 'object' ? (secret === null ? 'null' : 'a list or mapping') : typeof secret}`;
  if (!secret.startsWith(SECRET_PREFIX)) return `${expected} (the value does not start with '${SECRET_PREFIX}'; not shown)`;
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!BASE64.test(encoded) || encoded.length === 0) return `${expected} (the part after '${SECRET_PREFIX}' is not padded base64; not shown)`;
  const bytes = Buffer.from(encoded, 'base64').length;
  if (bytes < SECRET_BYTES.min || bytes > SECRET_BYTES.max) return `${expected} (it decodes to ${bytes} bytes; not shown)`;
  return undefined;
}

/**
 * Checks a parsed subscribers document (`{ subscribers: [...] }`, or the bare list) and
 * returns the valid subscribers, with defaults filled in, and every problem found. Callers
 * decide how to report problems (file errors name the file, env errors the variable).
 */
export function validateSubscribers(doc: unknown): ValidatedSubscribers {
  const problems: SubscriberProblem[] = [];
  const fail = (where: string, reason: string): void => void problems.push({ path: where, reason });
  let list: unknown;
  let base: string;
  if (Array.isArray(doc)) {
    list = doc;
    base = '';
  } else if (isObject(doc)) {
    for (const key of Object.keys(doc)) if (key !== 'subscribers') fail(key, 'unknown field (known: subscribers)');
    list = doc['subscribers'];
    base = 'subscribers';
  } else {
    fail('(document)', `must be a mapping with a 'subscribers' list (or the list itself), got ${show(doc)}`);
    return { subscribers: [], problems };
  }
  if (!Array.isArray(list) || list.length === 0) {
    fail(base || '(document)', `must be a non-empty list, got ${show(list)}`);
    return { subscribers: [], problems };
  }
  const seen = new Set<string>();
  const subscribers: Subscriber[] = [];
  list.forEach((entry: unknown, i) => {
    const at = `${base}[${i}]`;
    const before = problems.length;
    const subscriber = readSubscriber(entry, at, fail);
    const id = isObject(entry) ? entry['id'] : undefined;
    if (typeof id === 'string' && ID.test(id)) {
      if (seen.has(id)) fail(`${at}.id`, `'${id}' is used by an earlier subscriber`);
      seen.add(id);
    }
    if (subscriber && problems.length === before) subscribers.push(subscriber);
  });
  return { subscribers, problems };
}

type Fail = (where: string, reason: string) => void;

function readSubscriber(entry: unknown, at: string, fail: Fail): Subscriber | undefined {
  if (!isObject(entry)) return void fail(at, `must be a mapping, got ${show(entry)}`);
  const id = entry['id'];
  const idOk = typeof id === 'string' && ID.test(id);
  if (!idOk) fail(`${at}.id`, `must be 1 to 64 letters, digits, '.', '_' or '-' starting with a letter or digit, got ${show(id)}`);
  const type = entry['type'];
  if (type !== 'log' && type !== 'webhook') {
    fail(`${at}.type`, `must be one of log, webhook, got ${show(type)}`);
    return undefined;
  }
  const known = FIELDS[type];
  for (const key of Object.keys(entry)) if (!known.includes(key)) fail(`${at}.${key}`, `unknown field for a ${type} subscriber (known: ${known.join(', ')})`);
  const filter = readFilter(entry['filter'], `${at}.filter`, fail);
  if (!idOk || !filter) return undefined;
  if (type === 'log') return { id, type, filter };

  const url = readUrl(entry['url'], `${at}.url`, fail);
  const secrets = readSecrets(entry['secrets'], `${at}.secrets`, fail);
  const timeoutMs = readInt(entry['timeoutMs'], `${at}.timeoutMs`, WEBHOOK_DEFAULTS.timeoutMs, 1, 300_000, fail);
  const maxAttempts = readInt(entry['maxAttempts'], `${at}.maxAttempts`, WEBHOOK_DEFAULTS.maxAttempts, 1, 100, fail);
  const concurrency = readInt(entry['concurrency'], `${at}.concurrency`, WEBHOOK_DEFAULTS.concurrency, 1, 256, fail);
  const backoff = readBackoff(entry['backoff'], `${at}.backoff`, fail);
  if (url === undefined || secrets === undefined || backoff === undefined) return undefined;
  return { id, type, filter, url, secrets, timeoutMs, maxAttempts, concurrency, backoff };
}

function readUrl(value: unknown, at: string, fail: Fail): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return void fail(at, `must be an http or https URL, got ${show(value)}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return void fail(at, `must be an http or https URL, got ${show(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return void fail(at, `must use http or https, got '${url.protocol}'`);
  return value;
}

function readSecrets(value: unknown, at: string, fail: Fail): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    return void fail(at, `must be a non-empty list of '${SECRET_PREFIX}…' secrets (two during a rotation), got ${Array.isArray(value) ? 'an empty list' : typeof value === 'string' ? 'a single string (write it as a list)' : show(value)}`);
  }
  let ok = true;
  value.forEach((secret: unknown, i) => {
    const problem = secretProblem(secret);
    if (problem) {
      ok = false;
      fail(`${at}[${i}]`, problem);
    }
  });
  if (ok && new Set(value).size !== value.length) {
    ok = false;
    fail(at, 'lists the same secret twice');
  }
  return ok ? (value as string[]) : undefined;
}

function readInt(value: unknown, at: string, fallback: number, min: number, max: number, fail: Fail): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(at, `must be a whole number from ${min} to ${max}, got ${show(value)}`);
    return fallback;
  }
  return value;
}

function readBackoff(value: unknown, at: string, fail: Fail): Backoff | undefined {
  if (value === undefined) return WEBHOOK_DEFAULTS.backoff;
  if (!isObject(value)) return void fail(at, `must be a mapping with initialMs and maxMs, got ${show(value)}`);
  for (const key of Object.keys(value)) if (key !== 'initialMs' && key !== 'maxMs') fail(`${at}.${key}`, 'unknown field (known: initialMs, maxMs)');
  const initialMs = readInt(value['initialMs'], `${at}.initialMs`, WEBHOOK_DEFAULTS.backoff.initialMs, 1, 3_600_000, fail);
  const maxMs = readInt(value['maxMs'], `${at}.maxMs`, Math.max(WEBHOOK_DEFAULTS.backoff.maxMs, initialMs), 1, 3_600_000, fail);
  if (maxMs < initialMs) return void fail(`${at}.maxMs`, `must be at least initialMs (${initialMs}), got ${maxMs}`);
  return { initialMs, maxMs };
}

function readFilter(value: unknown, at: string, fail: Fail): SubscriberFilter | undefined {
  if (value === undefined) return {};
  if (!isObject(value)) return void fail(at, `must be a mapping with dimensions, tiers or directions, got ${show(value)}`);
  let ok = true;
  const list = (key: string): string[] | undefined => {
    const v = value[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0 || !v.every((s) => typeof s === 'string' && s.trim() !== '')) {
      ok = false;
      fail(`${at}.${key}`, `must be a non-empty list of names (leave it out to match all), got ${show(v)}`);
      return undefined;
    }
    return v as string[];
  };
  for (const key of Object.keys(value)) {
    if (!['dimensions', 'tiers', 'directions'].includes(key)) {
      ok = false;
      fail(`${at}.${key}`, 'unknown field (known: dimensions, tiers, directions)');
    }
  }
  const dimensions = list('dimensions');
  const tiers = list('tiers');
  const directions = list('directions');
  directions?.forEach((d, i) => {
    if (!(DIRECTIONS as readonly string[]).includes(d)) {
      ok = false;
      fail(`${at}.directions[${i}]`, `must be one of ${DIRECTIONS.join(', ')}, got ${show(d)}`);
    }
  });
  if (!ok) return undefined;
  return {
    ...(dimensions ? { dimensions } : {}),
    ...(tiers ? { tiers } : {}),
    ...(directions ? { directions: directions as Direction[] } : {}),
  };
}

/** Parses a subscribers file's text (YAML, or JSON which YAML reads too); throws TS_ERR_SUBSCRIBERS_FILE listing every problem. */
export function parseSubscribersFile(text: string, fileName: string): readonly Subscriber[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new TierstreamError('TS_ERR_SUBSCRIBERS_FILE', `${fileName}: not valid YAML or JSON: ${(err as Error).message}`, { cause: err, context: { file: fileName } });
  }
  const { subscribers, problems } = validateSubscribers(doc);
  if (problems.length > 0) {
    throw new TierstreamError('TS_ERR_SUBSCRIBERS_FILE', problems.map((p) => `${fileName}: ${p.path}: ${p.reason}`).join('\n'), {
      context: { file: fileName, paths: problems.map((p) => p.path) },
    });
  }
  return subscribers;
}

export function readSubscribersFile(file: string): readonly Subscriber[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new TierstreamError('TS_ERR_SUBSCRIBERS_FILE', `cannot read subscribers file ${file}: ${(err as Error).message}`, { cause: err, context: { file } });
  }
  return parseSubscribersFile(text, path.relative(process.cwd(), file) || file);
}
