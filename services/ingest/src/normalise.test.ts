import type { CustomerEvent } from '@tierstream/domain';
import { MAX_AMOUNT_MINOR } from './money';
import { MAX_ID_LENGTH, normaliseEvent, type NormaliseResult } from './normalise';
import type { RejectCode, Rejection } from './problems';

const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);

/** A valid upstream order in the flat format, as an upstream system would send it. */
const flatOrder = (): Record<string, unknown> => ({
  event_id: ' e-1 ',
  customer_id: ' c-42',
  type: 'Order',
  occurred_at: '2026-03-01T08:30:00+08:00',
  channel: ' app ',
  region: 'CN-SH',
  customer_type: 'b2c',
  industry: '',
  order_id: 'o-9',
  amount: '1299.00',
  currency: 'cny',
  item_count: 2,
  attributes: { coupon: 'SPRING' },
});

const expectedOrder: CustomerEvent = {
  event_id: 'e-1',
  customer_id: 'c-42',
  type: 'ORDER',
  event_time: Date.UTC(2026, 3 - 1, 1, 0, 30),
  channel: 'app',
  region: 'CN-SH',
  customer_type: 'B2C',
  industry: null,
  order: { order_id: 'o-9', amount_minor: 129_900, currency: 'CNY', item_count: 2 },
  refund: null,
  interaction: null,
  feedback: null,
  attributes: { coupon: 'SPRING' },
};

function accepted(result: NormaliseResult): CustomerEvent {
  if (!result.ok) throw new Error(`expected the event to be accepted, got ${result.rejection.code}: ${result.rejection.message}`);
  return result.event;
}

function rejected(result: NormaliseResult): Rejection {
  if (result.ok) throw new Error(`expected a rejection, got ${JSON.stringify(result.event)}`);
  return result.rejection;
}

const normalise = (fields: Record<string, unknown>, now = NOW): NormaliseResult => normaliseEvent(fields, now);
const withOrder = (changes: Record<string, unknown>): Record<string, unknown> => ({ ...flatOrder(), ...changes });
const without = (key: string, src: Record<string, unknown> = flatOrder()): Record<string, unknown> => {
  const copy = { ...src };
  delete copy[key];
  return copy;
};

describe('normaliseEvent: a valid order', () => {
  it('normalises the flat upstream format into the canonical event', () => {
    expect(accepted(normalise(flatOrder()))).toEqual(expectedOrder);
  });

  it('reads the same order from the nested form', () => {
    const nested = { ...without('order_id', without('amount', without('currency', without('item_count')))), order: { order_id: 'o-9', amount_minor: 129_900, currency: 'CNY', item_count: 2 } };
    expect(accepted(normalise(nested))).toEqual(expectedOrder);
  });

  it('defaults item_count to 1 and the optional fields to null and {}', () => {
    const minimal = { event_id: 'e', customer_id: 'c', type: 'order', occurred_at: NOW, order_id: 'o', amount: 1, currency: 'USD' };
    expect(accepted(normalise(minimal))).toEqual({
      event_id: 'e',
      customer_id: 'c',
      type: 'ORDER',
      event_time: NOW,
      channel: null,
      region: null,
      customer_type: null,
      industry: null,
      order: { order_id: 'o', amount_minor: 100, currency: 'USD', item_count: 1 },
      refund: null,
      interaction: null,
      feedback: null,
      attributes: {},
    });
  });

  it('ignores fields it does not know', () => {
    expect(accepted(normalise(withOrder({ source_system: 'pos-7', extra: { nested: true } })))).toEqual(expectedOrder);
  });

  it('ignores amount fields on types without money', () => {
    const visit = { event_id: 'e', customer_id: 'c', type: 'interaction', occurred_at: NOW, amount: 'not money', currency: 'XYZ' };
    expect(accepted(normalise(visit)).interaction).toEqual({ kind: 'OTHER', campaign_id: null });
  });
});

describe('normaliseEvent: not an object', () => {
  it.each([
    ['an array', [flatOrder()], 'array'],
    ['a string', 'order', 'string'],
    ['a number', 42, 'number'],
    ['null', null, 'null'],
    ['a boolean', true, 'boolean'],
  ])('rejects %s as TS_ERR_INGEST_NOT_OBJECT', (_what, input, type) => {
    expect(rejected(normaliseEvent(input, NOW))).toEqual({
      code: 'TS_ERR_INGEST_NOT_OBJECT',
      message: `an event must be a JSON object, got ${type}`,
      event_id: null,
      customer_id: null,
    });
  });
});

describe('normaliseEvent: ids', () => {
  it.each(['event_id', 'customer_id'])('trims %s', (key) => {
    expect(accepted(normalise(withOrder({ [key]: '\t x-1 \n' })))[key as 'event_id']).toBe('x-1');
  });

  it.each(['event_id', 'customer_id'])('takes a whole number %s as its decimal string', (key) => {
    expect(accepted(normalise(withOrder({ [key]: 1234567 })))[key as 'event_id']).toBe('1234567');
  });

  it.each([
    ['absent', undefined, 'TS_ERR_INGEST_MISSING_FIELD', 'is required'],
    ['null', null, 'TS_ERR_INGEST_MISSING_FIELD', 'is required'],
    ['empty', '', 'TS_ERR_INGEST_MISSING_FIELD', 'must not be blank'],
    ['blank', '   ', 'TS_ERR_INGEST_MISSING_FIELD', 'must not be blank'],
    ['a boolean', true, 'TS_ERR_INGEST_INVALID_FIELD', 'must be a string (or a whole number), got boolean'],
    ['an object', { id: 1 }, 'TS_ERR_INGEST_INVALID_FIELD', 'must be a string (or a whole number), got object'],
    ['a fraction', 1.5, 'TS_ERR_INGEST_INVALID_FIELD', 'must be a string (or a whole number), got number 1.5'],
    ['negative', -3, 'TS_ERR_INGEST_INVALID_FIELD', 'must be a string (or a whole number), got number -3'],
    ['too long', 'x'.repeat(MAX_ID_LENGTH + 1), 'TS_ERR_INGEST_INVALID_FIELD', `must be at most ${MAX_ID_LENGTH} characters, got ${MAX_ID_LENGTH + 1}`],
    ['with a control character', 'c-1\n2', 'TS_ERR_INGEST_INVALID_FIELD', 'must not contain control characters'],
  ])('rejects event_id and customer_id when %s', (_what, value, code, reason) => {
    for (const key of ['event_id', 'customer_id']) {
      const input = value === undefined ? without(key) : withOrder({ [key]: value });
      const r = rejected(normalise(input));
      expect(r.code).toBe(code);
      expect(r.message).toBe(`${key}: ${reason}`);
    }
  });

  it('accepts an id of exactly the maximum length', () => {
    expect(accepted(normalise(withOrder({ customer_id: 'c'.repeat(MAX_ID_LENGTH) }))).customer_id).toHaveLength(MAX_ID_LENGTH);
  });

  it('carries the ids it could read in the rejection', () => {
    const r = rejected(normalise(withOrder({ amount: '-1' })));
    expect(r).toMatchObject({ event_id: 'e-1', customer_id: 'c-42' });
    expect(rejected(normalise(withOrder({ event_id: ' ', amount: '-1' })))).toMatchObject({ event_id: null, customer_id: 'c-42' });
  });
});

describe('normaliseEvent: type', () => {
  it.each([
    ['order', 'ORDER'],
    ['ORDER', 'ORDER'],
    ['Refund', 'REFUND'],
    [' interaction ', 'INTERACTION'],
    ['FeedBack', 'FEEDBACK'],
    ['profile_update', 'PROFILE_UPDATE'],
    ['PROFILE_UPDATE', 'PROFILE_UPDATE'],
  ])('reads %j as %s', (raw, type) => {
    const base = { event_id: 'e', customer_id: 'c', occurred_at: NOW, type: raw };
    const details: Record<string, Record<string, unknown>> = {
      ORDER: { order_id: 'o', amount: 1, currency: 'USD' },
      REFUND: { order_id: 'o', amount: 1, currency: 'USD' },
      INTERACTION: {},
      FEEDBACK: { feedback_kind: 'complaint' },
      PROFILE_UPDATE: { attributes: { tier_opt_in: 'yes' } },
    };
    expect(accepted(normalise({ ...base, ...details[type] })).type).toBe(type);
  });

  it.each([
    ['purchase', 'TS_ERR_INGEST_INVALID_FIELD', 'type: must be one of order, refund, interaction, feedback, profile_update (any case), got "purchase"'],
    ['profile-update', 'TS_ERR_INGEST_INVALID_FIELD', 'type: must be one of order, refund, interaction, feedback, profile_update (any case), got "profile-update"'],
    [7, 'TS_ERR_INGEST_INVALID_FIELD', 'type: must be one of order, refund, interaction, feedback, profile_update (any case), got number'],
    // Scoring's commands share the canonical topic but never come from upstream systems.
    ['override', 'TS_ERR_INGEST_INVALID_FIELD', 'type: must be one of order, refund, interaction, feedback, profile_update (any case), got "override"'],
    ['CLOCK_TICK', 'TS_ERR_INGEST_INVALID_FIELD', 'type: must be one of order, refund, interaction, feedback, profile_update (any case), got "CLOCK_TICK"'],
    [' ', 'TS_ERR_INGEST_MISSING_FIELD', 'type: is required: one of order, refund, interaction, feedback, profile_update (any case)'],
    [undefined, 'TS_ERR_INGEST_MISSING_FIELD', 'type: is required: one of order, refund, interaction, feedback, profile_update (any case)'],
  ])('rejects %j', (value, code, message) => {
    const input = value === undefined ? without('type') : withOrder({ type: value });
    expect(rejected(normalise(input))).toMatchObject({ code, message });
  });
});

describe('normaliseEvent: event time', () => {
  const at = (occurred_at: unknown, now = NOW) => normalise(withOrder({ occurred_at }), now);

  it.each([
    ['2026-03-01T00:30:00Z', Date.UTC(2026, 2, 1, 0, 30)],
    ['2026-03-01T00:30:00z', Date.UTC(2026, 2, 1, 0, 30)],
    ['2026-03-01t00:30:00Z', Date.UTC(2026, 2, 1, 0, 30)],
    ['2026-03-01 00:30:00Z', Date.UTC(2026, 2, 1, 0, 30)],
    ['2026-03-01T08:30:00+08:00', Date.UTC(2026, 2, 1, 0, 30)],
    ['2026-03-01T08:30:00+0800', Date.UTC(2026, 2, 1, 0, 30)],
    ['2026-03-01T08:30+08', Date.UTC(2026, 2, 1, 0, 30)],
    ['2026-02-28T19:30:00-05:00', Date.UTC(2026, 2, 1, 0, 30)],
    ['2026-03-01T06:00:00+05:30', Date.UTC(2026, 2, 1, 0, 30)],
    ['2026-03-01T05:45:00+05:45', Date.UTC(2026, 2, 1, 0, 0)],
    ['2026-03-01T00:30:00.123Z', Date.UTC(2026, 2, 1, 0, 30, 0, 123)],
    ['2026-03-01T00:30:00.1Z', Date.UTC(2026, 2, 1, 0, 30, 0, 100)],
    ['2026-03-01T00:30:00,5Z', Date.UTC(2026, 2, 1, 0, 30, 0, 500)],
    ['2026-03-01T00:30:00.123999999Z', Date.UTC(2026, 2, 1, 0, 30, 0, 123)],
    ['2026-03-01T00:30:00-00:00', Date.UTC(2026, 2, 1, 0, 30)],
    ['2024-02-29T12:00:00Z', Date.UTC(2024, 1, 29, 12)],
    ['2000-02-29T00:00:00Z', Date.UTC(2000, 1, 29)],
    ['  2026-03-01T00:30:00Z  ', Date.UTC(2026, 2, 1, 0, 30)],
    [Date.UTC(2026, 2, 1, 0, 30), Date.UTC(2026, 2, 1, 0, 30)],
    [String(Date.UTC(2026, 2, 1, 0, 30)), Date.UTC(2026, 2, 1, 0, 30)],
  ])('reads %j as UTC epoch millis %d', (raw, millis) => {
    expect(accepted(at(raw)).event_time).toBe(millis);
  });

  it('takes the canonical event_time as well', () => {
    const input = { ...without('occurred_at'), event_time: Date.UTC(2026, 2, 1) };
    expect(accepted(normalise(input)).event_time).toBe(Date.UTC(2026, 2, 1));
  });

  it.each([
    ['2026-03-01T08:30:00', 'must carry a UTC offset (Z or ±hh:mm), got "2026-03-01T08:30:00"'],
    ['2026-03-01', 'must be a date-time with a UTC offset, got the date alone "2026-03-01"'],
    ['yesterday', 'must be epoch milliseconds or an ISO-8601 date-time with a UTC offset such as "2026-03-01T08:30:00+08:00", got "yesterday"'],
    ['2026-03-01T08:30:00 CST', 'must be epoch milliseconds or an ISO-8601 date-time with a UTC offset such as "2026-03-01T08:30:00+08:00", got "2026-03-01T08:30:00 CST"'],
    ['2026-02-30T00:00:00Z', 'is not a valid calendar date and time, got "2026-02-30T00:00:00Z"'],
    ['2025-02-29T00:00:00Z', 'is not a valid calendar date and time, got "2025-02-29T00:00:00Z"'],
    ['2026-13-01T00:00:00Z', 'is not a valid calendar date and time, got "2026-13-01T00:00:00Z"'],
    ['2026-03-01T24:00:00Z', 'is not a valid calendar date and time, got "2026-03-01T24:00:00Z"'],
    ['2026-03-01T23:60:00Z', 'is not a valid calendar date and time, got "2026-03-01T23:60:00Z"'],
    ['2026-03-01T23:59:60Z', 'is not a valid calendar date and time, got "2026-03-01T23:59:60Z"'],
    ['2026-03-01T00:00:00+24:00', 'has an invalid UTC offset +24:00, got "2026-03-01T00:00:00+24:00"'],
    ['2026-03-01T00:00:00+08:60', 'has an invalid UTC offset +08:60, got "2026-03-01T00:00:00+08:60"'],
    [1772325000000.5, 'must be whole epoch milliseconds, got 1772325000000.5'],
    [true, 'must be epoch milliseconds or an ISO-8601 string, got boolean'],
    [{ seconds: 1 }, 'must be epoch milliseconds or an ISO-8601 string, got object'],
  ])('rejects %j as TS_ERR_INGEST_INVALID_FIELD', (raw, reason) => {
    expect(rejected(at(raw))).toMatchObject({ code: 'TS_ERR_INGEST_INVALID_FIELD', message: `occurred_at: ${reason}` });
  });

  it('rejects a missing or blank time as TS_ERR_INGEST_MISSING_FIELD', () => {
    expect(rejected(normalise(without('occurred_at')))).toMatchObject({
      code: 'TS_ERR_INGEST_MISSING_FIELD',
      message: 'occurred_at: is required (ISO-8601 with a UTC offset, or epoch milliseconds)',
    });
    expect(rejected(at('  '))).toMatchObject({ code: 'TS_ERR_INGEST_MISSING_FIELD', message: 'occurred_at: must not be blank' });
  });

  it('rejects occurred_at and event_time together', () => {
    expect(rejected(normalise(withOrder({ event_time: NOW })))).toMatchObject({ code: 'TS_ERR_INGEST_INVALID_FIELD', message: 'occurred_at: give occurred_at or event_time, not both' });
  });

  it('accepts 2000-01-01T00:00:00Z and rejects the millisecond before as out of range', () => {
    expect(accepted(at('2000-01-01T00:00:00Z')).event_time).toBe(Date.UTC(2000, 0, 1));
    expect(rejected(at('1999-12-31T23:59:59.999Z'))).toEqual({
      code: 'TS_ERR_INGEST_EVENT_TIME_OUT_OF_RANGE',
      message: 'occurred_at: 1999-12-31T23:59:59.999Z is before 2000-01-01T00:00:00.000Z',
      event_id: 'e-1',
      customer_id: 'c-42',
    });
  });

  it('judges the range in UTC: 08:00+08:00 on 2000-01-01 is still 1999', () => {
    expect(rejected(at('2000-01-01T07:59:59+08:00')).code).toBe('TS_ERR_INGEST_EVENT_TIME_OUT_OF_RANGE');
    expect(accepted(at('2000-01-01T08:00:00+08:00')).event_time).toBe(Date.UTC(2000, 0, 1));
  });

  it('hints at epoch seconds when the number looks like them', () => {
    const r = rejected(at(Math.floor(NOW / 1000)));
    expect(r.code).toBe('TS_ERR_INGEST_EVENT_TIME_OUT_OF_RANGE');
    expect(r.message).toContain('(this looks like epoch seconds; the field takes milliseconds)');
    expect(rejected(at(0)).message).not.toContain('epoch seconds');
  });

  it('accepts up to one day ahead of the ingest clock and rejects a millisecond more', () => {
    const day = 24 * 60 * 60 * 1000;
    expect(accepted(at(NOW + day)).event_time).toBe(NOW + day);
    expect(rejected(at(NOW + day + 1))).toMatchObject({
      code: 'TS_ERR_INGEST_EVENT_TIME_OUT_OF_RANGE',
      message: `occurred_at: ${new Date(NOW + day + 1).toISOString()} is more than 1 day ahead of the ingest clock (${new Date(NOW).toISOString()})`,
    });
  });

  it('uses the clock it is given, not the machine clock', () => {
    const future = Date.UTC(2030, 0, 1);
    expect(rejected(at(future, NOW)).code).toBe('TS_ERR_INGEST_EVENT_TIME_OUT_OF_RANGE');
    expect(accepted(at(future, future)).event_time).toBe(future);
  });
});

describe('normaliseEvent: money', () => {
  const money = (changes: Record<string, unknown>) => normalise({ ...without('amount', without('currency')), ...changes });

  it.each([
    ['1299.00', 'CNY', 129_900],
    ['1299', 'cny', 129_900],
    [' 5.5 ', 'usd', 550],
    [19.99, 'EUR', 1999],
    [1299.5, 'USD', 129_950],
    [0.1, 'USD', 10],
    ['12.3400', 'USD', 1234],
    ['0', 'USD', 0],
    ['+7', 'USD', 700],
    ['100', 'JPY', 100],
    [100, 'jpy', 100],
    ['100.000', 'JPY', 100],
    ['1.234', 'BHD', 1234],
    ['1.5', 'KWD', 1500],
    ['2.5', 'Kwd', 2500],
    ['1.2345', 'CLF', 12_345],
    ['10000000000.00', 'USD', MAX_AMOUNT_MINOR],
    ['1000000000000', 'JPY', MAX_AMOUNT_MINOR],
  ])('reads amount %j %s as %d minor units', (amount, currency, minor) => {
    const order = accepted(money({ amount, currency })).order;
    expect(order?.amount_minor).toBe(minor);
    expect(order?.currency).toBe(String(currency).toUpperCase());
  });

  it.each([
    [129_900, 129_900],
    ['129900', 129_900],
    [' 42 ', 42],
    [0, 0],
    [MAX_AMOUNT_MINOR, MAX_AMOUNT_MINOR],
  ])('reads amount_minor %j as %d', (amount_minor, minor) => {
    expect(accepted(money({ amount_minor, currency: 'CNY' })).order?.amount_minor).toBe(minor);
  });

  it.each<[string, Record<string, unknown>, RejectCode, string]>([
    ['too many decimals for USD', { amount: '12.345', currency: 'USD' }, 'TS_ERR_INGEST_INVALID_AMOUNT', 'amount: 12.345 has 3 decimal places; USD has 2'],
    ['decimals for JPY', { amount: '100.5', currency: 'JPY' }, 'TS_ERR_INGEST_INVALID_AMOUNT', 'amount: 100.5 has 1 decimal place; JPY has none'],
    ['too many decimals for BHD', { amount: 1.2345, currency: 'BHD' }, 'TS_ERR_INGEST_INVALID_AMOUNT', 'amount: 1.2345 has 4 decimal places; BHD has 3'],
    ['a tiny float', { amount: 1e-7, currency: 'USD' }, 'TS_ERR_INGEST_INVALID_AMOUNT', 'amount: must be a decimal number without an exponent, such as 12.34, got 1e-7'],
    ['thousands separators', { amount: '1,299.00', currency: 'USD' }, 'TS_ERR_INGEST_INVALID_AMOUNT', 'amount: must be a decimal number such as "12.34", got "1,299.00"'],
    ['an exponent', { amount: '1e3', currency: 'USD' }, 'TS_ERR_INGEST_INVALID_AMOUNT', 'amount: must be a decimal number such as "12.34", got "1e3"'],
    ['a currency symbol', { amount: '$12', currency: 'USD' }, 'TS_ERR_INGEST_INVALID_AMOUNT', 'amount: must be a decimal number such as "12.34", got "$12"'],
    ['an empty string', { amount: '', currency: 'USD' }, 'TS_ERR_INGEST_INVALID_AMOUNT', 'amount: must be a decimal number such as "12.34", got ""'],
    ['a boolean', { amount: true, currency: 'USD' }, 'TS_ERR_INGEST_INVALID_FIELD', 'amount: must be a decimal string or a number, got boolean'],
    ['an object', { amount: { value: 1 }, currency: 'USD' }, 'TS_ERR_INGEST_INVALID_FIELD', 'amount: must be a decimal string or a number, got object'],
    ['a negative string', { amount: '-5.00', currency: 'USD' }, 'TS_ERR_INGEST_NEGATIVE_AMOUNT', 'amount: must not be negative, got -5.00'],
    ['a negative number', { amount: -0.01, currency: 'USD' }, 'TS_ERR_INGEST_NEGATIVE_AMOUNT', 'amount: must not be negative, got -0.01'],
    ['a negative amount_minor', { amount_minor: -1, currency: 'USD' }, 'TS_ERR_INGEST_NEGATIVE_AMOUNT', 'amount_minor: must not be negative, got -1'],
    ['a negative amount_minor string', { amount_minor: '-100', currency: 'USD' }, 'TS_ERR_INGEST_NEGATIVE_AMOUNT', 'amount_minor: must not be negative, got -100'],
    ['a negative amount in an unknown currency', { amount: '-1', currency: 'ZZZ' }, 'TS_ERR_INGEST_UNKNOWN_CURRENCY', "currency: 'ZZZ' is not an ISO-4217 currency with a minor unit"],
    ['a fractional amount_minor', { amount_minor: 12.5, currency: 'USD' }, 'TS_ERR_INGEST_INVALID_AMOUNT', 'amount_minor: must be a whole number of minor units, got 12.5'],
    ['an amount_minor with a point', { amount_minor: '12.0', currency: 'USD' }, 'TS_ERR_INGEST_INVALID_AMOUNT', 'amount_minor: must be a whole number of minor units, got "12.0"'],
    ['an amount_minor boolean', { amount_minor: false, currency: 'USD' }, 'TS_ERR_INGEST_INVALID_FIELD', 'amount_minor: must be a whole number of minor units, got boolean'],
    ['amount_minor above the cap', { amount_minor: MAX_AMOUNT_MINOR + 1, currency: 'USD' }, 'TS_ERR_INGEST_AMOUNT_TOO_LARGE', `amount_minor: ${MAX_AMOUNT_MINOR + 1} USD is ${MAX_AMOUNT_MINOR + 1} minor units, above the cap of ${MAX_AMOUNT_MINOR}`],
    ['amount above the cap', { amount: '10000000000.01', currency: 'USD' }, 'TS_ERR_INGEST_AMOUNT_TOO_LARGE', `amount: 10000000000.01 USD is 1000000000001 minor units, above the cap of ${MAX_AMOUNT_MINOR}`],
    ['an absurd float', { amount: 1e300, currency: 'USD' }, 'TS_ERR_INGEST_INVALID_AMOUNT', 'amount: must be a decimal number without an exponent, such as 12.34, got 1e+300'],
    ['an amount_minor float that prints with an exponent', { amount_minor: 1e21, currency: 'USD' }, 'TS_ERR_INGEST_INVALID_AMOUNT', 'amount_minor: must be a whole number of minor units without an exponent, got 1e+21'],
    ['an absurd amount_minor string', { amount_minor: '99999999999999999999999', currency: 'JPY' }, 'TS_ERR_INGEST_AMOUNT_TOO_LARGE', 'amount_minor: 99999999999999999999999 JPY'],
    ['amount and amount_minor both', { amount: '1.00', amount_minor: 100, currency: 'USD' }, 'TS_ERR_INGEST_INVALID_FIELD', 'amount: give amount (major units) or amount_minor, not both'],
    ['no amount', { currency: 'USD' }, 'TS_ERR_INGEST_MISSING_FIELD', 'amount: is required (amount in major units, or amount_minor)'],
    ['an unknown currency', { amount: '1.00', currency: 'xyz' }, 'TS_ERR_INGEST_UNKNOWN_CURRENCY', "currency: 'XYZ' is not an ISO-4217 currency with a minor unit"],
    ['a colloquial code', { amount: '1.00', currency: 'RMB' }, 'TS_ERR_INGEST_UNKNOWN_CURRENCY', "currency: 'RMB' is not an ISO-4217 currency with a minor unit"],
    ['gold', { amount: '1', currency: 'XAU' }, 'TS_ERR_INGEST_UNKNOWN_CURRENCY', "currency: 'XAU' is not an ISO-4217 currency with a minor unit"],
    ['no currency', { amount: '1.00' }, 'TS_ERR_INGEST_MISSING_FIELD', 'currency: is required (an ISO-4217 code such as CNY)'],
    ['a blank currency', { amount: '1.00', currency: ' ' }, 'TS_ERR_INGEST_MISSING_FIELD', 'currency: must not be blank'],
    ['a numeric currency', { amount: '1.00', currency: 840 }, 'TS_ERR_INGEST_INVALID_FIELD', 'currency: must be an ISO-4217 code string, got number'],
  ])('rejects %s', (_what, changes, code, message) => {
    const r = rejected(money(changes));
    expect(r.code).toBe(code);
    expect(r.message.startsWith(message)).toBe(true);
  });

  it('reports an unknown currency and a negative amount together, currency first', () => {
    const r = rejected(money({ amount: '-1', currency: 'ZZZ' }));
    expect(r.message).toBe("currency: 'ZZZ' is not an ISO-4217 currency with a minor unit (list of 2024-06-25); amount: must not be negative, got -1");
  });

  it('never produces negative minor units from a negative zero', () => {
    expect(accepted(money({ amount: '-0.00', currency: 'USD' })).order?.amount_minor).toBe(0);
  });
});

describe('normaliseEvent: refund', () => {
  const refund = { event_id: 'r-1', customer_id: 'c-42', type: 'refund', occurred_at: NOW, order_id: 'o-9', amount: '649.50', currency: 'CNY' };

  it('reads a flat and a nested refund', () => {
    expect(accepted(normalise(refund)).refund).toEqual({ order_id: 'o-9', amount_minor: 64_950, currency: 'CNY' });
    const nested = { event_id: 'r-1', customer_id: 'c-42', type: 'REFUND', occurred_at: NOW, refund: { order_id: 'o-9', amount_minor: 64_950, currency: 'CNY' } };
    expect(accepted(normalise(nested))).toEqual(accepted(normalise(refund)));
  });

  it('requires the order id and a positive amount', () => {
    expect(rejected(normalise({ ...refund, order_id: undefined }))).toMatchObject({ code: 'TS_ERR_INGEST_MISSING_FIELD', message: 'order_id: is required' });
    expect(rejected(normalise({ ...refund, amount: '0.00' }))).toMatchObject({ code: 'TS_ERR_INGEST_INVALID_AMOUNT', message: 'amount: a refund must be more than zero' });
    expect(rejected(normalise({ ...refund, amount: '-1' }))).toMatchObject({ code: 'TS_ERR_INGEST_NEGATIVE_AMOUNT' });
  });

  it('names nested fields by their path', () => {
    const nested = { ...refund, amount: undefined, refund: { order_id: ' ', amount: '1.999', currency: 'CNY' } };
    expect(rejected(normalise(nested)).message).toBe('refund.order_id: must not be blank; refund.amount: 1.999 has 3 decimal places; CNY has 2');
  });
});

describe('normaliseEvent: order details', () => {
  it.each([
    [0, 'must be a whole number from 1 to 1000000, got 0'],
    [1.5, 'must be a whole number from 1 to 1000000, got 1.5'],
    [1_000_001, 'must be a whole number from 1 to 1000000, got 1000001'],
    ['2', 'must be a whole number from 1 to 1000000, got string'],
  ])('rejects item_count %j', (item_count, reason) => {
    expect(rejected(normalise(withOrder({ item_count })))).toMatchObject({ code: 'TS_ERR_INGEST_INVALID_FIELD', message: `item_count: ${reason}` });
  });

  it('rejects an order without order_id', () => {
    expect(rejected(normalise(without('order_id')))).toMatchObject({ code: 'TS_ERR_INGEST_MISSING_FIELD', message: 'order_id: is required' });
  });

  it('rejects a detail object that is not an object', () => {
    expect(rejected(normalise(withOrder({ order: 'o-9' })))).toMatchObject({ code: 'TS_ERR_INGEST_INVALID_FIELD', message: 'order: must be an object or null, got string' });
  });

  it.each(['refund', 'interaction', 'feedback'])('rejects a %s object on an order', (key) => {
    expect(rejected(normalise(withOrder({ [key]: {} })))).toMatchObject({ code: 'TS_ERR_INGEST_INVALID_FIELD', message: `${key}: must be absent or null for a order event` });
  });

  it('accepts the other detail keys as null, like a canonical event has them', () => {
    expect(accepted(normalise(withOrder({ refund: null, interaction: null, feedback: null })))).toEqual(expectedOrder);
  });
});

describe('normaliseEvent: interaction', () => {
  const interaction = (changes: Record<string, unknown>) => normalise({ event_id: 'i-1', customer_id: 'c', type: 'interaction', occurred_at: NOW, ...changes });

  it.each([
    [{}, { kind: 'OTHER', campaign_id: null }],
    [{ interaction_kind: 'visit' }, { kind: 'VISIT', campaign_id: null }],
    [{ interaction_kind: 'Support_Contact' }, { kind: 'SUPPORT_CONTACT', campaign_id: null }],
    [{ interaction_kind: 'campaign_response', campaign_id: ' spring-26 ' }, { kind: 'CAMPAIGN_RESPONSE', campaign_id: 'spring-26' }],
    [{ interaction: { kind: 'visit', campaign_id: null } }, { kind: 'VISIT', campaign_id: null }],
  ])('reads %j', (changes, details) => {
    expect(accepted(interaction(changes)).interaction).toEqual(details);
  });

  it('rejects an unknown kind and a campaign id that is not a string', () => {
    expect(rejected(interaction({ interaction_kind: 'call' })).message).toBe(
      'interaction_kind: must be one of visit, support_contact, campaign_response, other (any case), got "call"',
    );
    expect(rejected(interaction({ interaction: { kind: 'visit', campaign_id: 5 } })).message).toBe('interaction.campaign_id: must be a string, got number');
  });
});

describe('normaliseEvent: feedback', () => {
  const feedback = (changes: Record<string, unknown>) => normalise({ event_id: 'f-1', customer_id: 'c', type: 'feedback', occurred_at: NOW, ...changes });

  it.each([1, 2, 3, 4, 5])('reads satisfaction score %d', (score) => {
    expect(accepted(feedback({ feedback_kind: 'satisfaction', score })).feedback).toEqual({ kind: 'SATISFACTION', score, comment: null });
  });

  it('reads a complaint with a comment and no score, flat and nested', () => {
    const expected = { kind: 'COMPLAINT', score: null, comment: 'late delivery' };
    expect(accepted(feedback({ feedback_kind: 'COMPLAINT', comment: ' late delivery ' })).feedback).toEqual(expected);
    expect(accepted(feedback({ feedback: { kind: 'complaint', score: null, comment: 'late delivery' } })).feedback).toEqual(expected);
  });

  it.each([0, 6, 4.5, '4', -1])('rejects score %j', (score) => {
    const r = rejected(feedback({ feedback_kind: 'satisfaction', score }));
    expect(r.code).toBe('TS_ERR_INGEST_INVALID_FIELD');
    expect(r.message).toMatch(/^score: must be a whole number from 1 to 5, got /);
  });

  it('requires a kind, and a score for satisfaction', () => {
    expect(rejected(feedback({ score: 3 }))).toMatchObject({
      code: 'TS_ERR_INGEST_MISSING_FIELD',
      message: 'feedback_kind: is required: one of complaint, satisfaction (any case)',
    });
    expect(rejected(feedback({ feedback_kind: 'satisfaction' }))).toMatchObject({
      code: 'TS_ERR_INGEST_MISSING_FIELD',
      message: 'score: is required for satisfaction feedback (1 to 5)',
    });
  });

  it('rejects a comment that is not a string', () => {
    expect(rejected(feedback({ feedback_kind: 'complaint', comment: ['a'] })).message).toBe('comment: must be a string, got array');
  });
});

describe('normaliseEvent: profile update and attributes', () => {
  const profile = (changes: Record<string, unknown>) => normalise({ event_id: 'p-1', customer_id: 'c', type: 'profile_update', occurred_at: NOW, ...changes });

  it('keeps the changed fields as attributes, values untouched', () => {
    expect(accepted(profile({ attributes: { city: ' Shanghai ', segment: 'vip' } })).attributes).toEqual({ city: ' Shanghai ', segment: 'vip' });
  });

  it('requires at least one changed field', () => {
    expect(rejected(profile({}))).toMatchObject({ code: 'TS_ERR_INGEST_MISSING_FIELD', message: 'attributes: a profile_update needs at least one changed field' });
    expect(rejected(profile({ attributes: {} })).code).toBe('TS_ERR_INGEST_MISSING_FIELD');
  });

  it.each([
    [['a'], 'attributes: must be an object of string values, got array'],
    ['city=x', 'attributes: must be an object of string values, got string'],
    [{ vip: true }, 'attributes.vip: must be a string, got boolean'],
    [{ age: 42 }, 'attributes.age: must be a string, got number'],
    [{ ' ': 'x' }, 'attributes: has a blank key'],
  ])('rejects attributes %j', (attributes, message) => {
    expect(rejected(normalise(withOrder({ attributes })))).toMatchObject({ code: 'TS_ERR_INGEST_INVALID_FIELD', message });
  });

  it('keeps a "__proto__" key as plain data', () => {
    const input = JSON.parse('{"event_id":"e","customer_id":"c","type":"profile_update","occurred_at":1772323200000,"attributes":{"__proto__":"x"}}') as unknown;
    const { attributes } = accepted(normaliseEvent(input, NOW));
    expect(Object.getPrototypeOf(attributes)).toBe(Object.prototype);
    expect(Object.entries(attributes)).toEqual([['__proto__', 'x']]);
  });
});

describe('normaliseEvent: segmentation fields', () => {
  it.each(['channel', 'region', 'industry'])('trims %s, takes blank as null and rejects a non-string', (key) => {
    expect(accepted(normalise(withOrder({ [key]: '  web ' })))[key as 'channel']).toBe('web');
    expect(accepted(normalise(withOrder({ [key]: '  ' })))[key as 'channel']).toBeNull();
    expect(accepted(normalise(withOrder({ [key]: null })))[key as 'channel']).toBeNull();
    expect(rejected(normalise(withOrder({ [key]: 7 })))).toMatchObject({ code: 'TS_ERR_INGEST_INVALID_FIELD', message: `${key}: must be a string, got number` });
  });

  it.each([
    ['b2b', 'B2B'],
    ['B2C', 'B2C'],
    [' b2C ', 'B2C'],
    [null, null],
  ])('reads customer_type %j as %j', (raw, type) => {
    expect(accepted(normalise(withOrder({ customer_type: raw }))).customer_type).toBe(type);
  });

  it('rejects an unknown customer_type', () => {
    expect(rejected(normalise(withOrder({ customer_type: 'b2g' })))).toMatchObject({
      code: 'TS_ERR_INGEST_INVALID_FIELD',
      message: 'customer_type: must be one of b2b, b2c (any case), got "b2g"',
    });
  });
});

describe('normaliseEvent: several problems', () => {
  it('lists every problem in field order, with the first one as the code', () => {
    const r = rejected(normalise({ customer_id: 'c-1', type: 'order', occurred_at: '2026-03-01T08:30:00', amount: '-1', currency: 'usd', order_id: 'o', item_count: 0 }));
    expect(r).toEqual({
      code: 'TS_ERR_INGEST_MISSING_FIELD',
      message: 'event_id: is required; occurred_at: must carry a UTC offset (Z or ±hh:mm), got "2026-03-01T08:30:00"; amount: must not be negative, got -1; item_count: must be a whole number from 1 to 1000000, got 0',
      event_id: null,
      customer_id: 'c-1',
    });
  });
});
