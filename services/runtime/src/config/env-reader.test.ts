import { thrownBy } from '../testing/thrown-by';
import { ConfigError, TierstreamError, type ConfigProblem } from '../errors';
import { EnvReader, type Env } from './env-reader';

const configErrorFrom = (fn: () => unknown): ConfigError => thrownBy(fn, ConfigError);

/** Reads with a fresh reader over `env` and returns the value and the problems `done()` reports. */
function read<T>(env: Env, fn: (r: EnvReader) => T): { value: T; problems: readonly ConfigProblem[] } {
  const reader = new EnvReader(env);
  const value = fn(reader);
  try {
    reader.done();
    return { value, problems: [] };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { value, problems: err.problems };
  }
}

const BLANKS = ['', '   ', '\t\n'];

describe('EnvReader.string', () => {
  it('returns the value, trimmed', () => {
    expect(read({ A: '  hello  ' }, (r) => r.string('A'))).toEqual({ value: 'hello', problems: [] });
  });

  it('uses the fallback when the variable is absent', () => {
    expect(read({}, (r) => r.string('A', 'dflt'))).toEqual({ value: 'dflt', problems: [] });
  });

  it.each(BLANKS)('treats the blank value %j as unset and uses the fallback', (blank) => {
    expect(read({ A: blank }, (r) => r.string('A', 'dflt'))).toEqual({ value: 'dflt', problems: [] });
  });

  it('reports a required variable that is absent', () => {
    expect(read({}, (r) => r.string('A'))).toEqual({ value: '', problems: [{ variable: 'A', reason: 'is required but not set' }] });
  });

  it.each(BLANKS)('reports a required variable set to the blank %j', (blank) => {
    expect(read({ A: blank }, (r) => r.string('A')).problems).toEqual([{ variable: 'A', reason: 'is required but not set' }]);
  });
});

describe('EnvReader.optionalString', () => {
  it('returns the trimmed value when set', () => {
    expect(read({ A: ' x ' }, (r) => r.optionalString('A'))).toEqual({ value: 'x', problems: [] });
  });

  it.each([undefined, ...BLANKS])('returns undefined without a problem for %j', (raw) => {
    const env: Env = raw === undefined ? {} : { A: raw };
    expect(read(env, (r) => r.optionalString('A'))).toEqual({ value: undefined, problems: [] });
  });
});

describe('EnvReader.integer', () => {
  it.each([
    ['42', 42],
    [' 42 ', 42],
    ['-7', -7],
    ['0', 0],
  ])('parses %j as %d', (raw, expected) => {
    expect(read({ N: raw }, (r) => r.integer('N', 1))).toEqual({ value: expected, problems: [] });
  });

  it.each([undefined, ...BLANKS])('uses the fallback for %j', (raw) => {
    const env: Env = raw === undefined ? {} : { N: raw };
    expect(read(env, (r) => r.integer('N', 5))).toEqual({ value: 5, problems: [] });
  });

  it.each(['abc', '1.5', '1e3', '0x10', '12abc', '+', '9007199254740993'])('rejects %j as not a whole number and returns the fallback', (raw) => {
    const { value, problems } = read({ N: raw }, (r) => r.integer('N', 5));
    expect(value).toBe(5);
    expect(problems).toEqual([{ variable: 'N', reason: `must be a whole number, got '${raw}'` }]);
  });

  it('accepts both ends of the range', () => {
    expect(read({ LO: '1', HI: '10' }, (r) => [r.integer('LO', 5, { min: 1, max: 10 }), r.integer('HI', 5, { min: 1, max: 10 })])).toEqual({
      value: [1, 10],
      problems: [],
    });
  });

  it.each([
    ['0', 'must be between 1 and 10, got 0'],
    ['11', 'must be between 1 and 10, got 11'],
  ])('rejects %j outside [1, 10] and returns the fallback', (raw, reason) => {
    expect(read({ N: raw }, (r) => r.integer('N', 5, { min: 1, max: 10 }))).toEqual({ value: 5, problems: [{ variable: 'N', reason }] });
  });

  it('applies a range with only a minimum or only a maximum', () => {
    expect(read({ N: '-1' }, (r) => r.integer('N', 3, { min: 0 })).problems).toEqual([
      { variable: 'N', reason: `must be between 0 and ${Number.MAX_SAFE_INTEGER}, got -1` },
    ]);
    expect(read({ N: '101' }, (r) => r.integer('N', 3, { max: 100 })).problems).toEqual([
      { variable: 'N', reason: `must be between ${Number.MIN_SAFE_INTEGER} and 100, got 101` },
    ]);
  });

  it('does not check the fallback against the range', () => {
    expect(read({}, (r) => r.integer('N', 0, { min: 1 }))).toEqual({ value: 0, problems: [] });
  });
});

describe('EnvReader.port', () => {
  it.each([
    ['1', 1],
    ['8080', 8080],
    ['65535', 65535],
  ])('accepts %j', (raw, expected) => {
    expect(read({ P: raw }, (r) => r.port('P', 9000))).toEqual({ value: expected, problems: [] });
  });

  it.each(['0', '65536', '-80'])('rejects %j as outside 1..65535', (raw) => {
    expect(read({ P: raw }, (r) => r.port('P', 9000))).toEqual({
      value: 9000,
      problems: [{ variable: 'P', reason: `must be between 1 and 65535, got ${Number(raw)}` }],
    });
  });

  it('rejects a port that is not a number', () => {
    expect(read({ P: 'http' }, (r) => r.port('P', 9000)).problems).toEqual([{ variable: 'P', reason: "must be a whole number, got 'http'" }]);
  });

  it.each([undefined, ...BLANKS])('uses the fallback for %j', (raw) => {
    const env: Env = raw === undefined ? {} : { P: raw };
    expect(read(env, (r) => r.port('P', 9000))).toEqual({ value: 9000, problems: [] });
  });
});

describe('EnvReader.url', () => {
  it.each([
    ['redis://localhost:6379', ['redis', 'rediss']],
    ['rediss://cache.example:6380/2', ['redis', 'rediss']],
    ['http://registry:8081/apis/ccompat/v7', ['http', 'https']],
    ['https://registry.example', ['http', 'https']],
  ])('accepts %j for %j', (raw, protocols) => {
    expect(read({ U: raw }, (r) => r.url('U', protocols))).toEqual({ value: raw, problems: [] });
  });

  it('rejects a URL with another protocol, naming the allowed ones and the one given', () => {
    expect(read({ U: 'http://x' }, (r) => r.url('U', ['redis', 'rediss'])).problems).toEqual([
      { variable: 'U', reason: "must use redis or rediss, got 'http:'" },
    ]);
  });

  it('rejects a value that is not a URL', () => {
    expect(read({ U: 'localhost 6379' }, (r) => r.url('U', ['redis']))).toEqual({
      value: 'localhost 6379',
      problems: [{ variable: 'U', reason: "must be a URL (redis), got 'localhost 6379'" }],
    });
  });

  it('uses the fallback when unset, and checks it like a value', () => {
    expect(read({}, (r) => r.url('U', ['http'], 'http://fallback'))).toEqual({ value: 'http://fallback', problems: [] });
    expect(read({ U: '  ' }, (r) => r.url('U', ['http'], 'http://fallback'))).toEqual({ value: 'http://fallback', problems: [] });
    expect(read({}, (r) => r.url('U', ['redis'], 'http://fallback')).problems).toEqual([{ variable: 'U', reason: "must use redis, got 'http:'" }]);
  });

  it.each([undefined, ...BLANKS])('reports a required URL given as %j', (raw) => {
    const env: Env = raw === undefined ? {} : { U: raw };
    expect(read(env, (r) => r.url('U', ['redis']))).toEqual({ value: '', problems: [{ variable: 'U', reason: 'is required but not set' }] });
  });
});

describe('EnvReader.hostPorts', () => {
  it('splits a comma-separated list and trims each entry', () => {
    expect(read({ B: ' kafka-1:9092 , kafka-2:9093,' }, (r) => r.hostPorts('B'))).toEqual({ value: ['kafka-1:9092', 'kafka-2:9093'], problems: [] });
  });

  it('accepts a single host:port', () => {
    expect(read({ B: '127.0.0.1:19092' }, (r) => r.hostPorts('B'))).toEqual({ value: ['127.0.0.1:19092'], problems: [] });
  });

  it.each(['kafka', 'kafka:', ':9092', 'kafka:port', 'a:1,b', ',', 'http://kafka:9092'])('rejects %j', (raw) => {
    expect(read({ B: raw }, (r) => r.hostPorts('B')).problems).toEqual([
      { variable: 'B', reason: `must be a comma-separated list of host:port, got '${raw}'` },
    ]);
  });

  it('uses the fallback when unset', () => {
    expect(read({ B: ' ' }, (r) => r.hostPorts('B', 'localhost:9092'))).toEqual({ value: ['localhost:9092'], problems: [] });
  });

  it.each([undefined, ...BLANKS])('reports a required list given as %j', (raw) => {
    const env: Env = raw === undefined ? {} : { B: raw };
    expect(read(env, (r) => r.hostPorts('B'))).toEqual({ value: [], problems: [{ variable: 'B', reason: 'is required but not set' }] });
  });
});

describe('EnvReader.oneOf', () => {
  const LEVELS = ['info', 'debug'] as const;

  it('returns an allowed value', () => {
    expect(read({ L: ' debug ' }, (r) => r.oneOf('L', LEVELS, 'info'))).toEqual({ value: 'debug', problems: [] });
  });

  it.each([undefined, ...BLANKS])('uses the fallback for %j', (raw) => {
    const env: Env = raw === undefined ? {} : { L: raw };
    expect(read(env, (r) => r.oneOf('L', LEVELS, 'info'))).toEqual({ value: 'info', problems: [] });
  });

  it.each(['loud', 'DEBUG'])('rejects %j (case matters), listing the allowed values', (raw) => {
    expect(read({ L: raw }, (r) => r.oneOf('L', LEVELS, 'info'))).toEqual({
      value: 'info',
      problems: [{ variable: 'L', reason: `must be one of info, debug, got '${raw}'` }],
    });
  });
});

describe('EnvReader.boolean', () => {
  it.each(['1', 'true', 'yes', 'TRUE', 'Yes', ' true '])('reads %j as true', (raw) => {
    expect(read({ F: raw }, (r) => r.boolean('F', false))).toEqual({ value: true, problems: [] });
  });

  it.each(['0', 'false', 'no', 'FALSE', 'No'])('reads %j as false', (raw) => {
    expect(read({ F: raw }, (r) => r.boolean('F', true))).toEqual({ value: false, problems: [] });
  });

  it.each([undefined, ...BLANKS])('uses the fallback for %j', (raw) => {
    const env: Env = raw === undefined ? {} : { F: raw };
    expect(read(env, (r) => r.boolean('F', true))).toEqual({ value: true, problems: [] });
    expect(read(env, (r) => r.boolean('F', false))).toEqual({ value: false, problems: [] });
  });

  it.each(['maybe', 'on', '2'])('rejects %j and returns the fallback', (raw) => {
    expect(read({ F: raw }, (r) => r.boolean('F', true))).toEqual({ value: true, problems: [{ variable: 'F', reason: `must be true or false, got '${raw}'` }] });
  });
});

describe('EnvReader.done', () => {
  it('does not throw when every variable is fine', () => {
    const reader = new EnvReader({ PORT: '80', NAME: 'x' });
    reader.port('PORT', 1);
    reader.string('NAME');
    expect(() => reader.done()).not.toThrow();
  });

  it('throws one ConfigError naming every bad variable at once, in the order read', () => {
    const reader = new EnvReader({
      NAME: '  ',
      COUNT: 'many',
      PORT: '70000',
      REDIS: 'http://x',
      BROKERS: 'kafka',
      LEVEL: 'loud',
      FLAG: 'maybe',
      GOOD: '3',
    });
    reader.string('NAME');
    reader.integer('COUNT', 1);
    reader.port('PORT', 8080);
    reader.url('REDIS', ['redis', 'rediss']);
    reader.hostPorts('BROKERS');
    reader.oneOf('LEVEL', ['info', 'warn'], 'info');
    reader.boolean('FLAG', false);
    reader.integer('GOOD', 1);

    const err = configErrorFrom(() => reader.done());
    const expected = [
      { variable: 'NAME', reason: 'is required but not set' },
      { variable: 'COUNT', reason: "must be a whole number, got 'many'" },
      { variable: 'PORT', reason: 'must be between 1 and 65535, got 70000' },
      { variable: 'REDIS', reason: "must use redis or rediss, got 'http:'" },
      { variable: 'BROKERS', reason: "must be a comma-separated list of host:port, got 'kafka'" },
      { variable: 'LEVEL', reason: "must be one of info, warn, got 'loud'" },
      { variable: 'FLAG', reason: "must be true or false, got 'maybe'" },
    ];
    expect(err.problems).toEqual(expected);
    for (const { variable, reason } of expected) expect(err.message).toContain(`${variable}: ${reason}`);
    expect(err.message).not.toContain('GOOD');
    expect(err).toBeInstanceOf(TierstreamError);
    expect(err.code).toBe('TS_ERR_CONFIG');
    expect(err.retriable).toBe(false);
    expect(err.context).toEqual({ variables: expected.map((p) => p.variable) });
  });

  it('reports a problem once per read, not once per done()', () => {
    const reader = new EnvReader({ PORT: 'x' });
    reader.port('PORT', 1);
    expect(configErrorFrom(() => reader.done()).problems).toHaveLength(1);
    expect(configErrorFrom(() => reader.done()).problems).toHaveLength(1);
  });

  it('keeps readers independent', () => {
    const env: Env = { PORT: 'x' };
    const bad = new EnvReader(env);
    bad.port('PORT', 1);
    const other = new EnvReader(env);
    other.string('UNRELATED', 'ok');
    expect(() => other.done()).not.toThrow();
    expect(() => bad.done()).toThrow(ConfigError);
  });

  it('does not let a caller change the problems of a thrown error by reading on', () => {
    const reader = new EnvReader({ A: 'x' });
    reader.port('A', 1);
    const err = configErrorFrom(() => reader.done());
    reader.port('A', 1);
    expect(err.problems).toHaveLength(1);
  });
});
