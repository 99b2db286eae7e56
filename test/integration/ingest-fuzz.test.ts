import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { ErrorCodes } from '@tierstream/runtime';
import { counterSample, startIngestSuite, type IngestSuite } from '../support/ingest-suite';
import { uniqueName, waitFor } from '../support/test-stack';

/**
 * Issue 9: a fast-check fuzz test of both ingest paths against a real worker on the real
 * stack. Every input is accepted and normalised, or rejected with a documented code; never
 * a crash, a hang or a 500; every raw record ends up exactly once on customer.events.v1 or
 * on the DLQ. FUZZ_SEED and FUZZ_RUNS replay or widen a run.
 */
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261201);
const KAFKA_RUNS = Number(process.env['FUZZ_RUNS'] ?? 300);
const HTTP_RUNS = Math.max(1, Math.round(KAFKA_RUNS / 2));

/** The codes the project documents: headings of docs/errors.md that are codes of codes.ts. */
function documentedCodes(): Set<string> {
  const doc = fs.readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'errors.md'), 'utf8');
  const headings = [...doc.matchAll(/^## (TS_ERR_[A-Z_]+)\s*$/gm)].map((m) => m[1] ?? '');
  return new Set(headings.filter((h) => Object.prototype.hasOwnProperty.call(ErrorCodes, h)));
}

const NOW = Date.now();
const iso = (offsetMs: number): string => new Date(NOW + offsetMs).toISOString();

/** Nesting as text, built without recursion: arrays, objects or both, up to 6,000 levels. */
const deepText = fc.record({ depth: fc.integer({ min: 1, max: 6000 }), kind: fc.constantFrom('array', 'object', 'mixed') }).map(({ depth, kind }) => {
  const open: string[] = [];
  const close: string[] = [];
  for (let i = 0; i < depth; i++) {
    const object = kind === 'object' || (kind === 'mixed' && i % 2 === 1);
    open.push(object ? '{"k":' : '[');
    close.push(object ? '}' : ']');
  }
  return `${open.join('')}1${close.reverse().join('')}`;
});

/** Number tokens as an upstream may write them: plain, with exponents, beyond a double's digits. */
const numberToken = fc.oneof(
  fc.constantFrom('1e2', '12.5e-1', '1e-400', '1E+2', '-0', '12.50', '1.0000000000000001', '100', '0.001', '-3', '9007199254740993', '1e21'),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.integer().map(String),
);

const anyText = fc.oneof(fc.string(), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }));

/** The event an upstream might send, as fields and raw JSON tokens to splice in (exponents, deep values). */
interface EventDraft {
  readonly fields: Record<string, unknown>;
  readonly tokens: Record<string, string>;
}

const validDraft = fc.oneof(
  fc.record({ amount: fc.constantFrom('12.34', '0.00', '1299', ' 7.10 '), currency: fc.constantFrom('USD', 'cny', 'JPY', 'bhd') }).map((m) => ({
    type: 'order',
    order_id: 'o-1',
    ...m,
    ...(m.currency === 'JPY' || m.currency === 'bhd' ? { amount: '1299' } : {}),
  })),
  fc.constant({ type: 'refund', order_id: 'o-1', amount_minor: 250, currency: 'EUR' }),
  fc.constantFrom('visit', 'support_contact', 'campaign_response', 'OTHER').map((kind) => ({ type: 'interaction', interaction_kind: kind })),
  fc.integer({ min: 1, max: 5 }).map((score) => ({ type: 'feedback', feedback_kind: 'satisfaction', score })),
  anyText.map((v) => ({ type: 'profile_update', attributes: { tier_hint: v } })),
);

/** Changes that make a structurally valid event semantically wrong (or leave it right). */
const mutation: fc.Arbitrary<(d: EventDraft) => EventDraft> = fc.oneof(
  fc.oneof(fc.constantFrom('ZZZ', 'XAU', '', ' ', 'usd '), anyText, fc.integer()).map((currency) => (d: EventDraft) => ({ ...d, fields: { ...d.fields, currency } })),
  fc.oneof(fc.constantFrom('-1.00', '-0.01', '1e3', '1,000.00', '$5', '12.345'), fc.integer({ min: -1000, max: -1 })).map((amount) => (d: EventDraft) => ({ ...d, fields: { ...d.fields, amount } })),
  fc
    .record({ token: numberToken, field: fc.constantFrom('amount', 'amount_minor') })
    .map(({ token, field }) => (d: EventDraft) => ({ fields: { ...d.fields, amount_minor: undefined, amount: undefined }, tokens: { ...d.tokens, [field]: token } })),
  fc
    .oneof(
      fc.constantFrom('2026-13-45T00:00:00Z', '2026-03-01T08:30:00', 'yesterday', '', iso(3 * 86_400_000), '1999-12-31T23:59:59Z', String(Math.floor(NOW / 1000))),
      fc.integer(),
      fc.double(),
      anyText,
    )
    .map((occurred_at) => (d: EventDraft) => ({ ...d, fields: { ...d.fields, occurred_at } })),
  fc
    .record({ field: fc.constantFrom('type', 'customer_id', 'order_id', 'score', 'item_count', 'attributes', 'channel', 'order', 'feedback_kind'), value: fc.jsonValue({ maxDepth: 3 }) })
    .map(({ field, value }) => (d: EventDraft) => ({ ...d, fields: { ...d.fields, [field]: value } })),
  fc.integer({ min: 1000, max: 70_000 }).map((n) => (d: EventDraft) => ({ ...d, fields: { ...d.fields, comment: 'x'.repeat(n), channel: 'ü'.repeat(n % 300) } })),
  // The suffix keeps the input's marker at the start of its id (an id already removed stays removed).
  fc.record({ suffix: anyText, customer: anyText }).map(({ suffix, customer }) => (d: EventDraft) => {
    const id = d.fields['event_id'];
    return { ...d, fields: { ...d.fields, ...(typeof id === 'string' ? { event_id: `${id}${suffix}` } : {}), customer_id: customer } };
  }),
  fc.subarray(['event_id', 'customer_id', 'type', 'occurred_at', 'currency', 'amount', 'order_id']).map((keys) => (d: EventDraft) => ({
    ...d,
    fields: Object.fromEntries(Object.entries(d.fields).filter(([k]) => !keys.includes(k))),
  })),
  deepText.map((deep) => (d: EventDraft) => ({ ...d, tokens: { ...d.tokens, junk: deep } })),
  fc.constant((d: EventDraft) => d),
);

/** A draft event for input number `n`: its event_id starts with a marker unique to it (`<prefix><n>~`). */
const eventText = (prefix: string, n: number): fc.Arbitrary<string> =>
  fc.tuple(validDraft, fc.array(mutation, { maxLength: 3 })).map(([fields, mutations]) => {
    let draft: EventDraft = { fields: { event_id: `${prefix}${n}~`, customer_id: `c-${n % 17}`, occurred_at: iso(-3_600_000), ...fields }, tokens: {} };
    for (const m of mutations) draft = m(draft);
    const placeholders = Object.keys(draft.tokens).map((k) => [k, `@@token-${k}@@`] as const);
    let text = JSON.stringify({ ...draft.fields, ...Object.fromEntries(placeholders) });
    for (const [k, placeholder] of placeholders) text = text.replace(JSON.stringify(placeholder), draft.tokens[k] ?? 'null');
    return text;
  });

/** One raw record's value: arbitrary bytes, arbitrary JSON, deep nesting, or an event (valid or not). */
const rawValue = (prefix: string, n: number): fc.Arbitrary<Buffer> =>
  fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
    { weight: 1, arbitrary: fc.tuple(fc.constant(0), fc.uint8Array({ minLength: 0, maxLength: 60 })).map(([zero, rest]) => Buffer.from([zero, ...rest])) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 4 }).map((t) => Buffer.from(t)) },
    { weight: 1, arbitrary: deepText.map((t) => Buffer.from(t)) },
    { weight: 6, arbitrary: eventText(prefix, n).map((t) => Buffer.from(t)) },
  );

/** A POST /v1/events body: arbitrary bytes or JSON, deep nesting, or an array of events (valid or not). */
const httpBody = (prefix: string, n: number): fc.Arbitrary<{ body: Buffer; events?: number }> =>
  fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => ({ body: Buffer.from(b) })) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 4 }).map((t) => ({ body: Buffer.from(t) })) },
    { weight: 1, arbitrary: deepText.map((t) => ({ body: Buffer.from(`[${t}]`), events: 1 })) },
    {
      weight: 5,
      arbitrary: fc.integer({ min: 1, max: 12 }).chain((count) =>
        fc.tuple(...Array.from({ length: count }, (_, i) => eventText(`${prefix}${n}.`, i))).map((texts) => ({ body: Buffer.from(`[${texts.join(',')}]`), events: count })),
      ),
    },
  );

const shown = (b: Buffer): string => JSON.stringify(b.toString('utf8').slice(0, 300));

describe('ingest fuzz: every input accepted or rejected with a documented code (real stack)', () => {
  let suite: IngestSuite;
  const codes = documentedCodes();
  const run = uniqueName('fuzz');

  beforeAll(async () => {
    process.stdout.write(`ingest fuzz: seed ${SEED}, ${KAFKA_RUNS} raw records, ${HTTP_RUNS} requests (FUZZ_SEED, FUZZ_RUNS to change)\n`);
    suite = await startIngestSuite('ingest-fuzz');
  });

  afterAll(async () => {
    await suite?.close();
  });

  it('documents the codes it checks against', () => {
    expect(codes.has('TS_ERR_INGEST_TOO_DEEP')).toBe(true);
    expect(codes.has('TS_ERR_INGEST_INVALID_AMOUNT')).toBe(true);
  });

  it('POST /v1/events: every body is answered 202, 400 or 413 with documented codes, never 5xx or a hang', async () => {
    let n = 0;
    let accepted = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.integer().chain(() => httpBody(`${run}-h`, n++)),
        async ({ body, events }) => {
          const res = await fetch(`${suite.baseUrl}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(20_000) });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const answer = (await res.json()) as { error?: { code: string; message: string }; accepted?: number; duplicates?: number; rejected?: { code: string; message: string }[] };
          const context = `status ${res.status} ${JSON.stringify(answer).slice(0, 300)} for ${shown(body)}`;
          expect([202, 400, 413]).toContain(res.status);
          if (res.status !== 202) {
            expect(codes.has(answer.error?.code ?? '')).toBe(true);
            expect(answer.error?.message).toMatch(/\S/);
            return;
          }
          for (const r of answer.rejected ?? []) {
            if (!codes.has(r.code)) throw new Error(`undocumented code ${r.code}: ${context}`);
            expect(r.message).toMatch(/\S/);
          }
          if (events !== undefined) expect((answer.accepted ?? 0) + (answer.duplicates ?? 0) + (answer.rejected?.length ?? 0)).toBe(events);
          accepted += answer.accepted ?? 0;
        },
      ),
      { seed: SEED, numRuns: HTTP_RUNS, endOnFailure: true },
    );
    // What was answered as accepted is on the topic, once.
    const produced = () => suite.events.records.filter((r) => r.value.event_id.startsWith(`${run}-h`)).length;
    await waitFor(() => (produced() >= accepted ? true : undefined), 60_000, `${accepted} accepted HTTP events on the events topic`);
    expect(produced()).toBe(accepted);
    process.stdout.write(`ingest fuzz, HTTP: ${HTTP_RUNS} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}, ${accepted} events accepted\n`);
  });

  it('customer.events.raw: every record ends up exactly once on customer.events.v1 or the DLQ, with a documented code', async () => {
    const values = Array.from({ length: KAFKA_RUNS }, (_, n) => fc.sample(rawValue(`${run}-k`, n), { seed: SEED + n, numRuns: 1 })[0] ?? Buffer.alloc(0));
    const placed: { n: number; partition: number; offset: number; value: Buffer }[] = [];
    const chunk = 40;
    for (let i = 0; i < values.length; i += chunk) {
      const messages = values.slice(i, i + chunk).map((value, j) => ({ key: `k-${i + j}`, value, partition: (i + j) % 3 }));
      const metas = await suite.producer.send({ topic: suite.topics.raw, acks: -1, messages });
      // One send to several partitions answers per partition with the base offset of its records, in send order.
      const next = new Map(metas.map((m) => [m.partition, Number(m.baseOffset)]));
      for (const [j, m] of messages.entries()) {
        const offset = next.get(m.partition) ?? NaN;
        next.set(m.partition, offset + 1);
        placed.push({ n: i + j, partition: m.partition, offset, value: m.value });
      }
    }
    const marker = (n: number): string => `${run}-k${n}~`;
    const onEvents = (n: number) => suite.events.records.filter((r) => r.value.event_id.startsWith(marker(n))).length;
    const onDlq = (p: { partition: number; offset: number }) =>
      suite.dlq.records.filter((r) => r.value.source_topic === suite.topics.raw && r.value.source_partition === p.partition && r.value.source_offset === p.offset);
    const settled = () => placed.every((p) => onEvents(p.n) + onDlq(p).length > 0);
    await waitFor(() => (settled() ? true : undefined), 90_000, `all ${placed.length} raw records on the events topic or the DLQ`);
    await new Promise((r) => setTimeout(r, 2000)); // room for a copy that should not exist

    const reasons = new Map<string, number>();
    for (const p of placed) {
      const letters = onDlq(p);
      const events = onEvents(p.n);
      if (events + letters.length !== 1) throw new Error(`record ${p.n} at ${p.partition}:${p.offset} is on the events topic ${events} times and on the DLQ ${letters.length} times: ${shown(p.value)}`);
      for (const l of letters) {
        if (!codes.has(l.value.error_code)) throw new Error(`undocumented code ${l.value.error_code} for record ${p.n}: ${shown(p.value)}`);
        expect(l.value.original_value ?? Buffer.alloc(0)).toEqual(p.value);
        reasons.set(l.value.error_code, (reasons.get(l.value.error_code) ?? 0) + 1);
      }
    }
    const acceptedCount = placed.filter((p) => onEvents(p.n) === 1).length;
    process.stdout.write(`ingest fuzz, Kafka: ${placed.length} records, ${acceptedCount} accepted, dead letters ${JSON.stringify(Object.fromEntries(reasons))}\n`);
    expect(acceptedCount).toBeGreaterThan(0);
  });

  it('leaves the worker alive and ready, with no 500 counted', async () => {
    expect((await fetch(`${suite.baseUrl}/healthz`)).status).toBe(200);
    // Readiness probes the shared registry with a 1.5 s timeout, which a loaded stack can miss once.
    await waitFor(async () => ((await fetch(`${suite.baseUrl}/readyz`)).status === 200 ? true : undefined), 30_000, 'the worker ready');
    expect(await counterSample(suite.baseUrl, 'tierstream_ingest_http_requests_total', { status: '500' })).toBe(0);
  });
});
