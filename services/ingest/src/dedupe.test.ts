import { classifyRecordClaim, classifyRequestClaim, doneMarker, pendingMarker, recordMarker } from './dedupe';

describe('dedupe markers', () => {
  const own = recordMarker('ns.customer.events.raw', 2, '41');

  it('names a raw record by topic, partition and offset', () => {
    expect(own).toBe('ns.customer.events.raw:2:41');
    expect(pendingMarker('t-1')).toBe('pending:t-1');
    expect(doneMarker('t-1')).toBe('done:t-1');
  });

  it.each([
    ['no marker', null, 'new'],
    ["the record's own coordinates (an uncommitted earlier attempt)", 'ns.customer.events.raw:2:41', 'replay'],
    ['another offset of the same partition', 'ns.customer.events.raw:2:40', 'duplicate'],
    ['the same offset of another partition', 'ns.customer.events.raw:3:41', 'duplicate'],
    ['a finished HTTP request', 'done:t-1', 'duplicate'],
    ['an HTTP request in flight', 'pending:t-1', 'pending'],
  ])('a raw record finding %s classifies as %s', (_what, previous, claim) => {
    expect(classifyRecordClaim(previous, own)).toBe(claim);
  });

  it.each([
    ['no marker', null, 'new'],
    ['a raw record', 'ns.customer.events.raw:2:41', 'duplicate'],
    ['a finished request', 'done:t-1', 'duplicate'],
    ['a request in flight', 'pending:t-1', 'in_flight'],
  ])('an HTTP request finding %s classifies as %s', (_what, previous, claim) => {
    expect(classifyRequestClaim(previous)).toBe(claim);
  });
});
