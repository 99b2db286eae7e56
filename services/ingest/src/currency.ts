import { data as iso4217, publishDate } from 'currency-codes';

/**
 * ISO-4217 codes whose minor unit the standard gives as "N.A.": precious metals, bond-market
 * units, SDR, the Sucre, the ADB unit, and the test and no-currency codes. They are not money
 * a customer pays in; the `currency-codes` table lists them with 0 digits, so they are
 * excluded here by name.
 */
export const NO_MINOR_UNIT = new Set(['XAG', 'XAU', 'XBA', 'XBB', 'XBC', 'XBD', 'XDR', 'XPD', 'XPT', 'XSU', 'XTS', 'XUA', 'XXX']);

const EXPONENTS: ReadonlyMap<string, number> = new Map(
  iso4217.filter((c) => !NO_MINOR_UNIT.has(c.code) && Number.isInteger(c.digits)).map((c) => [c.code, c.digits] as const),
);

/** The date of the ISO-4217 list shipped by `currency-codes`, for messages and docs. */
export const ISO_4217_LIST_DATE: string = publishDate;

/**
 * The ISO-4217 exponent of a currency (digits after the decimal point: JPY 0, USD 2,
 * BHD 3, CLF 4), or undefined when the code is not a currency with a minor unit.
 * `code` must already be upper case.
 */
export function currencyExponent(code: string): number | undefined {
  return EXPONENTS.get(code);
}

/** Every currency code ingest accepts. */
export function knownCurrencies(): readonly string[] {
  return [...EXPONENTS.keys()];
}
