import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { compilePolicy } from '../policy/compile-policy';
import type { Policy, RfmAxis } from '../policy/policy-model';
import { evaluatePolicy, rfmScore } from './evaluate-policy';

const DEFAULT = compilePolicy(parse(readFileSync(path.join(__dirname, '../../../../policies/default.yaml'), 'utf8')), 'policies/default.yaml');
const policyOf = (yaml: string): Policy => compilePolicy(parse(yaml), 'test.yaml');

/** Every metric of the default policy at 0 except the ones given. */
function metrics(values: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of DEFAULT.metrics) out[m.name] = 0;
  return { ...out, recency_days: 99_999, ...values };
}
const tiersOf = (policy: Policy, values: Record<string, number>): Record<string, string> =>
  Object.fromEntries(evaluatePolicy(policy, values).decisions.map((d) => [d.dimension, d.tier]));

describe('rfmScore', () => {
  const higher: RfmAxis = { metric: 'orders', cuts: [2, 4, 8, 16], lowerIsBetter: false };
  const lower: RfmAxis = { metric: 'recency', cuts: [30, 60, 120, 240], lowerIsBetter: true };

  it.each([
    [0, 1], [1.99, 1], [2, 2], [3, 2], [4, 3], [7, 3], [8, 4], [15, 4], [16, 5], [1e9, 5],
  ])('higher is better: %p scores %p (a cut-off reached counts)', (value, score) => {
    expect(rfmScore(value, higher)).toBe(score);
  });

  it.each([
    [0, 5], [30, 5], [31, 4], [60, 4], [61, 3], [120, 3], [121, 2], [240, 2], [241, 1], [99_999, 1],
  ])('lower is better: %p days scores %p (at or below a cut-off counts)', (value, score) => {
    expect(rfmScore(value, lower)).toBe(score);
  });

  it('scores the default policy axes', () => {
    const rfm = DEFAULT.scoring.rfm;
    if (!rfm) throw new Error('the default policy has RFM');
    expect([0, 49_999, 50_000, 150_000, 400_000, 999_999, 1_000_000].map((v) => rfmScore(v, rfm.monetary))).toEqual([1, 1, 2, 3, 4, 4, 5]);
    expect([0, 1, 2, 4, 8, 16].map((v) => rfmScore(v, rfm.frequency))).toEqual([1, 1, 2, 3, 4, 5]);
  });
});

describe('evaluatePolicy: scoring', () => {
  it('adds rfm_r/rfm_f/rfm_m, weights and points to the variables', () => {
    const e = evaluatePolicy(DEFAULT, metrics({ recency_days: 10, orders_365d: 8, spend_365d: 400_000 }));
    expect(e.variables).toMatchObject({ rfm_r: 5, rfm_f: 4, rfm_m: 4, points: 0, score: 5 * 5 + 6 * 4 + 9 * 4 });
    expect(e.score).toBe(85);
  });

  it('scores 20 for a customer who never bought (every axis at 1)', () => {
    expect(evaluatePolicy(DEFAULT, metrics({})).score).toBe(20);
  });

  it('adds the points of every rule that holds, negative ones too', () => {
    const e = evaluatePolicy(
      DEFAULT,
      metrics({ recency_days: 10, orders_365d: 8, spend_365d: 400_000, complaints_90d: 1, refund_rate_90d: 0.5, satisfaction: 4, orders_90d: 1 }),
    );
    expect(e.variables['points']).toBe(-10 - 15 + 5);
    expect(e.score).toBe(85 - 20);
  });

  it('rounds the score to two decimals; weights may apply to metrics', () => {
    const policy = policyOf(`
id: w
version: "1"
currency: CNY
metrics:
  spend: { sum: order.amount }
  visits: { count: VISIT }
scoring:
  weights: { spend: 0.001, visits: 0.3333 }
  points:
    - { when: "visits >= 3", points: 1.5 }
dimensions:
  d:
    tiers:
      - { name: top, when: "score > 10" }
      - { name: rest, when: "true" }
`);
    const e = evaluatePolicy(policy, { spend: 12_345, visits: 3 });
    expect(e.variables).toMatchObject({ rfm_r: 0, rfm_f: 0, rfm_m: 0, points: 1.5 });
    expect(e.score).toBe(Math.round((1.5 + 12.345 + 0.9999) * 100) / 100);
    expect(e.score).toBe(14.84);
    expect(tiersOf(policy, { spend: 12_345, visits: 3 })).toEqual({ d: 'top' });
  });
});

describe('evaluatePolicy: tiers', () => {
  it('picks the first tier whose rule holds, best first', () => {
    const top = metrics({ recency_days: 3, orders_365d: 20, orders_90d: 6, spend_365d: 1_200_000 });
    expect(tiersOf(DEFAULT, top)).toEqual({ value: 'vip', rfm_segment: 'champions', membership: 'gold', potential: 'none' });
    // spend alone is not vip: score must also reach 80 (r=1, f=1, m=5 gives 56).
    expect(tiersOf(DEFAULT, metrics({ spend_365d: 1_200_000, orders_365d: 1 }))['value']).toBe('high');
  });

  it('walks down the value bands at their thresholds', () => {
    const value = (spend: number) => tiersOf(DEFAULT, metrics({ spend_365d: spend }))['value'];
    expect([0, 49_999, 50_000, 299_999, 300_000].map(value)).toEqual(['low', 'low', 'mid', 'mid', 'high']);
  });

  it('reports the rank of the tier and the inputs of the rules checked up to it', () => {
    const d = evaluatePolicy(DEFAULT, metrics({ spend_365d: 60_000 })).decisions.find((x) => x.dimension === 'value');
    expect(d).toMatchObject({ dimension: 'value', tier: 'mid', rank: 2 });
    expect(d?.rule.ruleId).toBe('value.mid');
    expect(d?.inputs).toEqual({ score: 20 + 9, spend_365d: 60_000 });
  });

  it('finds potential customers: interactions without orders this year', () => {
    expect(tiersOf(DEFAULT, metrics({ interactions_90d: 3 }))['potential']).toBe('potential');
    expect(tiersOf(DEFAULT, metrics({ interactions_90d: 1 }))['potential']).toBe('engaged');
    expect(tiersOf(DEFAULT, metrics({ interactions_90d: 5, orders_365d: 1 }))['potential']).toBe('none');
  });

  it('segments by RFM in rule order (loyal before at_risk, new before hibernating)', () => {
    const seg = (r: number, f: number, m: number) => tiersOf(DEFAULT, metrics({ recency_days: r, orders_365d: f, spend_365d: m }))['rfm_segment'];
    expect(seg(10, 8, 0)).toBe('loyal');
    expect(seg(200, 8, 0)).toBe('at_risk');
    expect(seg(200, 8, 500_000)).toBe('big_spender');
    expect(seg(10, 0, 0)).toBe('new');
    expect(seg(200, 0, 0)).toBe('hibernating');
    expect(seg(90, 2, 0)).toBe('regular');
  });

  it('grants membership levels on yearly spend and order count together', () => {
    const level = (spend: number, orders: number) => tiersOf(DEFAULT, metrics({ spend_365d: spend, orders_365d: orders }))['membership'];
    expect(level(500_000, 6)).toBe('gold');
    expect(level(500_000, 5)).toBe('silver');
    expect(level(100_000, 3)).toBe('silver');
    expect(level(100_000, 2)).toBe('normal');
  });
});
