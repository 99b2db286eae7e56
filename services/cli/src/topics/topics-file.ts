import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { TierstreamError } from '@tierstream/runtime';

export interface TopicDeclaration {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** Path of the value's Avro schema, relative to the topics file's repository root. */
  readonly valueSchema: string | undefined;
  readonly config: Readonly<Record<string, string>>;
}

const NAME = /^[a-zA-Z0-9._-]{1,249}$/;

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads and validates the declarative topics file. Every problem is reported with the
 * file and the path inside it, e.g. "infra/topics.yaml: topics[2].partitions: must be ...".
 */
export function parseTopicsFile(text: string, fileName: string, overrides: { replicationFactor?: number } = {}): TopicDeclaration[] {
  const problems: string[] = [];
  const fail = (where: string, why: string) => problems.push(`${fileName}: ${where}: ${why}`);
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new TierstreamError('TS_ERR_TOPICS_FILE', `${fileName}: not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  if (!isObject(doc)) throw new TierstreamError('TS_ERR_TOPICS_FILE', `${fileName}: must be a mapping with 'topics'`);
  const defaults = doc['defaults'] === undefined ? {} : doc['defaults'];
  if (!isObject(defaults)) fail('defaults', 'must be a mapping');
  const d = isObject(defaults) ? defaults : {};
  const positive = (v: unknown, where: string): number | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      fail(where, `must be a whole number >= 1, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v;
  };
  const defaultPartitions = positive(d['partitions'], 'defaults.partitions') ?? 1;
  const defaultRf = positive(d['replicationFactor'], 'defaults.replicationFactor') ?? 1;
  const topics = doc['topics'];
  if (!Array.isArray(topics) || topics.length === 0) {
    fail('topics', 'must be a non-empty list');
    throw new TierstreamError('TS_ERR_TOPICS_FILE', problems.join('\n'), { context: { file: fileName } });
  }
  const seen = new Set<string>();
  const known = new Set(['name', 'doc', 'partitions', 'replicationFactor', 'valueSchema', 'config']);
  const result: TopicDeclaration[] = [];
  topics.forEach((t: unknown, i) => {
    const at = `topics[${i}]`;
    if (!isObject(t)) return void fail(at, 'must be a mapping');
    for (const key of Object.keys(t)) if (!known.has(key)) fail(`${at}.${key}`, `unknown field (known: ${[...known].join(', ')})`);
    const name = t['name'];
    if (typeof name !== 'string' || !NAME.test(name)) return void fail(`${at}.name`, `must be a Kafka topic name, got ${JSON.stringify(name)}`);
    if (seen.has(name)) fail(`${at}.name`, `'${name}' is declared twice`);
    seen.add(name);
    const config: Record<string, string> = {};
    const rawConfig = t['config'] ?? {};
    if (!isObject(rawConfig)) fail(`${at}.config`, 'must be a mapping of string values');
    else
      for (const [k, v] of Object.entries(rawConfig)) {
        if (typeof v !== 'string') fail(`${at}.config.${k}`, `must be a string (quote it), got ${JSON.stringify(v)}`);
        else config[k] = v;
      }
    const valueSchema = t['valueSchema'];
    if (valueSchema !== undefined && typeof valueSchema !== 'string') fail(`${at}.valueSchema`, 'must be a path');
    result.push({
      name,
      partitions: positive(t['partitions'], `${at}.partitions`) ?? defaultPartitions,
      replicationFactor: overrides.replicationFactor ?? positive(t['replicationFactor'], `${at}.replicationFactor`) ?? defaultRf,
      valueSchema: typeof valueSchema === 'string' ? valueSchema : undefined,
      config,
    });
  });
  if (problems.length > 0) throw new TierstreamError('TS_ERR_TOPICS_FILE', problems.join('\n'), { context: { file: fileName } });
  return result;
}

export function readTopicsFile(file: string, overrides: { replicationFactor?: number } = {}): TopicDeclaration[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new TierstreamError('TS_ERR_TOPICS_FILE', `cannot read topics file ${file}: ${(err as Error).message}`, { cause: err });
  }
  return parseTopicsFile(text, path.relative(process.cwd(), file) || file, overrides);
}
