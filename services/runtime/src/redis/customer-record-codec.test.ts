import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Packr } from 'msgpackr';
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

const v2Packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true });
/** A record as releases before v3 stored it: history with prose reasons and no inputs. */
const oldShape = (record: CustomerRecord): object => ({
  ...record,
  state: { ...record.state, history: record.state.history.map(({ inputs: _inputs, ...h }) => ({ ...h, reason: `${h.rule}: prose` })) },
});

describe('customer record codec', () => {
  it('writes v3 (T, the version, MessagePack; pending apart) and reads back the same record without its forward signals', () => {
    const record = sampleRecord();
    expect(record.state.forward).toBeDefined();
    expect(record.pending.length).toBeGreaterThan(0);
    expect(record.state.history.length).toBeGreaterThan(3);
    const stored = encodeCustomerRecord(record);
    expect([...stored.record.subarray(0, 2)]).toEqual([0x54, RECORD_FORMAT_VERSION]);
    expect(RECORD_FORMAT_VERSION).toBe(3);
    expect(stored.pending).not.toBeNull();
    const { forward: _forward, ...state } = record.state;
    expect(decodeCustomerRecord('c1', stored.record, stored.pending)).toEqual({ ...record, state });
  });

  it('stores no pending field when nothing is pending, and reads a record without one as having none', () => {
    const { state } = sampleRecord();
    const stored = encodeCustomerRecord({ state, pending: [] });
    expect(stored.pending).toBeNull();
    expect(decodeCustomerRecord('c1', stored.record, null).pending).toEqual([]);
    expect(decodeCustomerRecord('c1', stored.record, null).rejections).toBeUndefined();
  });

  it('keeps transition ids and rule ids that are not the usual ones', () => {
    const { state } = sampleRecord();
    const odd = { ...state, history: [{ transition_id: 'imported-7', dimension: 'value', from_tier: null, to_tier: 'high', rule: 'legacy.rule', inputs: { spend_365d: 5 }, at: 1 }] };
    const stored = encodeCustomerRecord({ state: odd, pending: [] });
    expect(decodeCustomerRecord('c1', stored.record).state.history).toEqual(odd.history);
  });

  it('reads a v1 record (JSON) and a v2 record (MessagePack, pending inside), their history without the prose', () => {
    const record = sampleRecord();
    const expected = { ...record, state: { ...record.state, history: record.state.history.map((h) => ({ ...h, inputs: {} })) } };
    expect(decodeCustomerRecord('c1', Buffer.from(JSON.stringify(oldShape(record))))).toEqual(expected);
    const v2 = Buffer.concat([Buffer.from([0x54, 2]), v2Packr.pack(oldShape(record))]);
    expect(decodeCustomerRecord('c1', v2)).toEqual(expected);
  });

  it('is less than half the v1 JSON of the same record', () => {
    const record = sampleRecord();
    const stored = encodeCustomerRecord(record);
    expect(stored.record.length + (stored.pending?.length ?? 0)).toBeLessThan(Buffer.byteLength(JSON.stringify(oldShape(record))) * 0.5);
  });

  it('refuses an unknown version or damaged bytes with TS_ERR_STATE_FORMAT naming the customer', () => {
    const future = encodeCustomerRecord(sampleRecord()).record;
    future[1] = RECORD_FORMAT_VERSION + 1;
    expect(() => decodeCustomerRecord('c9', future)).toThrow(expect.objectContaining({ code: 'TS_ERR_STATE_FORMAT', message: expect.stringContaining('c9') }));
    expect(() => decodeCustomerRecord('c9', Buffer.from('{"state":'))).toThrow(expect.objectContaining({ code: 'TS_ERR_STATE_FORMAT' }));
    const whole = encodeCustomerRecord(sampleRecord()).record;
    expect(() => decodeCustomerRecord('c9', whole.subarray(0, whole.length >> 1))).toThrow(expect.objectContaining({ code: 'TS_ERR_STATE_FORMAT' }));
    const pending = encodeCustomerRecord(sampleRecord()).pending ?? Buffer.alloc(0);
    expect(() => decodeCustomerRecord('c9', whole, pending.subarray(0, pending.length >> 1))).toThrow(expect.objectContaining({ code: 'TS_ERR_STATE_FORMAT' }));
  });
});
