import fs from 'node:fs';
import path from 'node:path';
import avro from 'avsc';
import fc from 'fast-check';
import { EVENT_TYPES, FEEDBACK_KINDS, INTERACTION_KINDS, type CustomerEvent, type CustomerType } from '@tierstream/domain';
import { currencyExponent, knownCurrencies } from './currency';
import { MAX_FUTURE_MS, MIN_EVENT_TIME, parseEventTime } from './event-time';
import { MAX_AMOUNT_MINOR } from './money';
import { MAX_ITEM_COUNT, normaliseEvent } from './normalise';

const NOW = Date.UTC(2026, 2, 1, 12);
const schema = avro.Type.forSchema(JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'schemas', 'customer-event.avsc'), 'utf8')) as avro.Schema);

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const id = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }).filter((s) => s.trim() === s && s !== '' && !CONTROL.test(s));
const text = fc.option(id, { nil: null });
const currency = fc.constantFrom(...knownCurrencies());
const minor = (min: number) => fc.integer({ min, max: MAX_AMOUNT_MINOR });
const eventTime = fc.integer({ min: MIN_EVENT_TIME, max: NOW + MAX_FUTURE_MS });
const attributes = (minKeys: number) => fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k.trim() !== ''), fc.string({ maxLength: 20 }), { minKeys, maxKeys: 4 });

/** Any canonical event: what normalise produces, and what a canonical producer may send back. */
const canonicalEvent: fc.Arbitrary<CustomerEvent> = fc
  .record({
    event_id: id,
    customer_id: id,
    type: fc.constantFrom(...EVENT_TYPES),
    event_time: eventTime,
    channel: text,
    region: text,
    customer_type: fc.constantFrom<CustomerType | null>('B2B', 'B2C', null),
    industry: text,
    order: fc.record({ order_id: id, amount_minor: minor(0), currency, item_count: fc.integer({ min: 1, max: MAX_ITEM_COUNT }) }),
    refund: fc.record({ order_id: id, amount_minor: minor(1), currency }),
    interaction: fc.record({ kind: fc.constantFrom(...INTERACTION_KINDS), campaign_id: text }),
    feedback: fc.oneof(
      fc.record({ kind: fc.constant(FEEDBACK_KINDS[1]), score: fc.integer({ min: 1, max: 5 }), comment: text }),
      fc.record({ kind: fc.constant(FEEDBACK_KINDS[0]), score: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }), comment: text }),
    ),
    attributes: attributes(0),
    changed: attributes(1),
  })
  .map(({ type, order, refund, interaction, feedback, attributes: attrs, changed, ...rest }) => ({
    ...rest,
    type,
    order: type === 'ORDER' ? order : null,
    refund: type === 'REFUND' ? refund : null,
    interaction: type === 'INTERACTION' ? interaction : null,
    feedback: type === 'FEEDBACK' ? feedback : null,
    attributes: type === 'PROFILE_UPDATE' ? changed : attrs,
  }));

describe('normaliseEvent properties', () => {
  it('round-trips the JSON of any canonical event unchanged', () => {
    fc.assert(
      fc.property(canonicalEvent, (event) => {
        const result = normaliseEvent(JSON.parse(JSON.stringify(event)) as unknown, NOW);
        expect(result).toEqual({ ok: true, event });
      }),
    );
  });

  it('round-trips any canonical event decoded from Avro (avsc record instances)', () => {
    fc.assert(
      fc.property(canonicalEvent, (event) => {
        // avsc decodes a map into a plain object by assignment, so a "__proto__" key is lost
        // in avsc itself before ingest sees the record.
        fc.pre(!Object.keys(event.attributes).includes('__proto__'));
        const decoded: unknown = schema.fromBuffer(schema.toBuffer(event));
        expect(normaliseEvent(decoded, NOW)).toEqual({ ok: true, event });
      }),
      { numRuns: 50 },
    );
  });

  it('is idempotent and only yields events the canonical Avro schema accepts', () => {
    const upstream = fc.record(
      {
        event_id: fc.oneof(id.map((s) => ` ${s} `), fc.nat()),
        customer_id: fc.oneof(id, fc.nat()),
        type: fc.constantFrom(...EVENT_TYPES).chain((t) => fc.constantFrom(t, t.toLowerCase())),
        occurred_at: eventTime.map((t) => new Date(t).toISOString()),
        channel: fc.oneof(fc.string(), fc.constant(null)),
        customer_type: fc.constantFrom('b2b', 'B2C', null),
        order_id: id,
        amount: minor(1).map((m) => (m / 100).toFixed(2)),
        currency: fc.constantFrom('usd', 'CNY', 'eur'),
        interaction_kind: fc.constantFrom(...INTERACTION_KINDS).map((k) => k.toLowerCase()),
        feedback_kind: fc.constant('satisfaction'),
        score: fc.integer({ min: 1, max: 5 }),
        attributes: attributes(1),
      },
      { requiredKeys: ['event_id', 'customer_id', 'type', 'occurred_at'] },
    );
    fc.assert(
      fc.property(upstream, (input) => {
        const first = normaliseEvent(input, NOW);
        if (!first.ok) return;
        expect(schema.isValid(first.event)).toBe(true);
        expect(normaliseEvent(JSON.parse(JSON.stringify(first.event)) as unknown, NOW)).toEqual(first);
      }),
    );
  });

  it('converts any amount in major units of any currency exactly to its minor units', () => {
    fc.assert(
      fc.property(currency, fc.bigInt({ min: 0n, max: BigInt(MAX_AMOUNT_MINOR) }), fc.constantFrom('', '0', '000'), (code, amount, padding) => {
        const exponent = currencyExponent(code) ?? 0;
        const digits = amount.toString().padStart(exponent + 1, '0');
        const major = exponent === 0 ? `${digits}${padding ? `.${padding}` : ''}` : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}${padding}`;
        const result = normaliseEvent({ event_id: 'e', customer_id: 'c', type: 'order', occurred_at: NOW, order_id: 'o', amount: major, currency: code.toLowerCase() }, NOW);
        expect(result.ok && result.event.order).toEqual({ order_id: 'o', amount_minor: Number(amount), currency: code, item_count: 1 });
      }),
    );
  });

  it('never yields negative, fractional or capped-out minor units, whatever the amount', () => {
    const anyAmount = fc.oneof(
      fc.double(),
      fc.integer(),
      fc.string(),
      fc.tuple(fc.constantFrom('', '-', '+'), fc.bigInt({ min: 0n, max: 10n ** 16n }), fc.nat(9999)).map(([sign, whole, frac]) => `${sign}${whole}.${frac}`),
    );
    fc.assert(
      fc.property(anyAmount, fc.boolean(), currency, (amount, asMinor, code) => {
        const result = normaliseEvent(
          { event_id: 'e', customer_id: 'c', type: 'order', occurred_at: NOW, order_id: 'o', [asMinor ? 'amount_minor' : 'amount']: amount, currency: code },
          NOW,
        );
        if (result.ok) {
          const value = result.event.order?.amount_minor ?? -1;
          expect(Number.isSafeInteger(value)).toBe(true);
          expect(value).toBeGreaterThanOrEqual(0);
          expect(value).toBeLessThanOrEqual(MAX_AMOUNT_MINOR);
        } else {
          expect(result.rejection.code).toMatch(/^TS_ERR_INGEST_(INVALID_AMOUNT|NEGATIVE_AMOUNT|AMOUNT_TOO_LARGE|INVALID_FIELD)$/);
        }
      }),
    );
  });

  it('reads the same instant from a local time in any UTC offset', () => {
    const offsetMinutes = fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 });
    fc.assert(
      fc.property(fc.integer({ min: MIN_EVENT_TIME, max: NOW }), offsetMinutes, fc.boolean(), (instant, offset, colon) => {
        const local = new Date(instant + offset * 60_000).toISOString().slice(0, 23);
        const abs = Math.abs(offset);
        const zone = `${offset < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}${colon ? ':' : ''}${String(abs % 60).padStart(2, '0')}`;
        expect(parseEventTime(`${local}${zone}`, 'occurred_at')).toEqual({ ok: true, value: instant });
      }),
    );
  });

  it('never throws on any JSON value and always says why it rejects', () => {
    const fields = fc.dictionary(
      fc.constantFrom('event_id', 'customer_id', 'type', 'occurred_at', 'event_time', 'amount', 'amount_minor', 'currency', 'order_id', 'order', 'refund', 'feedback', 'attributes', 'score', 'feedback_kind', 'item_count'),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fields), (input) => {
        const result = normaliseEvent(input, NOW);
        if (result.ok) expect(schema.isValid(result.event)).toBe(true);
        else {
          expect(result.rejection.code).toMatch(/^TS_ERR_INGEST_[A-Z_]+$/);
          expect(result.rejection.message.length).toBeGreaterThan(0);
        }
      }),
    );
  });
});
