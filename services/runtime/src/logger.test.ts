import { ConfigError, TierstreamError } from './errors';
import { createLogger, type Logger } from './logger';

type Line = Record<string, unknown>;

const isRecord = (v: unknown): v is Line => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A logger writing into an array of parsed JSON lines. */
function collectingLogger(level = 'trace'): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const destination = {
    write(s: string): void {
      for (const text of s.split('\n').filter((t) => t.length > 0)) {
        const parsed: unknown = JSON.parse(text);
        if (!isRecord(parsed)) throw new Error(`log line is not a JSON object: ${text}`);
        lines.push(parsed);
      }
    },
  };
  return { logger: createLogger({ name: 'scoring', level, destination }), lines };
}

function only(lines: readonly Line[]): Line {
  expect(lines).toHaveLength(1);
  const [line] = lines;
  if (line === undefined) throw new Error('no log line written');
  return line;
}

function field(obj: unknown, ...path: string[]): unknown {
  let at: unknown = obj;
  for (const key of path) {
    if (!isRecord(at)) return undefined;
    at = at[key];
  }
  return at;
}

describe('createLogger', () => {
  it('writes JSON lines with the logger name, level, message and pid', () => {
    const { logger, lines } = collectingLogger();
    logger.info({ topic: 'customer.events.v1', partition: 3 }, 'batch done');
    expect(only(lines)).toMatchObject({ name: 'scoring', level: 30, msg: 'batch done', pid: process.pid, topic: 'customer.events.v1', partition: 3 });
  });

  it('honours the level it is given', () => {
    const { logger, lines } = collectingLogger('warn');
    logger.info('dropped');
    logger.warn('kept');
    expect(only(lines)).toMatchObject({ msg: 'kept' });
  });

  it('redacts top-level email, phone and full_name', () => {
    const { logger, lines } = collectingLogger();
    logger.info({ email: 'ann@example.com', phone: '+44 20 7946 0000', full_name: 'Ann Example', customer_id: 'c-1' }, 'event');
    const line = only(lines);
    expect(line).toMatchObject({ email: '[redacted]', phone: '[redacted]', full_name: '[redacted]', customer_id: 'c-1' });
    expect(JSON.stringify(line)).not.toMatch(/ann@example\.com|7946|Ann Example/);
  });

  it('redacts email, phone and name one and two levels down, keeping the other fields', () => {
    const { logger, lines } = collectingLogger();
    logger.info(
      {
        customer: { id: 'c-1', name: 'Ann Example', email: 'ann@example.com', phone: '555-0100', tier: 'gold' },
        event: { customer: { id: 'c-2', name: 'Bob Example', email: 'bob@example.com', phone: '555-0199', full_name: 'Robert Example' } },
      },
      'scored',
    );
    const line = only(lines);
    expect(field(line, 'customer')).toEqual({ id: 'c-1', name: '[redacted]', email: '[redacted]', phone: '[redacted]', tier: 'gold' });
    expect(field(line, 'event', 'customer')).toEqual({ id: 'c-2', name: '[redacted]', email: '[redacted]', phone: '[redacted]', full_name: '[redacted]' });
    expect(JSON.stringify(line)).not.toMatch(/Ann Example|Bob Example|Robert|@example\.com|555-01/);
  });

  it("keeps the logger's own top-level name, also in child loggers", () => {
    const { logger, lines } = collectingLogger();
    logger.child({ component: 'consumer' }).info({ customer: { name: 'Ann' } }, 'hello');
    const line = only(lines);
    expect(line['name']).toBe('scoring');
    expect(line['component']).toBe('consumer');
    expect(field(line, 'customer', 'name')).toBe('[redacted]');
  });

  it('does not change the object that was logged', () => {
    const { logger } = collectingLogger();
    const customer = { name: 'Ann', email: 'ann@example.com' };
    logger.info({ customer }, 'x');
    expect(customer).toEqual({ name: 'Ann', email: 'ann@example.com' });
  });

  it('serialises err with its type, message and stack', () => {
    const { logger, lines } = collectingLogger();
    const err = new Error('redis went away');
    logger.error({ err }, 'batch failed');
    const logged = only(lines)['err'];
    expect(logged).toMatchObject({ type: 'Error', message: 'redis went away' });
    const stack = field(logged, 'stack');
    if (typeof stack !== 'string') throw new Error('err.stack was not logged as a string');
    expect(stack).toContain('redis went away');
    expect(stack).toContain('logger.test.ts');
  });

  it("serialises a TierstreamError's code, retriable flag, context and cause", () => {
    const { logger, lines } = collectingLogger();
    const cause = new Error('ECONNREFUSED');
    const err = new TierstreamError('TS_ERR_SCHEMA_REGISTRY', 'customer.events.v1-value: registering failed', {
      retriable: true,
      cause,
      context: { subject: 'customer.events.v1-value' },
    });
    logger.error({ err }, 'register failed');
    const logged = only(lines)['err'];
    expect(logged).toMatchObject({
      type: 'TierstreamError',
      code: 'TS_ERR_SCHEMA_REGISTRY',
      retriable: true,
      context: { subject: 'customer.events.v1-value' },
    });
    expect(field(logged, 'message')).toEqual(expect.stringContaining('registering failed'));
    expect(field(logged, 'message')).toEqual(expect.stringContaining('ECONNREFUSED'));
    expect(field(logged, 'stack')).toEqual(expect.stringContaining('ECONNREFUSED'));
  });

  it('serialises the problems of a ConfigError', () => {
    const { logger, lines } = collectingLogger();
    logger.fatal({ err: new ConfigError([{ variable: 'REDIS_URL', reason: 'is required but not set' }]) }, 'bad configuration');
    expect(only(lines)['err']).toMatchObject({
      type: 'ConfigError',
      code: 'TS_ERR_CONFIG',
      problems: [{ variable: 'REDIS_URL', reason: 'is required but not set' }],
    });
  });
});
