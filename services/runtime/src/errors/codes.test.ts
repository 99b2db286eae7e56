import fs from 'node:fs';
import path from 'node:path';
import { ErrorCodes, type ErrorCode } from './codes';
import { ConfigError } from './config-error';
import { TierstreamError, isTierstreamError } from './tierstream-error';

// services/runtime/src/errors -> repository root
const ERRORS_DOC = path.resolve(__dirname, '..', '..', '..', '..', 'docs', 'errors.md');

const codes = Object.keys(ErrorCodes);
const isErrorCode = (s: string): s is ErrorCode => Object.prototype.hasOwnProperty.call(ErrorCodes, s);

/** The text of docs/errors.md split into `## HEADING` sections. */
function docSections(): Map<string, string> {
  const text = fs.readFileSync(ERRORS_DOC, 'utf8');
  const sections = new Map<string, string>();
  const parts = text.split(/^## /m).slice(1);
  for (const part of parts) {
    const newline = part.indexOf('\n');
    const heading = (newline === -1 ? part : part.slice(0, newline)).trim();
    if (sections.has(heading)) throw new Error(`docs/errors.md has the heading '## ${heading}' twice`);
    sections.set(heading, newline === -1 ? '' : part.slice(newline + 1));
  }
  return sections;
}

describe('ErrorCodes', () => {
  it('has codes', () => {
    expect(codes.length).toBeGreaterThan(0);
  });

  it.each(codes)('%s is named TS_ERR_<UPPER_SNAKE>', (code) => {
    expect(code).toMatch(/^TS_ERR_[A-Z_]+$/);
  });

  it('has unique codes and a distinct meaning for each', () => {
    expect(new Set(codes).size).toBe(codes.length);
    const meanings = Object.values(ErrorCodes).map((m) => m.trim().toLowerCase());
    expect(new Set(meanings).size).toBe(meanings.length);
  });

  it.each(Object.entries(ErrorCodes))('%s has a non-empty meaning', (_code, meaning) => {
    expect(typeof meaning).toBe('string');
    expect(meaning.trim().length).toBeGreaterThan(0);
  });
});

describe('docs/errors.md', () => {
  const sections = docSections();
  const documented = [...sections.keys()];

  it('opens with a paragraph before the first code', () => {
    const intro = fs.readFileSync(ERRORS_DOC, 'utf8').split(/^## /m)[0] ?? '';
    expect(intro).toMatch(/stable/i);
    expect(intro).toMatch(/DLQ/);
    expect(intro).toMatch(/tierctl/);
  });

  it.each(codes)('has a "## %s" heading', (code) => {
    expect(documented).toContain(code);
  });

  it('has no heading for a code that does not exist', () => {
    const stale = documented.filter((heading) => !codes.includes(heading));
    expect(stale).toEqual([]);
  });

  it.each(codes)('documents the meaning, when it is raised, whether it is retriable and what to do for %s', (code) => {
    if (!isErrorCode(code)) throw new Error(`${code} is not an ErrorCode`);
    const body = sections.get(code) ?? '';
    expect(body).toContain(`**Meaning:** ${ErrorCodes[code]}`);
    expect(body).toMatch(/\*\*Raised when:\*\* \S/);
    expect(body).toMatch(/\*\*Retriable:\*\* (yes|no)\b/);
    expect(body).toMatch(/\*\*What to do:\*\* \S/);
  });
});

describe('TierstreamError', () => {
  it('carries code, message, retriable, cause and context', () => {
    const cause = new Error('ECONNREFUSED');
    const err = new TierstreamError('TS_ERR_SCHEMA_REGISTRY', 'registering failed', {
      retriable: true,
      cause,
      context: { subject: 'customer.events.v1-value', status: 503 },
    });
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('TS_ERR_SCHEMA_REGISTRY');
    expect(err.message).toBe('registering failed');
    expect(err.retriable).toBe(true);
    expect(err.cause).toBe(cause);
    expect(err.context).toEqual({ subject: 'customer.events.v1-value', status: 503 });
    expect(err.name).toBe('TierstreamError');
  });

  it('is not retriable, has no cause and an empty context by default', () => {
    const err = new TierstreamError('TS_ERR_TOPICS_FILE', 'bad file');
    expect(err.retriable).toBe(false);
    expect(err.cause).toBeUndefined();
    expect('cause' in err).toBe(false);
    expect(err.context).toEqual({});
  });

  it('keeps retriable: false when given explicitly', () => {
    expect(new TierstreamError('TS_ERR_SCHEMA_REGISTRY', 'x', { retriable: false }).retriable).toBe(false);
  });

  it('keeps a cause that is not an Error', () => {
    expect(new TierstreamError('TS_ERR_SCHEMA_FILE', 'x', { cause: 'raw' }).cause).toBe('raw');
  });

  it('only accepts known codes', () => {
    // @ts-expect-error an unknown code must not compile
    const err = new TierstreamError('TS_ERR_NOT_A_CODE', 'x');
    expect(codes).not.toContain(err.code);
  });

  it('is recognised by isTierstreamError, plain errors and other values are not', () => {
    expect(isTierstreamError(new TierstreamError('TS_ERR_CONFIG', 'x'))).toBe(true);
    expect(isTierstreamError(new ConfigError([]))).toBe(true);
    expect(isTierstreamError(new Error('x'))).toBe(false);
    expect(isTierstreamError({ code: 'TS_ERR_CONFIG', retriable: false })).toBe(false);
    expect(isTierstreamError(undefined)).toBe(false);
  });
});

describe('ConfigError', () => {
  const problems = [
    { variable: 'HTTP_PORT', reason: "must be a whole number, got 'abc'" },
    { variable: 'REDIS_URL', reason: 'is required but not set' },
  ];

  it('is a non-retriable TS_ERR_CONFIG whose name is its subclass name', () => {
    const err = new ConfigError(problems);
    expect(err).toBeInstanceOf(TierstreamError);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.name).toBe('ConfigError');
    expect(err.code).toBe('TS_ERR_CONFIG');
    expect(err.retriable).toBe(false);
    expect(err.cause).toBeUndefined();
  });

  it('names every variable and reason in its problems, message and context', () => {
    const err = new ConfigError(problems);
    expect(err.problems).toEqual(problems);
    expect(err.message).toBe("invalid configuration:\n  HTTP_PORT: must be a whole number, got 'abc'\n  REDIS_URL: is required but not set");
    expect(err.context).toEqual({ variables: ['HTTP_PORT', 'REDIS_URL'] });
  });

  it('shows its subclass name in its string form and stack', () => {
    const err = new ConfigError(problems);
    expect(String(err)).toMatch(/^ConfigError: invalid configuration/);
    expect(err.stack).toMatch(/^ConfigError: invalid configuration/);
  });
});
