import { currencyExponent, ISO_4217_LIST_DATE, knownCurrencies, NO_MINOR_UNIT } from './currency';

describe('currencyExponent', () => {
  it.each([
    ['JPY', 0],
    ['KRW', 0],
    ['ISK', 0],
    ['CNY', 2],
    ['USD', 2],
    ['EUR', 2],
    ['GBP', 2],
    ['BHD', 3],
    ['KWD', 3],
    ['JOD', 3],
    ['TND', 3],
    ['CLF', 4],
    ['UYW', 4],
  ])('gives %s the ISO-4217 exponent %d', (code, exponent) => {
    expect(currencyExponent(code)).toBe(exponent);
  });

  it.each(['XYZ', 'RMB', 'usd', 'US', 'USDD', ''])('does not know %j', (code) => {
    expect(currencyExponent(code)).toBeUndefined();
  });

  it.each([...NO_MINOR_UNIT])('refuses %s, which has no minor unit in ISO-4217', (code) => {
    expect(currencyExponent(code)).toBeUndefined();
  });

  it('knows about 150 currencies, each a three-letter code with an exponent of 0 to 4', () => {
    const codes = knownCurrencies();
    expect(codes.length).toBeGreaterThan(150);
    for (const code of codes) {
      expect(code).toMatch(/^[A-Z]{3}$/);
      expect([0, 2, 3, 4]).toContain(currencyExponent(code));
    }
  });

  it('names the date of the shipped ISO-4217 list', () => {
    expect(ISO_4217_LIST_DATE).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});
