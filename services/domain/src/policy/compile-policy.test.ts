import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { compilePolicy, PolicyError } from './compile-policy';

const DEFAULT_POLICY = path.join(__dirname, '../../../../policies/default.yaml');
const FILE = 'policies/x.yaml';

/** A small valid policy; each test edits it in one place. */
const BASE = `
id: x
version: "3"
currency: CNY
fx_rates: { USD: 7.1 }
metrics:
  spend_90d:    { sum: order.amount, window: 90d }
  refunds_90d:  { sum: refund.amount, window: 90d }
  orders_90d:   { count: ORDER, window: 90d }
  recency_days: { recency: ORDER }
  refund_rate:  { ratio: [refunds_90d, spend_90d] }
  items_30d:    { sum: order.items, window: 30d }
  aov_90d:      { ratio: [spend_90d, orders_90d] }
scoring:
  rfm:
    recency:   { metric: recency_days, cuts: [30, 60, 120, 240] }
    frequency: { metric: orders_90d, cuts: [1, 2, 4, 8] }
    monetary:  { metric: spend_90d, cuts: [100, 200, 400, 800] }
  weights: { rfm_r: 1, rfm_m: 2 }
  points:
    - { when: "refund_rate > 0.5", points: -3 }
dimensions:
  value:
    tiers:
      - { name: high, when: "spend_90d >= 1000" }
      - { name: mid,  when: "spend_90d >= 100" }
      - { name: low,  when: "spend_90d >= 1" }
      - { name: none, when: "true" }
carry_attributes: [city]
`;

/** BASE with every `[from, to]` replacement applied; a replacement that matches nothing fails the test. */
function edited(...edits: readonly (readonly [string, string])[]): string {
  let text = BASE;
  for (const [from, to] of edits) {
    if (!text.includes(from)) throw new Error(`test bug: '${from}' is not in the base policy`);
    text = text.replace(from, to);
  }
  return text;
}

const compileText = (text: string) => compilePolicy(parse(text), FILE);

function policyError(text: string): PolicyError {
  try {
    compileText(text);
  } catch (err) {
    if (err instanceof PolicyError) return err;
    throw err;
  }
  throw new Error('expected a PolicyError, the policy compiled');
}

/** The error's lines, each "file: path: reason". */
const linesOf = (text: string): string[] => policyError(text).message.split('\n');

describe('compilePolicy: policies/default.yaml', () => {
  const policy = compilePolicy(parse(readFileSync(DEFAULT_POLICY, 'utf8')), 'policies/default.yaml');

  it('compiles with its identity, currency and fx rates', () => {
    expect(policy.id).toBe('default');
    expect(policy.version).toBe('2');
    expect(policy.currency).toBe('CNY');
    expect(policy.fxRates).toEqual({ USD: 7.1, EUR: 7.8, HKD: 0.91 });
    expect(policy.carryAttributes).toEqual(['city']);
  });

  it('keeps every metric, the longest window and the RFM axes', () => {
    expect(policy.metrics.map((m) => m.name)).toEqual([
      'spend_30d', 'spend_90d', 'spend_365d', 'spend_lifetime', 'refunds_90d', 'orders_90d', 'orders_365d', 'max_order_365d',
      'interactions_90d', 'visits_30d', 'complaints_90d', 'channels_90d', 'satisfaction', 'recency_days', 'refund_rate_90d',
    ]);
    expect(policy.metrics.find((m) => m.name === 'spend_lifetime')).toEqual({ name: 'spend_lifetime', kind: 'sum', source: 'order.amount', window: null });
    expect(policy.maxWindowDays).toBe(365);
    expect(policy.scoring.rfm?.recency).toEqual({ metric: 'recency_days', cuts: [30, 60, 120, 240], lowerIsBetter: true });
    expect(policy.scoring.rfm?.monetary.lowerIsBetter).toBe(false);
    expect(policy.scoring.weights).toEqual({ rfm_r: 5, rfm_f: 6, rfm_m: 9 });
    expect(policy.scoring.points.map((p) => [p.when.source, p.points])).toEqual([
      ['complaints_90d > 0', -10],
      ['refund_rate_90d > 0.3', -15],
      ['satisfaction >= 4 && orders_90d > 0', 5],
    ]);
  });

  it('keeps the dimensions in order, best tier first, with rule ids and ordering', () => {
    expect(policy.dimensions.map((d) => [d.name, d.ordered, d.tiers.map((t) => t.name)])).toEqual([
      ['value', true, ['vip', 'high', 'mid', 'low']],
      ['rfm_segment', false, ['champions', 'loyal', 'big_spender', 'at_risk', 'new', 'hibernating', 'regular']],
      ['membership', true, ['gold', 'silver', 'normal']],
      ['potential', true, ['potential', 'engaged', 'none']],
    ]);
    expect(policy.dimensions[0]?.tiers[0]?.ruleId).toBe('value.vip');
    expect(policy.dimensions[0]?.tiers[0]?.when.identifiers).toEqual(['score', 'spend_365d']);
  });

  it('keeps value and membership with hysteresis, and the lifecycle deadlines', () => {
    expect(policy.dimensions.map((d) => [d.name, d.hysteresis.graceDays, d.hysteresis.minDaysBetweenChanges, d.tiers.map((t) => t.keepWhen?.source ?? null)])).toEqual([
      ['value', 30, 7, ['spend_365d >= 900000 && score >= 75', 'spend_365d >= 270000', 'spend_365d >= 45000', null]],
      ['rfm_segment', 0, 0, [null, null, null, null, null, null, null]],
      ['membership', 365, 30, ['spend_365d >= 450000 && orders_365d >= 5', 'spend_365d >= 90000 && orders_365d >= 2', null]],
      ['potential', 0, 0, [null, null, null]],
    ]);
    expect(policy.lifecycle).toEqual({ newForDays: 30, atRiskAfterDays: 60, churnedAfterDays: 180, reactivatedForDays: 30 });
  });
});

describe('compilePolicy: a valid policy', () => {
  it('compiles the test base policy', () => {
    const policy = compileText(BASE);
    expect(policy.version).toBe('3');
    expect(policy.maxWindowDays).toBe(90);
    expect(policy.metrics.find((m) => m.name === 'refund_rate')).toEqual({ name: 'refund_rate', kind: 'ratio', numerator: 'refunds_90d', denominator: 'spend_90d' });
  });

  it('accepts a numeric version, a boolean fallback and ordered: false', () => {
    const policy = compileText(
      edited(['version: "3"', 'version: 4'], ['when: "true"', 'when: true'], ['value:\n    tiers:', 'value:\n    ordered: false\n    tiers:']),
    );
    expect(policy.version).toBe('4');
    expect(policy.dimensions[0]?.ordered).toBe(false);
    expect(policy.dimensions[0]?.tiers[3]?.when.source).toBe('true');
  });

  it('takes lifetime as the default window and maxWindowDays of at least 1', () => {
    const policy = compileText(
      edited(
        ['spend_90d:    { sum: order.amount, window: 90d }', 'spend_90d:    { sum: order.amount }'],
        ['refunds_90d:  { sum: refund.amount, window: 90d }', 'refunds_90d:  { sum: refund.amount, window: lifetime }'],
        ['orders_90d:   { count: ORDER, window: 90d }', 'orders_90d:   { count: ORDER }'],
        ['items_30d:    { sum: order.items, window: 30d }', 'items_30d:    { sum: order.items }'],
      ),
    );
    expect(policy.metrics.filter((m) => 'window' in m).map((m) => ('window' in m ? m.window : undefined))).toEqual([null, null, null, null]);
    expect(policy.maxWindowDays).toBe(1);
  });

  it('lets rules read rfm_r/rfm_f/rfm_m/points/score, and points rules read rfm_*', () => {
    expect(() =>
      compileText(
        edited(
          ['spend_90d >= 1000"', 'spend_90d >= 1000 && score >= 10.5 && points > -1 && rfm_r + rfm_f + rfm_m >= 12.0"'],
          ['refund_rate > 0.5"', 'refund_rate > 0.5 && rfm_m >= 3"'],
        ),
      ),
    ).not.toThrow();
  });
});

describe('compilePolicy: precise errors, "file: path: reason"', () => {
  it('names an unknown metric in a tier rule', () => {
    expect(linesOf(edited(['spend_90d >= 1"', 'spend_91d >= 1"']))).toEqual([`${FILE}: dimensions.value.tiers[2].when: unknown metric 'spend_91d'`]);
  });

  it('names an unknown metric in a ratio, on the side it is', () => {
    expect(linesOf(edited(['[refunds_90d, spend_90d]', '[refunds_91d, spend_90d]']))).toEqual([`${FILE}: metrics.refund_rate.ratio[0]: unknown metric 'refunds_91d'`]);
    expect(linesOf(edited(['[refunds_90d, spend_90d]', '[refunds_90d, spend_91d]']))).toEqual([`${FILE}: metrics.refund_rate.ratio[1]: unknown metric 'spend_91d'`]);
  });

  it('rejects a ratio that is not a pair of names', () => {
    expect(linesOf(edited(['[spend_90d, orders_90d]', '[spend_90d]']))).toEqual([`${FILE}: metrics.aov_90d.ratio: must be [numerator metric, denominator metric]`]);
  });

  it('names an unknown metric in rfm', () => {
    expect(linesOf(edited(['{ metric: spend_90d, cuts', '{ metric: spend_91d, cuts']))).toEqual([`${FILE}: scoring.rfm.monetary.metric: unknown metric 'spend_91d'`]);
  });

  it('names an unknown variable in weights', () => {
    expect(linesOf(edited(['{ rfm_r: 1, rfm_m: 2 }', '{ rfm_r: 1, spend_91d: 2 }']))).toEqual([`${FILE}: scoring.weights.spend_91d: unknown metric 'spend_91d'`]);
  });

  it('does not let weights or points read points or score (they are what is being computed)', () => {
    expect(linesOf(edited(['{ rfm_r: 1, rfm_m: 2 }', '{ score: 1 }']))).toEqual([`${FILE}: scoring.weights.score: unknown metric 'score'`]);
    expect(linesOf(edited(['refund_rate > 0.5"', 'points > 0"']))).toEqual([`${FILE}: scoring.points[0].when: unknown metric 'points'`]);
  });

  it('names an unknown metric in a points rule and a non-numeric weight or points', () => {
    expect(linesOf(edited(['refund_rate > 0.5"', 'refund_rate_91d > 0.5"']))).toEqual([`${FILE}: scoring.points[0].when: unknown metric 'refund_rate_91d'`]);
    expect(linesOf(edited(['rfm_m: 2 }', 'rfm_m: lots }']))).toEqual([`${FILE}: scoring.weights.rfm_m: must be a number, got "lots"`]);
    expect(linesOf(edited(['points: -3 }', 'points: many }']))).toEqual([`${FILE}: scoring.points[0].points: must be a number, got "many"`]);
  });

  it.each([['90days'], ['0d'], ['3661d'], ['-5d'], ['1.5d']])('rejects the window %s', (window) => {
    expect(linesOf(edited(['sum: order.items, window: 30d', `sum: order.items, window: ${window}`]))).toEqual([
      `${FILE}: metrics.items_30d.window: must be '<days>d' (1d to 3660d) or 'lifetime', got "${window}"`,
    ]);
  });

  it('rejects a window given as a bare number', () => {
    expect(linesOf(edited(['sum: order.items, window: 30d', 'sum: order.items, window: 30']))).toEqual([
      `${FILE}: metrics.items_30d.window: must be '<days>d' (1d to 3660d) or 'lifetime', got 30`,
    ]);
  });

  it('accepts the window bounds 1d and 3660d', () => {
    expect(compileText(edited(['sum: order.amount, window: 90d', 'sum: order.amount, window: 3660d'])).maxWindowDays).toBe(3660);
    expect(() => compileText(edited(['sum: order.amount, window: 90d', 'sum: order.amount, window: 1d']))).not.toThrow();
  });

  // BUG: `window` is accepted on every kind but only read for sum/count/max/distinct. On
  // last/recency/ratio it is silently ignored, even when malformed: `{ last: feedback.score,
  // window: 30d }` loads and means "the last score ever", not "in 30 days". It should be
  // reported as an unknown field (or be honoured).
  it('rejects a window on a kind that has none (last, recency, ratio)', () => {
    const text = edited(['recency_days: { recency: ORDER }', 'recency_days: { recency: ORDER, window: 30d }'], ['ratio: [refunds_90d, spend_90d] }', 'ratio: [refunds_90d, spend_90d], window: banana }']);
    const lines = linesOf(text);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^policies\/x\.yaml: metrics\.recency_days\.window: /);
    expect(lines[1]).toMatch(/^policies\/x\.yaml: metrics\.refund_rate\.window: /);
  });

  // BUG: a metric whose definition is invalid is dropped from the known names, so every rule,
  // ratio and RFM axis that reads it is also reported as "unknown metric 'spend_90d'" although
  // the file defines it. One typo in a window gives six lines, five of them misleading; the
  // name should stay known (only its definition is wrong).
  it('reports a defined but invalid metric once, not as unknown wherever it is read', () => {
    expect(linesOf(edited(['sum: order.amount, window: 90d', 'sum: order.amount, window: 90days']))).toEqual([
      `${FILE}: metrics.spend_90d.window: must be '<days>d' (1d to 3660d) or 'lifetime', got "90days"`,
    ]);
  });

  it('names an unknown source, with the allowed ones', () => {
    expect(linesOf(edited(['sum: order.items, window: 30d', 'sum: order.total, window: 30d']))).toEqual([
      `${FILE}: metrics.items_30d.sum: must be one of order.amount, refund.amount, order.items, got "order.total"`,
    ]);
    expect(linesOf(edited(['{ sum: order.items, window: 30d }', '{ count: PURCHASE, window: 30d }']))).toEqual([
      `${FILE}: metrics.items_30d.count: must be one of ORDER, REFUND, INTERACTION, FEEDBACK, PROFILE_UPDATE, VISIT, SUPPORT_CONTACT, CAMPAIGN_RESPONSE, COMPLAINT, SATISFACTION, ANY, got "PURCHASE"`,
    ]);
    expect(linesOf(edited(['recency: ORDER', 'recency: order']))[0]).toMatch(/^policies\/x\.yaml: metrics\.recency_days\.recency: must be one of ORDER, .*got "order"$/);
  });

  it('rejects two kinds in one metric, and none', () => {
    const reason = 'must name exactly one of sum, count, max, distinct, last, recency, ratio';
    expect(linesOf(edited(['{ sum: order.items, window: 30d }', '{ sum: order.items, count: ORDER, window: 30d }']))).toEqual([`${FILE}: metrics.items_30d: ${reason}`]);
    expect(linesOf(edited(['{ sum: order.items, window: 30d }', '{ window: 30d }']))).toEqual([`${FILE}: metrics.items_30d: ${reason}`]);
  });

  it('rejects an unknown field in a metric, and bad or reserved metric names', () => {
    expect(linesOf(edited(['{ count: ORDER, window: 90d }', '{ count: ORDER, window: 90d, colour: red }']))).toEqual([
      `${FILE}: metrics.orders_90d.colour: unknown field (known: count, window, doc)`,
    ]);
    expect(linesOf(edited(['metrics:\n', 'metrics:\n  Spend: { sum: order.amount }\n']))).toEqual([`${FILE}: metrics.Spend: a metric name is lower_snake_case`]);
    expect(linesOf(edited(['metrics:\n', 'metrics:\n  score: { sum: order.amount }\n']))).toEqual([`${FILE}: metrics.score: 'score' is reserved`]);
  });

  it('rejects a tier listed twice', () => {
    expect(linesOf(edited(['name: mid,', 'name: high,']))).toEqual([`${FILE}: dimensions.value.tiers[1].name: tier 'high' is listed twice`]);
  });

  it("rejects a last tier that is not the fallback 'true'", () => {
    expect(linesOf(edited(['when: "true"', 'when: "spend_90d >= 0"']))).toEqual([`${FILE}: dimensions.value.tiers[3].when: the last tier must be the fallback: when: 'true'`]);
  });

  it('rejects a dimension with fewer than two tiers, and a bad tier name', () => {
    const single = edited(['carry_attributes: [city]', '  solo:\n    tiers:\n      - { name: only, when: "true" }\ncarry_attributes: [city]']);
    expect(linesOf(single)).toEqual([`${FILE}: dimensions.solo.tiers: must list at least two tiers, best first`]);
    expect(linesOf(edited(['name: mid,', 'name: Mid,']))).toEqual([`${FILE}: dimensions.value.tiers[1].name: must be a lower-case tier name`]);
  });

  it('rejects a rule that is not CEL, with the parser position', () => {
    const lines = linesOf(edited(['spend_90d >= 1000"', 'spend_90d >= >= 1000"']));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^policies\/x\.yaml: dimensions\.value\.tiers\[0\]\.when: not a CEL expression: <input>:1:\d+: /);
    expect(linesOf(edited(['when: "spend_90d >= 100"', 'when: ""']))).toEqual([`${FILE}: dimensions.value.tiers[1].when: must be a CEL expression`]);
  });

  // BUG: a rule is only parsed at load, never type-checked or trial-evaluated, so a rule that
  // cannot yield true/false loads fine and then throws CelRuleError on every evaluation:
  // scoring fails for every customer. Metrics are CEL doubles, so `spend_90d * 2` has no
  // overload (double * int), and a bare `spend_90d` is a number, not a condition.
  it('rejects at load a tier rule that is not a condition (a bare metric)', () => {
    expect(linesOf(edited(['when: "spend_90d >= 100"', 'when: "spend_90d"']))).toEqual([expect.stringMatching(/^policies\/x\.yaml: dimensions\.value\.tiers\[1\]\.when: /)]);
  });

  it('rejects at load a rule with int arithmetic on a double metric (spend_90d * 2)', () => {
    expect(linesOf(edited(['when: "spend_90d >= 100"', 'when: "spend_90d * 2 >= 100"']))).toEqual([expect.stringMatching(/^policies\/x\.yaml: dimensions\.value\.tiers\[1\]\.when: /)]);
  });

  it('rejects an unknown top-level field, naming it and the known ones', () => {
    const lines = linesOf(`${BASE}colour: blue\n`);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^policies\/x\.yaml: (\(root\)\.)?colour: unknown field \(known: id, version, currency, fx_rates, metrics, scoring, dimensions, lifecycle, clock, carry_attributes, description\)$/);
  });

  it('rejects unknown fields in scoring, rfm axes, dimensions and tiers', () => {
    expect(linesOf(edited(['  weights:', '  bonus: 1\n  weights:']))).toEqual([`${FILE}: scoring.bonus: unknown field (known: rfm, weights, points)`]);
    expect(linesOf(edited(['cuts: [30, 60, 120, 240] }', 'cuts: [30, 60, 120, 240], lower: true }']))).toEqual([
      `${FILE}: scoring.rfm.recency.lower: unknown field (known: metric, cuts, lower_is_better)`,
    ]);
    expect(linesOf(edited(['value:\n    tiers:', 'value:\n    order: false\n    tiers:']))).toEqual([`${FILE}: dimensions.value.order: unknown field (known: tiers, ordered, hysteresis, doc)`]);
    expect(linesOf(edited(['{ name: low,  when: "spend_90d >= 1" }', '{ name: low,  when: "spend_90d >= 1", points: 3 }']))).toEqual([
      `${FILE}: dimensions.value.tiers[2].points: unknown field (known: name, when, keep_when, doc)`,
    ]);
  });

  it('rejects rfm cuts that are not four ascending numbers', () => {
    expect(linesOf(edited(['cuts: [1, 2, 4, 8]', 'cuts: [1, 2, 4]']))).toEqual([`${FILE}: scoring.rfm.frequency.cuts: must be four numbers`]);
    expect(linesOf(edited(['cuts: [1, 2, 4, 8]', 'cuts: [1, 4, 2, 8]']))).toEqual([`${FILE}: scoring.rfm.frequency.cuts: must be ascending`]);
  });

  it.each([['yuan'], ['cny'], ['CNYX']])('rejects the currency %s', (code) => {
    expect(linesOf(edited(['currency: CNY', `currency: ${code}`]))).toEqual([`${FILE}: currency: must be an ISO-4217 code such as CNY, got '${code}'`]);
  });

  it('rejects bad fx rates', () => {
    expect(linesOf(edited(['{ USD: 7.1 }', '{ usd: 7.1, EUR: 0, HKD: "x" }']))).toEqual([
      `${FILE}: fx_rates.usd: must be an ISO-4217 code`,
      `${FILE}: fx_rates.EUR: must be positive`,
      `${FILE}: fx_rates.HKD: must be a number, got "x"`,
    ]);
  });

  it('rejects missing identity and a document that is not a mapping', () => {
    expect(linesOf(edited(['id: x\n', '']))).toEqual([`${FILE}: id: must be a non-empty string`]);
    expect(linesOf('- 1\n- 2\n')).toEqual([`${FILE}: (root): must be a mapping`]);
    expect(linesOf('id: x\nversion: "1"\ncurrency: CNY\n')).toEqual([
      `${FILE}: metrics: must be a non-empty mapping of metric name to definition`,
      `${FILE}: dimensions: must be a non-empty mapping of dimension name to tiers`,
    ]);
  });

  it('reports several problems at once, in document order, as structured problems too', () => {
    const err = policyError(
      edited(
        ['currency: CNY', 'currency: yuan'],
        ['sum: order.items, window: 30d', 'sum: order.items, window: 30days'],
        ['[refunds_90d, spend_90d]', '[refunds_90d, spend_91d]'],
        ['spend_90d >= 1"', 'spend_91d >= 1"'],
        ['name: mid,', 'name: high,'],
      ),
    );
    expect(err.file).toBe(FILE);
    expect(err.name).toBe('PolicyError');
    expect(err.problems).toEqual([
      { path: 'currency', reason: "must be an ISO-4217 code such as CNY, got 'yuan'" },
      { path: 'metrics.items_30d.window', reason: `must be '<days>d' (1d to 3660d) or 'lifetime', got "30days"` },
      { path: 'metrics.refund_rate.ratio[1]', reason: "unknown metric 'spend_91d'" },
      { path: 'dimensions.value.tiers[1].name', reason: "tier 'high' is listed twice" },
      { path: 'dimensions.value.tiers[2].when', reason: "unknown metric 'spend_91d'" },
    ]);
    expect(err.message.split('\n')).toEqual(err.problems.map((p) => `${FILE}: ${p.path}: ${p.reason}`));
  });
});

describe('compilePolicy: hysteresis and keep_when', () => {
  const withHysteresis = (hysteresis: string, keep = 'keep_when: "spend_90d >= 900"'): string =>
    edited(['value:\n    tiers:', `value:\n    hysteresis: ${hysteresis}\n    tiers:`], ['{ name: high, when: "spend_90d >= 1000" }', `{ name: high, when: "spend_90d >= 1000", ${keep} }`]);

  it('compiles grace_days, min_days_between_changes and keep_when; without them there is no hysteresis', () => {
    const policy = compileText(withHysteresis('{ grace_days: 30, min_days_between_changes: 7 }'));
    const value = policy.dimensions[0];
    expect(value?.hysteresis).toEqual({ graceDays: 30, minDaysBetweenChanges: 7 });
    expect(value?.tiers[0]?.keepWhen?.source).toBe('spend_90d >= 900');
    expect(value?.tiers[1]?.keepWhen).toBeUndefined();
    expect(compileText(withHysteresis('{ grace_days: 5 }')).dimensions[0]?.hysteresis).toEqual({ graceDays: 5, minDaysBetweenChanges: 0 });
    expect(compileText(BASE).dimensions[0]?.hysteresis).toEqual({ graceDays: 0, minDaysBetweenChanges: 0 });
  });

  it('rejects days that are not whole numbers from 0 to 3660, and unknown fields', () => {
    expect(linesOf(withHysteresis('{ grace_days: -1, min_days_between_changes: 7.5 }'))).toEqual([
      `${FILE}: dimensions.value.hysteresis.grace_days: must be a whole number of days from 0 to 3660, got -1`,
      `${FILE}: dimensions.value.hysteresis.min_days_between_changes: must be a whole number of days from 0 to 3660, got 7.5`,
    ]);
    expect(linesOf(withHysteresis('{ grace_days: "30d" }'))).toEqual([`${FILE}: dimensions.value.hysteresis.grace_days: must be a whole number of days from 0 to 3660, got "30d"`]);
    expect(linesOf(withHysteresis('{ grace: 30 }'))).toEqual([`${FILE}: dimensions.value.hysteresis.grace: unknown field (known: grace_days, min_days_between_changes)`]);
    expect(linesOf(withHysteresis('30'))).toEqual([`${FILE}: dimensions.value.hysteresis: must be a mapping with grace_days and/or min_days_between_changes`]);
  });

  it('checks keep_when like when: CEL, known variables, a condition', () => {
    expect(linesOf(withHysteresis('{}', 'keep_when: "spend_91d >= 900"'))).toEqual([`${FILE}: dimensions.value.tiers[0].keep_when: unknown metric 'spend_91d'`]);
    expect(linesOf(withHysteresis('{}', 'keep_when: "spend_90d"'))).toEqual([`${FILE}: dimensions.value.tiers[0].keep_when: 'spend_90d' must be true or false, got 1.5`]);
    expect(linesOf(withHysteresis('{}', 'keep_when: "spend_90d >="'))[0]).toMatch(/^policies\/x\.yaml: dimensions\.value\.tiers\[0\]\.keep_when: not a CEL expression: /);
    expect(linesOf(withHysteresis('{}', 'keep_when: ""'))).toEqual([`${FILE}: dimensions.value.tiers[0].keep_when: must be a CEL expression`]);
    expect(compileText(withHysteresis('{}', 'keep_when: "score >= 1 && rfm_r >= 2"')).dimensions[0]?.tiers[0]?.keepWhen?.identifiers).toEqual(['rfm_r', 'score']);
  });

  it('rejects keep_when on the fallback tier', () => {
    expect(linesOf(edited(['{ name: none, when: "true" }', '{ name: none, when: "true", keep_when: "true" }']))).toEqual([
      `${FILE}: dimensions.value.tiers[3].keep_when: the fallback tier is never lost, a keep_when on it has no effect`,
    ]);
  });
});

describe('compilePolicy: lifecycle', () => {
  const LIFE = 'lifecycle: { new_for_days: 30, at_risk_after_days: 60, churned_after_days: 180, reactivated_for_days: 30 }\n';

  it('compiles the deadlines; without the block there is no lifecycle', () => {
    expect(compileText(`${BASE}${LIFE}`).lifecycle).toEqual({ newForDays: 30, atRiskAfterDays: 60, churnedAfterDays: 180, reactivatedForDays: 30 });
    expect(compileText(BASE).lifecycle).toBeUndefined();
  });

  it('requires every deadline as whole days, churned after at-risk, and no unknown field', () => {
    expect(linesOf(`${BASE}lifecycle: { new_for_days: -1, at_risk_after_days: 0, reactivated_for_days: 1.5, dormant_after_days: 9 }\n`)).toEqual([
      `${FILE}: lifecycle.dormant_after_days: unknown field (known: new_for_days, at_risk_after_days, churned_after_days, reactivated_for_days, doc)`,
      `${FILE}: lifecycle.new_for_days: must be a whole number of days from 0 to 3660, got -1`,
      `${FILE}: lifecycle.at_risk_after_days: must be a whole number of days from 1 to 3660, got 0`,
      `${FILE}: lifecycle.churned_after_days: is required: a whole number of days from 1 to 3660`,
      `${FILE}: lifecycle.reactivated_for_days: must be a whole number of days from 0 to 3660, got 1.5`,
    ]);
    expect(linesOf(`${BASE}${LIFE.replace('churned_after_days: 180', 'churned_after_days: 60')}`)).toEqual([
      `${FILE}: lifecycle.churned_after_days: must be more than at_risk_after_days (60), got 60`,
    ]);
    expect(linesOf(`${BASE}lifecycle: yes\n`)).toEqual([`${FILE}: lifecycle: must be a mapping with new_for_days, at_risk_after_days, churned_after_days, reactivated_for_days`]);
  });

  it('rejects a dimension named lifecycle beside the lifecycle block, and accepts it without', () => {
    const named = edited(['dimensions:\n  value:', 'dimensions:\n  lifecycle:\n    tiers:\n      - { name: a, when: "true" }\n      - { name: b, when: "true" }\n  value:']);
    expect(compileText(named).dimensions.map((d) => d.name)).toEqual(['lifecycle', 'value']);
    expect(linesOf(`${named}${LIFE}`)).toEqual([`${FILE}: dimensions.lifecycle: the name 'lifecycle' belongs to the lifecycle block's dimension; rename this dimension`]);
  });
});

describe('compilePolicy: clock', () => {
  const base = { id: 'p', version: '1', currency: 'CNY', metrics: { spend: { sum: 'order.amount', window: '30d' } }, dimensions: { value: { tiers: [{ name: 'high', when: 'spend > 0' }, { name: 'low', when: 'true' }] } } };
  it('ticks idle partitions by default, and reads every and idle_after', () => {
    expect(compilePolicy(base, 'p.yaml').clock).toEqual({ wallClockTick: { everyMs: 60_000, idleAfterMs: 300_000 } });
    expect(compilePolicy({ ...base, clock: { wall_clock_tick: { every: '30s', idle_after: '2h' } } }, 'p.yaml').clock).toEqual({ wallClockTick: { everyMs: 30_000, idleAfterMs: 7_200_000 } });
  });
  it('turns the tick off', () => {
    expect(compilePolicy({ ...base, clock: { wall_clock_tick: 'off' } }, 'p.yaml').clock.wallClockTick).toBeUndefined();
    expect(compilePolicy({ ...base, clock: { wall_clock_tick: false } }, 'p.yaml').clock.wallClockTick).toBeUndefined();
  });
  it('names the field of a bad duration', () => {
    expect(() => compilePolicy({ ...base, clock: { wall_clock_tick: { every: '10ms' } } }, 'p.yaml')).toThrow(/clock\.wall_clock_tick\.every: must be a duration of at least 1s/);
    expect(() => compilePolicy({ ...base, clock: { wall_clock_tick: { often: '1m' } } }, 'p.yaml')).toThrow(/clock\.wall_clock_tick\.often: unknown field/);
  });
});
