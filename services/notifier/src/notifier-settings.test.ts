import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, TierstreamError } from '@tierstream/runtime';
import { thrownBy } from '../../runtime/src/testing/thrown-by';
import { notifierSettingsFromEnv } from './notifier-settings';
import { newSecret } from './testing/fixtures';

const secret = newSecret();
const inline = JSON.stringify({ subscribers: [{ id: 'crm', type: 'webhook', url: 'http://127.0.0.1:9/hook', secrets: [secret] }] });
const configError = (env: Record<string, string>): ConfigError => thrownBy(() => notifierSettingsFromEnv(env), ConfigError);

describe('notifierSettingsFromEnv', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'notifier-settings-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads inline subscribers with the defaults of the other variables', () => {
    const settings = notifierSettingsFromEnv({ NOTIFIER_SUBSCRIBERS: inline });
    expect(settings.subscribers.map((s) => s.id)).toEqual(['crm']);
    expect(settings).toMatchObject({ subscribersSource: 'NOTIFIER_SUBSCRIBERS', deliveryMemoryMs: 168 * 3_600_000, partitionConcurrency: 4, startFrom: 'earliest' });
  });

  it('reads a subscribers file, relative paths against the given directory', () => {
    fs.writeFileSync(path.join(dir, 'subs.yaml'), `subscribers:\n  - id: audit\n    type: log\n`);
    const settings = notifierSettingsFromEnv({ NOTIFIER_SUBSCRIBERS_FILE: 'subs.yaml', NOTIFIER_DELIVERY_MEMORY_HOURS: '2', NOTIFIER_START_FROM: 'latest' }, dir);
    expect(settings).toMatchObject({ subscribers: [{ id: 'audit', type: 'log' }], subscribersSource: 'subs.yaml', deliveryMemoryMs: 7_200_000, startFrom: 'latest' });
  });

  it('requires subscribers, naming NOTIFIER_SUBSCRIBERS_FILE and the inline alternative', () => {
    expect(configError({}).problems).toEqual([
      { variable: 'NOTIFIER_SUBSCRIBERS_FILE', reason: 'is required but not set (or give the subscribers inline as JSON in NOTIFIER_SUBSCRIBERS)' },
    ]);
  });

  it('refuses both a file and inline subscribers', () => {
    expect(configError({ NOTIFIER_SUBSCRIBERS_FILE: 'x.yaml', NOTIFIER_SUBSCRIBERS: inline }).problems.map((p) => p.variable)).toEqual(['NOTIFIER_SUBSCRIBERS']);
  });

  it('reports inline subscribers that are not JSON, naming the variable', () => {
    const [problem] = configError({ NOTIFIER_SUBSCRIBERS: 'subscribers: []' }).problems;
    expect(problem?.variable).toBe('NOTIFIER_SUBSCRIBERS');
    expect(problem?.reason).toMatch(/^must be JSON like \{"subscribers":\[\.\.\.\]\} or \[\.\.\.\]: /);
  });

  it('reports each problem of inline subscribers as the variable plus the path in the document', () => {
    const err = configError({ NOTIFIER_SUBSCRIBERS: JSON.stringify({ subscribers: [{ id: 'a', type: 'webhook', url: 'ftp://x', secrets: ['nope'] }] }) });
    expect(err.code).toBe('TS_ERR_CONFIG');
    expect(err.problems).toEqual([
      { variable: 'NOTIFIER_SUBSCRIBERS', reason: "subscribers[0].url: must use http or https, got 'ftp:'" },
      { variable: 'NOTIFIER_SUBSCRIBERS', reason: expect.stringMatching(/^subscribers\[0\]\.secrets\[0\]: must be 'whsec_'/) },
    ]);
    expect(err.message).toContain("NOTIFIER_SUBSCRIBERS: subscribers[0].url: must use http or https, got 'ftp:'");
  });

  it('reports bad values of the other variables together with subscriber problems', () => {
    const err = configError({ NOTIFIER_DELIVERY_MEMORY_HOURS: '0', NOTIFIER_PARTITION_CONCURRENCY: 'many', NOTIFIER_START_FROM: 'now' });
    expect(err.problems.map((p) => p.variable)).toEqual(['NOTIFIER_DELIVERY_MEMORY_HOURS', 'NOTIFIER_PARTITION_CONCURRENCY', 'NOTIFIER_START_FROM', 'NOTIFIER_SUBSCRIBERS_FILE']);
    expect(err.message).toContain("NOTIFIER_START_FROM: must be one of earliest, latest, got 'now'");
  });

  it('reports a bad subscribers file as TS_ERR_SUBSCRIBERS_FILE naming the file', () => {
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'subscribers:\n  - id: x\n    type: sms\n');
    const err = thrownBy(() => notifierSettingsFromEnv({ NOTIFIER_SUBSCRIBERS_FILE: path.join(dir, 'bad.yaml') }), TierstreamError);
    expect(err.code).toBe('TS_ERR_SUBSCRIBERS_FILE');
    expect(err.message).toContain('bad.yaml: subscribers[0].type: must be one of log, webhook, got "sms"');
  });

  it('reports a missing subscribers file as TS_ERR_SUBSCRIBERS_FILE', () => {
    const err = thrownBy(() => notifierSettingsFromEnv({ NOTIFIER_SUBSCRIBERS_FILE: 'missing.yaml' }, dir), TierstreamError);
    expect(err.code).toBe('TS_ERR_SUBSCRIBERS_FILE');
    expect(err.message).toContain(`cannot read subscribers file ${path.join(dir, 'missing.yaml')}`);
  });
});
