import fc from 'fast-check';
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

describe('compileCelRule: the native path of literals and comparisons under &&, || and !', () => {
  // `(<expr>) == true` is not such an expression, so it is always evaluated by CEL.
  const byCel = (source: string) => compileCelRule(`(${source}) == true`);
  const value = fc.oneof(fc.double(), fc.integer({ min: -1000, max: 1000 }), fc.constantFrom(0, -0, 3, 300_000, 2.5));
  const literal = fc.oneof(fc.integer({ min: -1000, max: 300_000 }).map(String), fc.constantFrom('2.5', '-3.0', '0.0', '3'));
  const comparison = fc
    .record({ variable: fc.constantFrom('a', 'b', 'c'), op: fc.constantFrom('>=', '>', '<=', '<', '==', '!='), literal, flipped: fc.boolean() })
    .map((c) => (c.flipped ? `${c.literal} ${c.op} ${c.variable}` : `${c.variable} ${c.op} ${c.literal}`));
  const expression: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
    e: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      comparison,
      fc.constantFrom('true', 'false', 'a >= b'),
      fc.tuple(tie('e'), fc.constantFrom('&&', '||'), tie('e')).map(([l, op, r]) => `(${l}) ${op} (${r})`),
      tie('e').map((e) => `!(${e})`),
    ),
  })).e;

  it('answers as CEL does for any numbers, NaN, infinities and -0 included', () => {
    fc.assert(
      fc.property(expression, fc.record({ a: value, b: value, c: value }), (source, vars) => {
        expect(compileCelRule(source).evaluate(vars)).toBe(byCel(source).evaluate(vars));
      }),
      { numRuns: 3000 },
    );
  });

  it('answers as CEL does for conjunctions of lower bounds, the shape forward signals read', () => {
    const bound = fc.record({ variable: fc.constantFrom('a', 'b'), strict: fc.boolean(), literal, flipped: fc.boolean() });
    fc.assert(
      fc.property(fc.array(bound, { minLength: 1, maxLength: 4 }), fc.record({ a: value, b: value }), (bounds, vars) => {
        const source = bounds.map((b) => (b.flipped ? `${b.literal} ${b.strict ? '<' : '<='} ${b.variable}` : `${b.variable} ${b.strict ? '>' : '>='} ${b.literal}`)).join(' && ');
        const rule = compileCelRule(source);
        expect(rule.thresholds).toBeDefined();
        expect(rule.evaluate(vars)).toBe(byCel(source).evaluate(vars));
      }),
    );
  });

  it('falls back to CEL, and its error, for a variable that is missing or not a number', () => {
    expect(celError(() => compileCelRule('a >= 1 && b > 2').evaluate({ a: 3 })).message).toMatch(/^'a >= 1 && b > 2' failed: /);
    expect(compileCelRule('a == "x" || b > 2').evaluate({ a: 'x', b: 0 })).toBe(true);
    expect(compileCelRule('true').evaluate({})).toBe(true);
    expect(compileCelRule('false').evaluate({})).toBe(false);
  });
});
