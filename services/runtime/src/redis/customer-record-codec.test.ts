import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { applyEvent, compilePolicy, newCustomerState, type CustomerEvent, type CustomerState } from '@tierstream/domain';
import type { CustomerRecord } from './customer-store';
import { decodeCustomerRecord, encodeCustomerRecord, RECORD_FORMAT_VERSION } from './customer-record-codec';

const policy = compilePolicy(parse(readFileSync(path.join(__dirname, '../../../../policies/default.yaml'), 'utf8')), 'policies/default.yaml');
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1, 12);

const order = (n: number, day: number, amount: number): CustomerEvent => ({
  event_id: `e${n}`, customer_id: 'c1', type: 'ORDER', event_time: T0 + day * DAY, channel: 'web', region: 'CN-SH', customer_type: 'B2C', industry: null,
  order: { order_id: `o${n}`, amount_minor: amount, currency: 'CNY', item_count: 2 }, refund: null, interaction: null, feedback: null, attributes: { city: 'Shanghai' },
});

/** A customer with a year of orders, pending transitions of its last event and a pending rejection. */
function sampleRecord(): CustomerRecord {
  let state: CustomerState = newCustomerState('c1');
  let last: CustomerRecord['pending'] = [];
  [120_000, 400_000, 35_000, 900_000, 15_000, 1_200_000].forEach((amount, i) => {
    const applied = applyEvent(state, order(i, i * 45, amount), policy, T0 + 400 * DAY);
    state = applied.state;
    if (applied.transitions.length > 0) last = applied.transitions.map((event) => ({ partition: 3, offset: 100 + i, event }));
  });
  return { state, pending: last, rejections: [{ partition: 3, offset: 99, code: 'TS_ERR_SCORING_OVERRIDE', message: 'no such tier' }] };
}

describe('customer record codec', () => {
  it('writes v2 (T, the version, MessagePack) and reads back the same record without its forward signals', () => {
    const record = sampleRecord();
    expect(record.state.forward).toBeDefined();
    expect(record.pending.length).toBeGreaterThan(0);
    const stored = encodeCustomerRecord(record);
    expect([...stored.subarray(0, 2)]).toEqual([0x54, RECORD_FORMAT_VERSION]);
    const { forward: _forward, ...state } = record.state;
    expect(decodeCustomerRecord('c1', stored)).toEqual({ ...record, state });
  });

  it('reads a v1 record (JSON, as releases before v2 wrote it) whole, forward signals included', () => {
    const record = sampleRecord();
    expect(decodeCustomerRecord('c1', Buffer.from(JSON.stringify(record)))).toEqual(record);
  });

  it('is smaller than the v1 JSON of the same record', () => {
    const record = sampleRecord();
    expect(encodeCustomerRecord(record).length).toBeLessThan(Buffer.byteLength(JSON.stringify(record)) * 0.75);
  });

  it('refuses an unknown version or damaged bytes with TS_ERR_STATE_FORMAT naming the customer', () => {
    const future = encodeCustomerRecord(sampleRecord());
    future[1] = RECORD_FORMAT_VERSION + 1;
    expect(() => decodeCustomerRecord('c9', future)).toThrow(expect.objectContaining({ code: 'TS_ERR_STATE_FORMAT', message: expect.stringContaining('c9') }));
    expect(() => decodeCustomerRecord('c9', Buffer.from('{"state":'))).toThrow(expect.objectContaining({ code: 'TS_ERR_STATE_FORMAT' }));
    const whole = encodeCustomerRecord(sampleRecord());
    expect(() => decodeCustomerRecord('c9', whole.subarray(0, whole.length >> 1))).toThrow(expect.objectContaining({ code: 'TS_ERR_STATE_FORMAT' }));
  });
});
