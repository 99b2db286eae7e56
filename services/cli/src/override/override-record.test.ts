import path from 'node:path';
import { isTierstreamError, loadPolicyFile } from '@tierstream/runtime';
import { overrideRecord, parseUntil } from './override-record';

const policy = loadPolicyFile(path.resolve(__dirname, '..', '..', '..', '..', 'policies', 'default.yaml'));
const NOW = Date.UTC(2026, 10, 23, 10, 0, 0);

function codeAndMessage(fn: () => unknown): [string, string] {
  try {
    fn();
  } catch (err) {
    if (isTierstreamError(err)) return [err.code, err.message];
    throw err;
  }
  throw new Error('did not throw');
}

describe('tierctl override: the command record', () => {
  it('reads --until as a UTC date, an ISO date-time or a duration from now', () => {
    expect(parseUntil('2027-01-31', NOW)).toBe(Date.UTC(2027, 0, 31));
    expect(parseUntil('2027-01-31T12:30:00+08:00', NOW)).toBe(Date.UTC(2027, 0, 31, 4, 30));
    expect(parseUntil('+30d', NOW)).toBe(NOW + 30 * 86_400_000);
    expect(parseUntil('+15m', NOW)).toBe(NOW + 15 * 60_000);
    expect(codeAndMessage(() => parseUntil('next week', NOW))).toEqual(['TS_ERR_OVERRIDE_INVALID', expect.stringContaining("--until 'next week' is not a date")]);
  });

  it('builds an OVERRIDE record keyed by the customer, issued now, with the command as event id', () => {
    const r = overrideRecord({ action: 'SET', customerId: ' acme ', dimension: 'value', tier: 'vip', until: '2027-01-31', reason: 'strategic account', actor: 'alice' }, policy, NOW, 'override/1');
    expect(r).toMatchObject({ event_id: 'override/1', customer_id: 'acme', type: 'OVERRIDE', event_time: NOW, order: null });
    expect(r.override).toEqual({ action: 'SET', dimension: 'value', tier: 'vip', until: Date.UTC(2027, 0, 31), reason: 'strategic account', actor: 'alice' });
    const clear = overrideRecord({ action: 'CLEAR', customerId: 'acme', dimension: 'lifecycle', reason: 'deal lost', actor: 'bob' }, policy, NOW);
    expect(clear.override).toMatchObject({ action: 'CLEAR', tier: null, until: null });
    expect(clear.event_id).toMatch(/^override\/[0-9a-f-]{36}$/);
  });

  it.each([
    [{ dimension: 'loyalty', tier: 'gold' }, "unknown dimension 'loyalty' in policy default v2"],
    [{ dimension: 'value', tier: 'platinum' }, "unknown tier 'platinum' in value (one of vip, high, mid, low)"],
    [{ dimension: 'value', tier: 'vip', until: '2025-01-01' }, 'until must be later than the time the override is issued'],
    [{ dimension: 'value', tier: 'vip', reason: ' ' }, 'a reason is required'],
    [{ dimension: 'value', tier: 'vip', customerId: '  ' }, 'the customer id is empty'],
  ])('refuses %j before writing anything: %s', (change, message) => {
    const request = { action: 'SET' as const, customerId: 'acme', until: '+1d', reason: 'why', actor: 'alice', ...change };
    expect(codeAndMessage(() => overrideRecord(request, policy, NOW))).toEqual(['TS_ERR_OVERRIDE_INVALID', message]);
  });
});
