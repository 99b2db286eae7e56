import { compileCelRule, CelRuleError } from './cel-rule';

function celError(fn: () => unknown): CelRuleError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CelRuleError) return err;
    throw err;
  }
  throw new Error('expected a CelRuleError, nothing was thrown');
}

describe('compileCelRule: identifiers', () => {
  it('lists every identifier once, sorted', () => {
    expect(compileCelRule('spend_90d >= 100 && (orders_90d > 2 || spend_90d > 5000)').identifiers).toEqual(['orders_90d', 'spend_90d']);
  });

  it('lists none for a literal', () => {
    expect(compileCelRule('true').identifiers).toEqual([]);
  });

  it('excludes the variables comprehensions bind (exists, all, map, filter)', () => {
    expect(compileCelRule('[1.0, 2.0].exists(x, x > spend)').identifiers).toEqual(['spend']);
    expect(compileCelRule('[a, b].all(v, v >= 1.0)').identifiers).toEqual(['a', 'b']);
    expect(compileCelRule('[a].map(m, m * 2.0).filter(y, y > c).size() > 0').identifiers).toEqual(['a', 'c']);
    expect(compileCelRule('[1, 2].exists_one(i, i == 1)').identifiers).toEqual([]);
  });

  // BUG: bound names are removed from the whole expression instead of only inside the
  // comprehension, so a metric that shares its name with a comprehension variable is dropped
  // from `identifiers` where it is read outside it. compilePolicy then cannot report it as
  // unknown, and the explanation omits it.
  it.failing('keeps an identifier read outside a comprehension that reuses its name', () => {
    expect(compileCelRule('spend > 0.0 && [1.0].all(spend, spend > 0.0)').identifiers).toEqual(['spend']);
  });
});

describe('compileCelRule: evaluation', () => {
  it('evaluates against numeric variables (CEL doubles) and keeps its source', () => {
    const rule = compileCelRule('spend >= 1000000 && orders == 0');
    expect(rule.source).toBe('spend >= 1000000 && orders == 0');
    expect(rule.evaluate({ spend: 1_000_000, orders: 0 })).toBe(true);
    expect(rule.evaluate({ spend: 999_999.99, orders: 0 })).toBe(false);
    expect(rule.evaluate({ spend: 2_000_000, orders: 1 })).toBe(false);
  });

  it('compares doubles with integer literals, but arithmetic needs double literals', () => {
    expect(compileCelRule('x > 0.3').evaluate({ x: 0.31 })).toBe(true);
    expect(compileCelRule('x == 3').evaluate({ x: 3 })).toBe(true);
    expect(compileCelRule('x * 2.0 > 5').evaluate({ x: 3 })).toBe(true);
    expect(celError(() => compileCelRule('x * 2 > 5').evaluate({ x: 3 })).message).toBe(
      "'x * 2 > 5' failed: found no matching overload for '_*_' applied to '(double, int)'",
    );
  });

  it('raises CelRuleError when the result is not a boolean', () => {
    const err = celError(() => compileCelRule('spend + 1.0').evaluate({ spend: 1 }));
    expect(err.message).toBe("'spend + 1.0' must be true or false, got 2");
    expect(celError(() => compileCelRule('"gold"').evaluate({})).message).toBe(`'"gold"' must be true or false, got gold`);
  });

  it('raises CelRuleError for a variable that is not given', () => {
    expect(celError(() => compileCelRule('missing > 0').evaluate({ other: 1 })).message).toMatch(/^'missing > 0' failed: /);
  });

  it('raises CelRuleError, not a crash, for a non-CEL source', () => {
    expect(celError(() => compileCelRule('spend >= >= 1')).message).toMatch(/^not a CEL expression: <input>:1:\d+: /);
    expect(celError(() => compileCelRule('')).message).toMatch(/^not a CEL expression: /);
    // The message keeps only the parser's first line.
    expect(celError(() => compileCelRule('a &&')).message).not.toContain('\n');
  });
});

describe('compileCelRule: thresholds (lower bounds of a conjunction, for forward signals)', () => {
  it('reads a conjunction of >= and > comparisons, with the variable on either side', () => {
    expect(compileCelRule('spend_365d >= 500000 && orders_365d > 5 && 80.5 <= score && 2 < rfm_f').thresholds).toEqual([
      { variable: 'spend_365d', value: 500_000, strict: false },
      { variable: 'orders_365d', value: 5, strict: true },
      { variable: 'score', value: 80.5, strict: false },
      { variable: 'rfm_f', value: 2, strict: true },
    ]);
  });

  it('reads a single comparison and negative numbers', () => {
    expect(compileCelRule('points >= -5').thresholds).toEqual([{ variable: 'points', value: -5, strict: false }]);
    expect(compileCelRule('points > -(5.5)').thresholds).toEqual([{ variable: 'points', value: -5.5, strict: true }]);
  });

  it.each([
    ['true'],
    ['spend >= 1 || orders >= 2'],
    ['spend <= 100'],
    ['spend >= orders'],
    ['spend * 2.0 >= 100.0'],
    ['!(spend >= 1)'],
    ['spend >= 1 && orders == 2'],
  ])('gives none for anything else: %s', (source) => {
    expect(compileCelRule(source).thresholds).toBeUndefined();
  });
});
