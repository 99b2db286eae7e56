import {
  bucketAge,
  bucketOf,
  classifyRecordClaim,
  classifyRequestClaim,
  decodeSeen,
  doneMarker,
  encodeSeen,
  ENTRY_BYTES,
  eventDigest,
  horizonBuckets,
  isExpired,
  pendingMarker,
  pruneSeen,
  recordMarker,
  type SeenEntry,
  type SeenSet,
} from './dedupe';

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

describe('the packed dedupe set', () => {
  const HOUR = 3_600_000;
  const entry = (bucket: number, id: string): SeenEntry => ({ bucket, digest: eventDigest(id) });

  it('digests an event id to 16 bytes, the same every time, different for another id', () => {
    const long = 'x'.repeat(256); // the longest event_id validation lets through
    expect(eventDigest('e-1')).toHaveLength(16);
    expect(eventDigest(long)).toHaveLength(16);
    expect(eventDigest('e-1').equals(eventDigest('e-1'))).toBe(true);
    expect(eventDigest('e-1').equals(eventDigest('e-2'))).toBe(false);
    expect(eventDigest('é').equals(eventDigest('e\u0301'))).toBe(false); // bytes as sent, no normalisation
  });

  it('buckets time by the hour, wrapping at 2^16, and measures ages across the wrap', () => {
    expect(bucketOf(0, HOUR)).toBe(0);
    expect(bucketOf(HOUR * 65_537 + 5, HOUR)).toBe(1);
    expect(bucketAge(3, 65_534)).toBe(5);
    expect(bucketAge(10, 10)).toBe(0);
    expect(horizonBuckets(168 * HOUR, HOUR)).toBe(168);
    expect(horizonBuckets(90 * 60_000, HOUR)).toBe(2);
  });

  it('expires an entry only once it is older than the horizon, never one ahead of the clock', () => {
    expect(isExpired(168, 168)).toBe(false);
    expect(isExpired(169, 168)).toBe(true);
    expect(isExpired(65_535, 168)).toBe(false); // one bucket ahead (a clock stepped back)
    expect(isExpired(32_767, 168)).toBe(true);
  });

  it('prunes the expired prefix and keeps everything from the first live entry on', () => {
    const entries = [entry(100, 'a'), entry(101, 'b'), entry(102, 'c'), entry(100, 'd')];
    expect(pruneSeen(entries, 102 + 168, 168).map((e) => e.bucket)).toEqual([102, 100]);
    expect(pruneSeen(entries, 100 + 168, 168)).toEqual(entries);
    expect(pruneSeen(entries, 103 + 168, 168)).toEqual([]);
  });

  it('round-trips settled entries and open claims through the byte layout', () => {
    const set: SeenSet = {
      settled: [entry(65_535, 'a'), entry(7, 'b')],
      claims: [
        { digest: eventDigest('c'), deadlineMs: 1_764_620_000_123, marker: 'ns.customer.events.raw:11:281474976710655' },
        { digest: eventDigest('d'), deadlineMs: 1, marker: 'pending:2f1c' },
      ],
    };
    const packed = encodeSeen(set);
    expect(packed.readUInt32BE(0)).toBe(2 * ENTRY_BYTES);
    expect(packed).toHaveLength(4 + 2 * 18 + 2 * (16 + 6 + 2) + 41 + 12);
    expect(decodeSeen(packed)).toEqual(set);
    expect(decodeSeen(Buffer.alloc(0))).toEqual({ settled: [], claims: [] });
  });

  it.each([
    ['shorter than its header', Buffer.from([0, 0])],
    ['with a settled region that is no whole number of entries', Buffer.from([0, 0, 0, 5, 1, 2, 3, 4, 5])],
    ['with a settled region longer than the value', Buffer.from([0, 0, 0, 18, 1])],
    ['with a claim cut short', Buffer.concat([Buffer.from([0, 0, 0, 0]), Buffer.alloc(20)])],
  ])('refuses a value %s as corrupt (TS_ERR_INGEST_DEDUPE)', (_what, bytes) => {
    expect(() => decodeSeen(bytes)).toThrow(expect.objectContaining({ code: 'TS_ERR_INGEST_DEDUPE' }));
  });
});
