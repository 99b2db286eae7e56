import { classifyStatus, describeUrl, parseRetryAfter, statusLabel } from './webhook-attempt';

describe('classifyStatus', () => {
  it.each([200, 201, 202, 204, 299])('delivers on %d', (status) => expect(classifyStatus(status)).toBe('delivered'));
  it.each([408, 429, 500, 502, 503, 504, 599])('retries %d', (status) => expect(classifyStatus(status)).toBe('retry'));
  it.each([301, 302, 307, 308, 400, 401, 403, 404, 410, 413, 422])('refuses %d for good (no retry)', (status) => expect(classifyStatus(status)).toBe('rejected'));
});

describe('statusLabel', () => {
  it('labels by status class', () => {
    expect([204, 302, 404, 503].map(statusLabel)).toEqual(['2xx', '3xx', '4xx', '5xx']);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 2, 1, 12, 0, 0);
  it('reads delta-seconds', () => expect(parseRetryAfter(' 7 ', now)).toBe(7000));
  it('reads an HTTP date as the time left until it', () => expect(parseRetryAfter('Sun, 01 Mar 2026 12:00:30 GMT', now)).toBe(30_000));
  it('reads a date in the past as 0', () => expect(parseRetryAfter('Sun, 01 Mar 2026 11:00:00 GMT', now)).toBe(0));
  it.each([null, '', 'soon', '-5'])('ignores %j', (value) => expect(parseRetryAfter(value, now)).toBeUndefined());
});

describe('describeUrl', () => {
  it('drops credentials and the query string, which may hold tokens', () => {
    expect(describeUrl('https://user:pass@hooks.example:8443/tier?token=abc#x')).toBe('https://hooks.example:8443/tier');
  });
});
