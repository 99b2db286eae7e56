import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TierstreamError } from '@tierstream/runtime';
import { thrownBy } from '../../runtime/src/testing/thrown-by';
import { parseSubscribersFile, readSubscribersFile, secretProblem, validateSubscribers, WEBHOOK_DEFAULTS } from './subscribers';
import { newSecret } from './testing/fixtures';

const EXAMPLE = path.resolve(__dirname, '..', '..', '..', 'infra', 'subscribers.example.yaml');
const secret = newSecret();
const webhook = (extra: Record<string, unknown> = {}) => ({ id: 'crm', type: 'webhook', url: 'https://crm.example/hooks', secrets: [secret], ...extra });
const problemsOf = (doc: unknown) => validateSubscribers(doc).problems;
const fileError = (text: string, file = 'subs.yaml'): TierstreamError => thrownBy(() => parseSubscribersFile(text, file), TierstreamError);

describe('validateSubscribers', () => {
  it('accepts a webhook with only id, type, url and secrets, filling in the documented defaults', () => {
    expect(validateSubscribers({ subscribers: [webhook()] })).toEqual({
      subscribers: [{ id: 'crm', type: 'webhook', url: 'https://crm.example/hooks', secrets: [secret], filter: {}, ...WEBHOOK_DEFAULTS }],
      problems: [],
    });
    expect(WEBHOOK_DEFAULTS).toEqual({ timeoutMs: 10_000, maxAttempts: 8, concurrency: 4, backoff: { initialMs: 500, maxMs: 60_000 } });
  });

  it('accepts a log subscriber and every webhook field', () => {
    const doc = {
      subscribers: [
        { id: 'audit', type: 'log', filter: { directions: ['DOWN'] } },
        webhook({ secrets: [secret, newSecret()], timeoutMs: 250, maxAttempts: 3, concurrency: 16, backoff: { initialMs: 5, maxMs: 40 }, filter: { dimensions: ['value'], tiers: ['gold'], directions: ['UP', 'INITIAL'] } }),
      ],
    };
    const { subscribers, problems } = validateSubscribers(doc);
    expect(problems).toEqual([]);
    expect(subscribers[0]).toEqual({ id: 'audit', type: 'log', filter: { directions: ['DOWN'] } });
    expect(subscribers[1]).toMatchObject({ timeoutMs: 250, maxAttempts: 3, concurrency: 16, backoff: { initialMs: 5, maxMs: 40 }, filter: { dimensions: ['value'], tiers: ['gold'], directions: ['UP', 'INITIAL'] } });
  });

  it.each<[string, unknown, { path: string; reason: RegExp }]>([
    ['a document that is a scalar', 'crm', { path: '(document)', reason: /must be a mapping with a 'subscribers' list \(or the list itself\), got "crm"/ }],
    ['an empty bare list', [], { path: '(document)', reason: /must be a non-empty list, got \[\]/ }],
    ['a problem in a bare list', [webhook({ timeoutMs: 0 })], { path: '[0].timeoutMs', reason: /whole number/ }],
    ['no subscribers', { subscribers: [] }, { path: 'subscribers', reason: /must be a non-empty list/ }],
    ['an unknown top-level field', { subscribers: [webhook()], subscriber: [] }, { path: 'subscriber', reason: /unknown field/ }],
    ['an entry that is not a mapping', { subscribers: ['crm'] }, { path: 'subscribers[0]', reason: /must be a mapping, got "crm"/ }],
    ['a missing id', { subscribers: [webhook({ id: undefined })] }, { path: 'subscribers[0].id', reason: /letters, digits.*got nothing/ }],
    ['an id with a colon (it goes into Redis keys)', { subscribers: [webhook({ id: 'crm:eu' })] }, { path: 'subscribers[0].id', reason: /got "crm:eu"/ }],
    ['an unknown type', { subscribers: [webhook({ type: 'email' })] }, { path: 'subscribers[0].type', reason: /must be one of log, webhook, got "email"/ }],
    ['a misspelt field', { subscribers: [webhook({ maxAtempts: 3 })] }, { path: 'subscribers[0].maxAtempts', reason: /unknown field for a webhook subscriber/ }],
    ['a webhook field on a log subscriber', { subscribers: [{ id: 'a', type: 'log', url: 'http://x' }] }, { path: 'subscribers[0].url', reason: /unknown field for a log subscriber/ }],
    ['a missing url', { subscribers: [webhook({ url: undefined })] }, { path: 'subscribers[0].url', reason: /must be an http or https URL, got nothing/ }],
    ['a url that is not a URL', { subscribers: [webhook({ url: 'crm.example/hooks' })] }, { path: 'subscribers[0].url', reason: /must be an http or https URL/ }],
    ['a url with another protocol', { subscribers: [webhook({ url: 'ftp://crm.example/' })] }, { path: 'subscribers[0].url', reason: /must use http or https, got 'ftp:'/ }],
    ['no secrets', { subscribers: [webhook({ secrets: [] })] }, { path: 'subscribers[0].secrets', reason: /non-empty list.*got an empty list/ }],
    ['a single secret not in a list', { subscribers: [webhook({ secrets: secret })] }, { path: 'subscribers[0].secrets', reason: /write it as a list/ }],
    ['a secret without whsec_', { subscribers: [webhook({ secrets: [secret.slice(6)] })] }, { path: 'subscribers[0].secrets[0]', reason: /does not start with 'whsec_'/ }],
    ['a secret that is not base64', { subscribers: [webhook({ secrets: ['whsec_not base64!'] })] }, { path: 'subscribers[0].secrets[0]', reason: /not padded base64/ }],
    ['a secret too short', { subscribers: [webhook({ secrets: [`whsec_${Buffer.alloc(16, 1).toString('base64')}`] })] }, { path: 'subscribers[0].secrets[0]', reason: /decodes to 16 bytes/ }],
    ['the same secret twice', { subscribers: [webhook({ secrets: [secret, secret] })] }, { path: 'subscribers[0].secrets', reason: /same secret twice/ }],
    ['a timeout of 0', { subscribers: [webhook({ timeoutMs: 0 })] }, { path: 'subscribers[0].timeoutMs', reason: /whole number from 1 to 300000, got 0/ }],
    ['maxAttempts as a string', { subscribers: [webhook({ maxAttempts: '3' })] }, { path: 'subscribers[0].maxAttempts', reason: /whole number from 1 to 100, got "3"/ }],
    ['a fractional concurrency', { subscribers: [webhook({ concurrency: 1.5 })] }, { path: 'subscribers[0].concurrency', reason: /whole number from 1 to 256, got 1.5/ }],
    ['backoff.maxMs below initialMs', { subscribers: [webhook({ backoff: { initialMs: 100, maxMs: 50 } })] }, { path: 'subscribers[0].backoff.maxMs', reason: /at least initialMs \(100\), got 50/ }],
    ['an unknown backoff field', { subscribers: [webhook({ backoff: { initial: 100 } })] }, { path: 'subscribers[0].backoff.initial', reason: /unknown field \(known: initialMs, maxMs\)/ }],
    ['an empty filter list', { subscribers: [webhook({ filter: { tiers: [] } })] }, { path: 'subscribers[0].filter.tiers', reason: /non-empty list of names \(leave it out to match all\)/ }],
    ['an unknown direction', { subscribers: [webhook({ filter: { directions: ['UP', 'up'] } })] }, { path: 'subscribers[0].filter.directions[1]', reason: /one of UP, DOWN, INITIAL, LATERAL, got "up"/ }],
    ['an unknown filter field', { subscribers: [webhook({ filter: { dimension: ['value'] } })] }, { path: 'subscribers[0].filter.dimension', reason: /unknown field \(known: dimensions, tiers, directions\)/ }],
    ['a duplicate id', { subscribers: [webhook(), { id: 'crm', type: 'log' }] }, { path: 'subscribers[1].id', reason: /'crm' is used by an earlier subscriber/ }],
  ])('reports %s with its path and reason', (_what, doc, expected) => {
    const problems = problemsOf(doc);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe(expected.path);
    expect(problems[0]?.reason).toMatch(expected.reason);
  });

  it('accepts the bare list as shorthand for {subscribers: [...]}', () => {
    expect(validateSubscribers([webhook(), { id: 'audit', type: 'log' }])).toEqual(validateSubscribers({ subscribers: [webhook(), { id: 'audit', type: 'log' }] }));
  });

  it('reports every problem at once and keeps no subscriber that has one', () => {
    const { subscribers, problems } = validateSubscribers({
      subscribers: [webhook({ timeoutMs: -1, url: 'ftp://x' }), { id: 'ok', type: 'log' }, { id: 'bad id', type: 'pager' }],
    });
    expect(problems.map((p) => p.path)).toEqual(['subscribers[0].url', 'subscribers[0].timeoutMs', 'subscribers[2].id', 'subscribers[2].type']);
    expect(subscribers.map((s) => s.id)).toEqual(['ok']);
  });

  it('never echoes a secret in a problem', () => {
    const bad = `whsec_${Buffer.alloc(8, 7).toString('base64')}`;
    const reasons = problemsOf({ subscribers: [webhook({ secrets: [bad, bad.slice(6), 'whsec_%%%'] })] }).map((p) => p.reason).join('\n');
    expect(reasons).not.toContain(bad.slice(6));
    expect(reasons).not.toContain('%%%');
  });
});

describe('secretProblem', () => {
  it('accepts whsec_ with base64 of 24 to 64 bytes', () => {
    for (const bytes of [24, 32, 64]) expect(secretProblem(`whsec_${Buffer.alloc(bytes, 3).toString('base64')}`)).toBeUndefined();
    expect(secretProblem(`whsec_${Buffer.alloc(65, 3).toString('base64')}`)).toMatch(/decodes to 65 bytes/);
  });
});

describe('parseSubscribersFile', () => {
  it('reads the documented example file', () => {
    const subscribers = readSubscribersFile(EXAMPLE);
    expect(subscribers.map((s) => `${s.id}:${s.type}`)).toEqual(['audit-log:log', 'crm:webhook', 'retention-bi:webhook']);
    expect(subscribers[1]).toMatchObject({ timeoutMs: 5000, maxAttempts: 6, concurrency: 8, filter: { dimensions: ['value'], tiers: ['gold', 'platinum'], directions: ['UP', 'DOWN'] } });
    expect(subscribers[1]?.type === 'webhook' && subscribers[1].secrets).toHaveLength(2);
  });

  it('reads JSON as well as YAML', () => {
    expect(parseSubscribersFile(JSON.stringify({ subscribers: [webhook()] }), 'subs.json')).toHaveLength(1);
  });

  it('names the file, the path in it and the reason of each problem, one per line', () => {
    const err = fileError(`subscribers:\n  - id: crm\n    type: webhook\n    url: ftp://x\n    secrets: [${secret}]\n  - id: crm\n    type: log\n`, 'conf/subs.yaml');
    expect(err.code).toBe('TS_ERR_SUBSCRIBERS_FILE');
    expect(err.message.split('\n')).toEqual(["conf/subs.yaml: subscribers[0].url: must use http or https, got 'ftp:'", "conf/subs.yaml: subscribers[1].id: 'crm' is used by an earlier subscriber"]);
    expect(err.context).toEqual({ file: 'conf/subs.yaml', paths: ['subscribers[0].url', 'subscribers[1].id'] });
    expect(err.retriable).toBe(false);
  });

  it('reports text that is not YAML with the file name', () => {
    const err = fileError('subscribers: [\n  - id: x', 'subs.yaml');
    expect(err.message).toMatch(/^subs\.yaml: not valid YAML or JSON: /);
  });

  it('reports a duplicate key (YAML would otherwise keep one silently)', () => {
    expect(fileError('subscribers: []\nsubscribers: []\n').message).toMatch(/not valid YAML or JSON/);
  });

  it('reports a file it cannot read, naming it', () => {
    const missing = path.join(os.tmpdir(), 'no-such-dir-tierstream', 'subs.yaml');
    const err = thrownBy(() => readSubscribersFile(missing), TierstreamError);
    expect(err.code).toBe('TS_ERR_SUBSCRIBERS_FILE');
    expect(err.message).toContain(`cannot read subscribers file ${missing}`);
  });

  it('names the file relative to the working directory', () => {
    const dir = fs.mkdtempSync(path.join(process.cwd(), '.tmp-subs-'));
    try {
      const file = path.join(dir, 'subs.yaml');
      fs.writeFileSync(file, 'subscribers: 3\n');
      expect(thrownBy(() => readSubscribersFile(file), TierstreamError).message).toBe(`${path.relative(process.cwd(), file)}: subscribers: must be a non-empty list, got 3`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
