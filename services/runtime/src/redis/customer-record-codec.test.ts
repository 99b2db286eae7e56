import { createHash } from 'node:crypto';
import { Packr } from 'msgpackr';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { applyEvent, applyEventInPlace, compilePolicy, newCustomerState, unconvertibleCurrency, type CustomerEvent, type CustomerState } from '@tierstream/domain';
import { generatePopulation } from '../../../cli/src/demo/population';
import { encodeV1Record, encodeV2Record, encodeV3Record } from '../testing/legacy-records';
import type { CustomerRecord } from './customer-store';
import { decodeCustomerRecord, encodeCustomerRecord, RECORD_FORMAT_VERSION } from './customer-record-codec';
import { RECORD_DICTIONARY_V4 } from './record-dictionary';

const DICTIONARY_HASH = 'a68ed38ea08b5efa';
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

const withoutForward = ({ forward: _forward, ...state }: CustomerState): CustomerState => state;

/** A state with every optional part and every kind of number the layout has a case for. */
function oddState(): CustomerState {
  const { state } = sampleRecord();
  return {
    ...withoutForward(state),
    score: 72.5,
    metrics: { ...state.metrics, refund_rate_90d: 0.3333333333333333, a_negative: -17, huge: 2 ** 52 + 2, minus_zero: -0, not_a_number: Number.NaN, 'ünïcödé 名前': 3 },
    profile: { region: 'CN-GD', customer_type: null, industry: 'retail', attributes: { city: '广州', tier_note: '' } },
    orderTimes: { first: state.aggregates.now - 400 * DAY, last: state.aggregates.now - 3, reactivated: state.aggregates.now - 90 * DAY + 17 },
    overrides: {
      value: { tier: 'vip', until: Date.UTC(2027, 5, 30), reason: 'strategic account, QBR', actor: 'alice', issued_at: state.aggregates.now + 5_000, command_id: 'cmd-1' },
      lifecycle: { tier: 'active', until: Date.UTC(2027, 0, 1, 13, 7), reason: 'pilot', actor: 'bob', issued_at: 1, command_id: 'cmd-2' },
    },
    history: [
      ...state.history,
      { transition_id: 'imported/7', dimension: 'membership', from_tier: null, to_tier: 'gold', rule: 'legacy.rule', inputs: { spend_365d: 1.5 }, at: 3 },
    ],
  };
}

describe('customer record codec', () => {
  it('writes v4 (T, the version, its strings, the body; pending apart) and reads back the same record without its forward signals', () => {
    const record = sampleRecord();
    expect(record.state.forward).toBeDefined();
    expect(record.pending.length).toBeGreaterThan(0);
    expect(record.state.history.length).toBeGreaterThan(3);
    const stored = encodeCustomerRecord(record);
    expect([...stored.record.subarray(0, 2)]).toEqual([0x54, RECORD_FORMAT_VERSION]);
    expect(RECORD_FORMAT_VERSION).toBe(4);
    expect(stored.pending).not.toBeNull();
    expect(decodeCustomerRecord('c1', stored.record, stored.pending)).toStrictEqual({ ...record, state: withoutForward(record.state) });
  });

  it('reads back exactly every state of a demo population after a year (600 customers)', () => {
    const population = generatePopulation({ customers: 600, days: 365, start: Date.UTC(2026, 0, 1), seed: 11, idPrefix: 'r-' });
    const byCustomer = new Map<string, CustomerEvent[]>();
    for (const e of population.events) byCustomer.set(e.customer_id, [...(byCustomer.get(e.customer_id) ?? []), e]);
    let checked = 0;
    for (const [customer, events] of byCustomer) {
      const state = newCustomerState(customer);
      for (const e of events) if (unconvertibleCurrency(e, policy) === undefined) applyEventInPlace(state, e, policy, e.event_time);
      const stored = encodeCustomerRecord({ state, pending: [] });
      expect(decodeCustomerRecord(customer, stored.record, stored.pending)).toStrictEqual({ state: withoutForward(state), pending: [] });
      checked++;
    }
    expect(checked).toBe(600);
  });

  it('keeps fractions, negative and large numbers, -0, NaN, any string, order times and pins exactly', () => {
    const state = oddState();
    const decoded = decodeCustomerRecord('c1', encodeCustomerRecord({ state, pending: [] }).record).state;
    expect(decoded).toStrictEqual(state);
    expect(Object.is(decoded.metrics['minus_zero'], -0)).toBe(true);
  });

  it('refers to the frozen dictionary (its hash is pinned: changing it needs a new format version)', () => {
    expect(new Set(RECORD_DICTIONARY_V4).size).toBe(RECORD_DICTIONARY_V4.length);
    expect(createHash('sha256').update(JSON.stringify(RECORD_DICTIONARY_V4)).digest('hex').slice(0, 16)).toBe(DICTIONARY_HASH);
  });

  it('packs pending transitions so that each field decodes alone, by a fresh reader of plain MessagePack maps too', () => {
    const record = sampleRecord();
    encodeCustomerRecord(record);
    const second = encodeCustomerRecord(record).pending ?? Buffer.alloc(0);
    const fresh = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true });
    expect(fresh.unpack(second)).toEqual({ p: record.pending, r: record.rejections });
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
    expect(decodeCustomerRecord('c1', encodeV1Record(record))).toEqual(expected);
    expect(decodeCustomerRecord('c1', encodeV2Record(record))).toEqual(expected);
  });

  it('reads a v3 record (MessagePack tuples, pending apart) as the state it was', () => {
    const record = sampleRecord();
    // Without -0: MessagePack wrote it as 0.
    const { minus_zero: _minusZero, ...metrics } = oddState().metrics;
    const state = { ...oddState(), metrics };
    const v3 = encodeV3Record(state);
    expect([...v3.subarray(0, 2)]).toEqual([0x54, 3]);
    const pending = encodeCustomerRecord(record).pending;
    expect(decodeCustomerRecord('c1', v3, pending)).toEqual({ state, pending: record.pending, rejections: record.rejections });
  });

  it('is less than a third of v3 and an eighth of the v1 JSON of the same state', () => {
    const { state } = sampleRecord();
    const v4 = encodeCustomerRecord({ state, pending: [] }).record.length;
    expect(v4).toBeLessThan(encodeV3Record(state).length / 3);
    expect(v4).toBeLessThan(encodeV1Record({ state, pending: [] }).length / 8);
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
