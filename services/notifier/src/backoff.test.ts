import fc from 'fast-check';
import { backoffCeiling, backoffDelay } from './backoff';

const backoff = { initialMs: 100, maxMs: 1000 };

describe('backoffCeiling', () => {
  it('starts at initialMs and doubles per failure up to maxMs', () => {
    expect([1, 2, 3, 4, 5, 6, 50].map((n) => backoffCeiling(n, backoff))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('does not overflow for very many failures', () => {
    expect(backoffCeiling(10_000, { initialMs: 3_600_000, maxMs: 3_600_000 })).toBe(3_600_000);
  });
});

describe('backoffDelay (full jitter)', () => {
  it('is 0 when the random draw is 0 and just below the ceiling when it is just below 1', () => {
    expect(backoffDelay(3, backoff, () => 0)).toBe(0);
    expect(backoffDelay(3, backoff, () => 0.999_999)).toBe(399);
  });

  it('stays between 0 and min(maxMs, initialMs * 2^(failures-1)) for any draw', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (failures, initialMs, extra, draw) => {
          const policy = { initialMs, maxMs: initialMs + extra };
          const delay = backoffDelay(failures, policy, () => draw);
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(Math.max(1, Math.min(policy.maxMs, initialMs * 2 ** (failures - 1))));
          expect(delay).toBeLessThanOrEqual(policy.maxMs);
        },
      ),
    );
  });

  it('spreads delays over the whole range (uniform: mean near half the ceiling)', () => {
    const samples = Array.from({ length: 4000 }, () => backoffDelay(4, backoff));
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    expect(Math.min(...samples)).toBeLessThan(80);
    expect(Math.max(...samples)).toBeGreaterThan(720);
    expect(mean).toBeGreaterThan(0.4 * 800);
    expect(mean).toBeLessThan(0.6 * 800);
  });

  it("uses the receiver's Retry-After instead, capped at maxMs", () => {
    expect(backoffDelay(1, backoff, () => 0, 700)).toBe(700);
    expect(backoffDelay(1, backoff, () => 0, 120_000)).toBe(1000);
    expect(backoffDelay(1, backoff, () => 0, 0)).toBe(0);
  });
});
